"""Meta-tests: the backend contract is written once. Every hook is named, typed and documented
in ``confo.hookspecs.Backend``, which is both the specification pluggy reads and the base class;
the required hooks are its abstract methods, and the guide's table says the same."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from confo.hookspecs import HOOKS, REQUIRED_HOOKS, Backend
from confo.plugins import plugin_manager
from confo_file import FileBackend

SPECS = {name: getattr(Backend, name) for name in sorted(HOOKS)}
# Hooks for wrapper plugins only; a backend has no use for them.
BACKEND_HOOKS = sorted(set(SPECS) - {"confo_validate"})
GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()


def test_the_card_hooks_exist() -> None:
    for hook in ("confo_connect", "confo_list_namespaces", "confo_read", "confo_write"):
        assert hook in SPECS


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_is_a_typed_and_documented_spec(name: str) -> None:
    function = SPECS[name]
    assert hasattr(function, "confo_spec")  # pluggy reads it as a hook specification
    signature = inspect.signature(function)
    assert signature.return_annotation is not inspect.Signature.empty
    for parameter in list(signature.parameters.values())[1:]:
        assert parameter.annotation is not inspect.Parameter.empty, parameter
    doc = inspect.getdoc(function) or ""
    assert len(doc) > 40
    assert ":raises" in doc or name in ("confo_close", "confo_capabilities"), name


def test_required_hooks_are_the_abstract_methods() -> None:
    assert set(REQUIRED_HOOKS) == set(Backend.__abstractmethods__)
    assert {"confo_connect", "confo_read", "confo_write", "confo_close"} <= set(REQUIRED_HOOKS)


def test_the_guide_lists_every_hook_as_required_or_optional() -> None:
    """docs/plugins.md has one row per hook; its second column says required or optional, and
    that must agree with the abstract methods (the one place the rule is written)."""
    rows = dict(
        re.findall(r"^\| `(confo_\w+)\(.*?\)` \| (required|optional|wrappers)", GUIDE, re.M)
    )
    assert set(rows) == set(SPECS)
    for name, kind in rows.items():
        assert (kind == "required") == (name in REQUIRED_HOOKS), name


def test_a_hook_a_subclass_does_not_override_is_not_implemented() -> None:
    """A backend without confo_watch must not claim to watch: the base class's own (empty)
    method is the specification, never registered as an implementation."""
    pm, _ = plugin_manager(FileBackend(), "file", [])
    implemented = {caller.name for caller in pm.get_hookcallers(pm.get_plugins().pop()) or ()}
    assert "confo_validate" not in implemented
    assert set(REQUIRED_HOOKS) <= implemented


@pytest.mark.parametrize("name", BACKEND_HOOKS)
def test_file_backend_implements_every_hook(name: str) -> None:
    assert getattr(FileBackend, name) is not getattr(Backend, name)
    spec = inspect.signature(SPECS[name])
    implementation = inspect.signature(getattr(FileBackend, name))
    assert list(implementation.parameters) == list(spec.parameters)
