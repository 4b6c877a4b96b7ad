"""Meta-tests: every hook is named, typed and documented; confo.Backend declares every backend
hook with the spec's signature, and the file backend implements each."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from confo import hookspecs
from confo.backend import REQUIRED_HOOKS, Backend
from confo_file import FileBackend

SPECS = {
    name: function
    for name, function in vars(hookspecs).items()
    if inspect.isfunction(function) and hasattr(function, "confo_spec")
}
# Hooks for wrapper plugins only; a backend has no use for them.
BACKEND_HOOKS = sorted(set(SPECS) - {"confo_validate"})
GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()


def test_the_card_hooks_exist() -> None:
    for hook in ("confo_connect", "confo_list_namespaces", "confo_read", "confo_write"):
        assert hook in SPECS


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_is_typed_and_documented(name: str) -> None:
    function = SPECS[name]
    assert name.startswith("confo_")
    signature = inspect.signature(function)
    assert signature.return_annotation is not inspect.Signature.empty
    for parameter in signature.parameters.values():
        assert parameter.annotation is not inspect.Parameter.empty, parameter
    doc = inspect.getdoc(function) or ""
    assert len(doc) > 40
    assert f"`{name}(" in GUIDE, f"{name} is missing from docs/plugins.md"


@pytest.mark.parametrize("name", BACKEND_HOOKS)
def test_base_class_declares_the_hook_as_specified(name: str) -> None:
    spec = inspect.signature(SPECS[name])
    source = inspect.getsource(Backend)
    assert f"def {name}(" in source  # optional hooks are declared for mypy only
    if name in REQUIRED_HOOKS:
        declared = inspect.signature(getattr(Backend, name))
        assert list(declared.parameters)[1:] == list(spec.parameters)
        assert name in Backend.__abstractmethods__
    else:
        assert not hasattr(Backend, name)  # else every subclass would claim to implement it


@pytest.mark.parametrize("name", BACKEND_HOOKS)
def test_file_backend_implements_every_hook(name: str) -> None:
    assert hasattr(FileBackend, name)
    spec = inspect.signature(SPECS[name])
    implementation = inspect.signature(getattr(FileBackend, name))
    assert list(implementation.parameters)[1:] == list(spec.parameters)
