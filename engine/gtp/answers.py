"""What a GTP handler may answer besides plain text: a failure (`? message`) or a streamed answer.

A handler returns the answer text, raises GtpFailure for `? message`, returns a Streaming (the loop
writes `=id`, then the body prints lines on its own thread until the next input line stops it) or
returns STREAMED when it wrote its whole answer itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from engine.errors import TengenError


class GtpFailure(TengenError):
    """A `? message` answer; the message is one line."""


class Streaming:
    """An answer that keeps printing on a thread of its own until stop() (GUI analysis)."""

    def __init__(self, body: Callable[[threading.Event], None]) -> None:
        self.body = body
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts the body on a daemon thread; it must return soon after its event is set."""
        self._thread = threading.Thread(target=self.body, args=(self._stop,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Sets the body's stop event and waits for it to return."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


STREAMED = object()  # a handler's answer meaning "the whole answer is already written"
