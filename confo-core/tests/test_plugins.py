"""Broken plugins fail at load_backend with a PluginError that names the fix; wrappers load by
name from entry points; a validating plugin refuses a value at set()."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from confo import Confo, hookimpl
from confo.errors import InvalidValueError, PluginError


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {"config_path": str(tmp_path)}


def load(credentials: dict[str, str], *plugins: object) -> Confo:
    manager = Confo(shared=False)
    manager.load_backend(credentials, "files", "file", plugins=plugins)
    manager.activate_backend("files")
    return manager


class Audit:
    @hookimpl(wrapper=True)
    def confo_write(self, namespace: str, changes: Any) -> Any:
        return (yield)


def test_a_class_where_an_instance_belongs(files: dict[str, str]) -> None:
    with pytest.raises(PluginError, match=r"holds the class Audit.*pass Audit\(\)"):
        load(files, Audit)


def test_a_wrapper_whose_hooks_lack_the_marker(files: dict[str, str]) -> None:
    class Unmarked:
        def confo_write(self, namespace: str, changes: Any) -> Any:
            return (yield)

    with pytest.raises(PluginError, match=r"confo_write lack the @confo\.hookimpl"):
        load(files, Unmarked())


def test_a_wrapper_with_no_hook_at_all(files: dict[str, str]) -> None:
    with pytest.raises(PluginError, match="implements no Confo hook"):
        load(files, object())


def test_a_misspelled_hook(files: dict[str, str]) -> None:
    class Typo:
        @hookimpl(wrapper=True)
        def confo_wirte(self, namespace: str, changes: Any) -> Any:
            return (yield)

    with pytest.raises(PluginError, match="confo_wirte"):
        load(files, Typo())


def test_a_good_wrapper_loads(files: dict[str, str]) -> None:
    with load(files, Audit()) as manager:
        assert manager.get_backends()["active_backend"] == "files"


class NoSecrets:
    """Refuses a configuration holding a field named ``password``."""

    @hookimpl
    def confo_validate(self, namespace: str, config: str, values: dict[str, Any]) -> None:
        if "password" in values:
            raise InvalidValueError(f"{config!r} in {namespace!r} holds a plain password")


def test_validation_refuses_at_set_and_keeps_what_was_held(files: dict[str, str]) -> None:
    with load(files, NoSecrets()) as manager:
        manager.create_namespace("app")
        manager.use_namespace("app")
        manager.set("db", {"user": "app"})
        with pytest.raises(InvalidValueError, match="'db' in 'app' holds a plain password"):
            manager.set("db", "password", "hunter2")
        with pytest.raises(InvalidValueError):
            manager.set("other", {"password": "x"})
        assert manager.get_all() == {"db": {"user": "app"}}
        manager.persist()  # not poisoned by the refused values
        with pytest.raises(InvalidValueError):
            manager.update("db", lambda old: {**old, "password": "x"})
        with pytest.raises(InvalidValueError):
            manager.write("app", {"new": {"password": "x"}})
        manager.reload()
        assert manager.get_all() == {"db": {"user": "app"}}


def test_validation_sees_a_field_deleted(files: dict[str, str]) -> None:
    class NeedsUser:
        @hookimpl
        def confo_validate(self, namespace: str, config: str, values: dict[str, Any]) -> None:
            if "user" not in values:
                raise InvalidValueError(f"{config!r} needs a user")

    with load(files, NeedsUser()) as manager:
        manager.create_namespace("app")
        manager.use_namespace("app")
        manager.set("db", {"user": "app", "port": 1})
        with pytest.raises(InvalidValueError, match="'db' needs a user"):
            manager.delete("db", "user")
        manager.delete("db", "port")
        assert manager.get("db") == {"user": "app"}


# --- entry points: backends and wrappers from installed distributions -------------------------

INCOMPLETE = """
from confo import Backend


class Incomplete(Backend):  # no confo_write, no confo_close
    def confo_connect(self, credentials, timeout): pass
    def confo_list_namespaces(self): return []
    def confo_create_namespace(self, namespace): pass
    def confo_delete_namespace(self, namespace): pass
    def confo_read(self, namespace, names): pass


class Unmarked:  # a plain class, its hooks without @hookimpl
    def confo_connect(self, credentials, timeout): pass
    def confo_list_namespaces(self): return []
    def confo_create_namespace(self, namespace): pass
    def confo_delete_namespace(self, namespace): pass
    def confo_read(self, namespace, names): pass
    def confo_write(self, namespace, changes): pass
    def confo_close(self): pass


class NeedsArguments(Unmarked):
    def __init__(self, path):
        self.path = path


class Shouting:  # a wrapper plugin registered under confo.plugins
    from confo import hookimpl

    @hookimpl
    def confo_validate(self, namespace, config, values):
        from confo.errors import InvalidValueError
        if any(isinstance(v, str) and v.isupper() for v in values.values()):
            raise InvalidValueError(f"{config!r}: no shouting")
"""

LOAD = """
import sys
from confo import Confo
backend_type, plugins = sys.argv[1], sys.argv[2:]
try:
    manager = Confo(shared=False)
    manager.load_backend({"config_path": sys.argv[0]}, "b", backend_type, plugins=plugins)
    manager.activate_backend("b")
    manager.create_namespace("app")
    manager.use_namespace("app")
    manager.set("greeting", "text", "HELLO")
    print("loaded")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    info = site / "confo_examples-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "confo_examples.py").write_text(textwrap.dedent(INCOMPLETE))
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: confo-examples\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[confo.backends]\n"
        "incomplete = confo_examples:Incomplete\n"
        "unmarked = confo_examples:Unmarked\n"
        "needs_arguments = confo_examples:NeedsArguments\n"
        "[confo.plugins]\n"
        "no-shouting = confo_examples:Shouting\n"
    )
    return site


def run(site: Path, *argv: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = LOAD.replace("sys.argv[0]", repr(str(site)))
    result = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_backend_missing_required_hooks(site: Path) -> None:
    message = run(site, "incomplete")
    assert message.startswith("PluginError")
    assert "Incomplete does not implement the required hooks confo_close, confo_write" in message


def test_a_plain_backend_whose_hooks_lack_the_marker(site: Path) -> None:
    message = run(site, "unmarked")
    assert message.startswith("PluginError")
    assert "lack the @confo.hookimpl marker, or subclass confo.Backend" in message


def test_a_backend_that_needs_arguments(site: Path) -> None:
    message = run(site, "needs_arguments")
    assert message.startswith("PluginError")
    assert "cannot be created with no arguments" in message


def test_a_wrapper_loaded_by_name(site: Path) -> None:
    assert run(site, "file") == "loaded"
    assert run(site, "file", "no-shouting") == "InvalidValueError 'greeting': no shouting"
    message = run(site, "file", "no-such-wrapper")
    assert message.startswith("PluginError")
    assert "'no-such-wrapper' (installed wrappers: no-shouting)" in message
