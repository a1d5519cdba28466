"""Shared pytest fixtures. `gnugo` gives the GnuGo binary's path and fails the test loudly when
GnuGo is missing: tests that need a referee must never pass by being skipped."""

from __future__ import annotations

import signal

import pytest

from engine.gtp_client import find_gnugo


def require_gnugo() -> str:
    """Path of the GnuGo binary; fails the calling test (never skips) when it is not installed."""
    path = find_gnugo()
    if path is None:
        pytest.fail(
            "GnuGo 3.8 is required by this test and was not found at /usr/games/gnugo, /usr/bin/gnugo, "
            "/usr/local/bin/gnugo or on PATH; install it (apt-get install gnugo).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def gnugo() -> str:
    """Path of the GnuGo binary (see require_gnugo)."""
    return require_gnugo()


@pytest.fixture(autouse=True, scope="session")
def ctrl_c_raises_keyboard_interrupt() -> None:
    """Ctrl-C as in a terminal: a test suite started in the background (`nohup ... &`) inherits
    SIGINT ignored, and the Ctrl-C tests would then wait for an interrupt that never comes."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
