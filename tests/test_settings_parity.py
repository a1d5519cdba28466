"""The search settings are written once in C++ (csrc/search/search_config.h) and mirrored by
engine.search.SearchSettings and the engine/_core.pyi stub: these tests keep the three equal
(names, order, groups and defaults)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np

from engine import _core
from engine.search import SearchSettings

STUB = Path(__file__).resolve().parents[1] / "engine" / "_core.pyi"


def python_fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(SearchSettings))


def test_python_settings_have_exactly_the_cpp_fields_in_order() -> None:
    cpp = list(_core.SearchConfig.field_defaults())
    assert [f.name for f in python_fields()] == cpp


def test_selfplay_settings_are_grouped_last_in_both() -> None:
    selfplay = _core.SearchConfig.selfplay_fields()
    assert "temperature" in selfplay and "resign_threshold" in selfplay and "visits" not in selfplay
    assert list(_core.SearchConfig.field_defaults())[-len(selfplay):] == selfplay
    assert [f.name for f in python_fields()][-len(selfplay):] == selfplay


def test_defaults_are_equal() -> None:
    cpp = _core.SearchConfig.field_defaults()
    for f in python_fields():
        ours, theirs = f.default, cpp[f.name]
        assert type(ours) is type(theirs), f"{f.name}: {type(ours).__name__} vs {type(theirs).__name__}"
        if isinstance(ours, float):
            # C++ stores float32: compare at that precision.
            assert np.float32(ours) == np.float32(theirs), f"{f.name}: {ours} vs {theirs}"
        else:
            assert ours == theirs, f"{f.name}: {ours!r} vs {theirs!r}"


def test_field_defaults_match_a_fresh_core_config() -> None:
    fresh = _core.SearchConfig()
    for name, default in _core.SearchConfig.field_defaults().items():
        assert getattr(fresh, name) == default, name


def test_to_core_copies_every_field() -> None:
    changed = SearchSettings(
        visits=17, leaves_per_game=3, batch_size=9, c_puct=2.25, c_puct_base=19.5, fpu_reduction=0.5,
        virtual_loss=1.5, policy="heuristic", use_value=False, use_rollouts=True, lambda_=0.75, rollout_threads=2,
        features="raw", random_symmetry=False, gumbel=True, gumbel_considered=5, reuse_tree=False, cache_size=7,
        seed=99, root_noise=True, dirichlet_alpha=0.5, dirichlet_epsilon=0.5, temperature_moves=4, temperature=0.5,
        resign_threshold=-0.75, no_resign_fraction=0.25, max_moves=31, full_search_prob=0.5, fast_visits=3,
    )
    core = changed.to_core()
    defaults = SearchSettings()
    for f in python_fields():
        value = getattr(changed, f.name)
        assert value != getattr(defaults, f.name), f"the test should change {f.name}"
        assert getattr(core, f.name) == value, f.name


def test_stub_lists_the_fields_in_order() -> None:
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SearchConfig"]
    assert len(classes) == 1
    names = [
        n.target.id for n in classes[0].body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    ]
    assert names == list(_core.SearchConfig.field_defaults())
    methods = {n.name for n in classes[0].body if isinstance(n, ast.FunctionDef)}
    assert {"field_defaults", "selfplay_fields"} <= methods


def test_policy_names_come_from_the_core() -> None:
    """SearchSettings accepts exactly the tree-prior modes the C++ SearchConfig parses."""
    from engine import _core
    from engine.search import POLICIES

    assert POLICIES == _core.POLICY_MODES
    for mode in POLICIES:
        cfg = _core.SearchConfig()
        cfg.policy = mode
        assert cfg.policy == mode
