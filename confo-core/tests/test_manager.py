"""The manager's own rules, on the file backend (the store is a real folder)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from confo import Changes, Confo, hookimpl
from confo.errors import (
    BackendExistsError,
    BackendNotFoundException,
    BackendsActivationException,
    ConfoError,
    CredentialsError,
    InvalidNameError,
    InvalidValueError,
    NamespaceNotFoundError,
    PluginError,
)
from confo.Exceptions import (
    BackendsActivationException as SeedActivation,
)
from confo.Exceptions import (
    FileNotFoundException,
    NamespaceExistsException,
    NamespaceNotLoadedException,
    ZookeeperHostNotFoundException,
    ZookeeperPortNotFoundException,
)


def in_namespace(folder: Path, *plugins: object) -> Confo:
    """A manager on the file backend in ``folder``, namespace "ns" in use; close it when done."""
    manager = Confo(shared=False)
    manager.load_backend({"config_path": str(folder)}, "files", "file", plugins=plugins)
    manager.activate_backend("files")
    manager.create_namespace("ns")
    manager.use_namespace("ns")
    return manager


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Confo]:
    with in_namespace(tmp_path) as manager:
        yield manager


@pytest.fixture
def shared() -> Iterator[Confo]:
    yield Confo()
    Confo().close()


def test_confo_is_shared_and_independent_on_request(shared: Confo, tmp_path: Path) -> None:
    second = Confo()
    assert second is shared
    shared.load_backend({"config_path": str(tmp_path)}, "first", "file")
    second.load_backend({"config_path": str(tmp_path)}, "second", "file")
    assert shared.get_backends() == {"all_backends": ["second", "first"], "active_backend": None}
    independent = Confo(shared=False)
    assert independent is not shared
    assert independent.get_backends() == {"all_backends": [], "active_backend": None}


def test_seed_exception_names_share_one_base() -> None:
    for error in (
        SeedActivation,
        BackendNotFoundException,
        NamespaceNotLoadedException,
        NamespaceExistsException,
        FileNotFoundException,
        ZookeeperHostNotFoundException,
        ZookeeperPortNotFoundException,
    ):
        assert issubclass(error, ConfoError)
    assert issubclass(BackendNotFoundException, KeyError)
    assert issubclass(FileNotFoundException, FileNotFoundError)
    assert str(BackendNotFoundException("plain message")) == "plain message"  # not KeyError's repr


def test_backend_names_are_unique(manager: Confo, tmp_path: Path) -> None:
    with pytest.raises(BackendExistsError, match="'files'"):
        manager.load_backend({"config_path": str(tmp_path)}, "files", "file")
    manager.set("db", {"still": "works"})
    assert manager.get("db") == {"still": "works"}


def test_activate_unknown_backend(manager: Confo) -> None:
    with pytest.raises(BackendNotFoundException, match=r"'nope'.*'files'"):
        manager.activate_backend("nope")
    assert manager.get_backends()["active_backend"] == "files"


def test_bad_backend_name_and_credentials(tmp_path: Path) -> None:
    manager = Confo(shared=False)
    with pytest.raises(InvalidNameError):
        manager.load_backend({"config_path": str(tmp_path)}, "", "file")
    with pytest.raises(CredentialsError, match="dict"):
        manager.load_backend("config_path=/tmp", "f", "file")  # type: ignore[arg-type]
    assert manager.get_backends()["all_backends"] == []


def test_close_backend_forgets_it(manager: Confo) -> None:
    manager.close_backend("files")
    assert manager.get_backends() == {"all_backends": [], "active_backend": None}
    with pytest.raises(BackendsActivationException):
        manager.get_all()
    with pytest.raises(BackendNotFoundException):
        manager.activate_backend("files")


def test_each_backend_keeps_its_own_current_namespace(manager: Confo, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    manager.load_backend({"config_path": str(other)}, "other", "file")
    manager.activate_backend("other")
    with pytest.raises(NamespaceNotLoadedException):
        manager.get_all()
    with pytest.raises(NamespaceNotFoundError):
        manager.use_namespace("ns")  # exists in the first backend only
    manager.activate_backend("files")
    assert manager.get_namespaces()["current_namespace"] == "ns"


def test_set_with_wrong_argument_shapes(manager: Confo) -> None:
    with pytest.raises(InvalidValueError, match="field name"):
        manager.set("db", {"a": 1}, "value too")
    with pytest.raises(InvalidValueError, match="field name"):
        manager.set("db", 5, 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidNameError):
        manager.set(5, "a", 1)  # type: ignore[arg-type]


def test_self_referencing_value_is_refused(manager: Confo) -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(InvalidValueError, match="200 levels"):
        manager.set("db", loop)
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(150):
        node["d"] = {}
        node = node["d"]
    manager.set("deep", deep)
    manager.persist()
    manager.reload()
    assert manager.get("deep") == deep


def test_persist_accepts_false_and_none(manager: Confo) -> None:
    manager.set("a", {"v": 1})
    manager.persist(False, False)
    manager.set("a", "v", 2)
    manager.persist(None, "a")  # a configuration of the current namespace
    manager.reload()
    assert manager.get("a") == {"v": 2}
    assert not manager.namespace("ns").has_unsaved_changes()


class Audit:
    """A wrapper plugin that records every write, whatever the backend."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, list[str], list[str]]] = []

    @hookimpl(wrapper=True)
    def confo_write(self, namespace: str, changes: Changes) -> Any:
        result = yield
        self.writes.append((namespace, sorted(changes.put), sorted(changes.delete)))
        return result


def test_wrapper_plugins_see_the_backend_calls(tmp_path: Path) -> None:
    audit = Audit()
    with in_namespace(tmp_path, audit) as manager:
        manager.set("a", {"v": 1})
        manager.set("b", {"v": 1})
        manager.persist()
        manager.delete("a")
        manager.persist()
        manager.persist()  # nothing changed: no write at all
    assert audit.writes == [("ns", ["a", "b"], []), ("ns", [], ["a"])]


class Misspelled:
    @hookimpl
    def confo_raed(self, namespace: str) -> None:
        """Not a Confo hook."""


def test_plugin_with_unknown_hook_is_refused(tmp_path: Path) -> None:
    manager = Confo(shared=False)
    with pytest.raises(PluginError, match="confo_raed"):
        manager.load_backend({"config_path": str(tmp_path)}, "f", "file", plugins=[Misspelled()])
    assert manager.get_backends()["all_backends"] == []


class CloseWatcher:
    def __init__(self) -> None:
        self.closed = 0

    @hookimpl
    def confo_close(self) -> None:
        self.closed += 1


def test_a_failed_connect_closes_what_it_opened(tmp_path: Path) -> None:
    watcher = CloseWatcher()
    with pytest.raises(FileNotFoundException):
        Confo(shared=False).load_backend(
            {"config_path": str(tmp_path / "missing")}, "f", "file", plugins=[watcher]
        )
    assert watcher.closed == 1


@pytest.mark.parametrize("timeout", ["soon", 0, -1, True, [5]])
def test_bad_timeout_names_the_key(tmp_path: Path, timeout: object) -> None:
    with pytest.raises(CredentialsError, match="'timeout'"):
        Confo(shared=False).load_backend(
            {"config_path": str(tmp_path), "timeout": timeout}, "f", "file"
        )


class Gate:
    """A wrapper plugin that holds every write inside the store call until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    @hookimpl(wrapper=True)
    def confo_write(self, namespace: str, changes: Changes) -> Any:
        self.entered.set()
        assert self.release.wait(10)
        return (yield)


def in_thread(call: Any) -> threading.Thread:
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_a_slow_persist_does_not_block_readers_or_lose_edits(tmp_path: Path) -> None:
    gate = Gate()
    with in_namespace(tmp_path, gate) as manager:
        manager.set("db", {"v": 1})
        writer = in_thread(manager.persist)
        assert gate.entered.wait(10)  # the persist is now inside the store call

        reader = in_thread(lambda: manager.get("db"))
        reader.join(timeout=5)
        assert not reader.is_alive(), "get() waited for the persist"
        editor = in_thread(lambda: manager.set("db", "v", 2))
        editor.join(timeout=5)
        assert not editor.is_alive(), "set() waited for the persist"

        gate.release.set()
        writer.join(timeout=10)
        assert not writer.is_alive()
        assert manager.namespace("ns").has_unsaved_changes()  # the edit made meanwhile
        assert (tmp_path / "ns" / "db.json").read_text().count('"v": 1') == 1
        manager.persist()
        manager.reload()
        assert manager.get("db") == {"v": 2}


def test_a_field_set_without_a_value_is_refused(manager: Confo) -> None:
    """set(config, field) with no value used to store None silently."""
    manager.set("db", {"port": 5432})
    with pytest.raises(InvalidValueError, match=r"no value for field 'port'"):
        manager.set("db", "port")  # type: ignore[call-arg]
    assert manager.get("db") == {"port": 5432}
    manager.set("db", "port", None)  # an explicit None is JSON null, as before
    assert manager.get("db") == {"port": None}
    manager.set("whole", {"a": 1})  # a whole configuration needs no value
    manager.set("seed", {"b": 2}, None)  # the seeds' spelling of the same
    assert manager.get_all() == {"db": {"port": None}, "whole": {"a": 1}, "seed": {"b": 2}}


def test_every_public_name_imports() -> None:
    """Every name in confo.__all__ is importable (confo.Watch and confo.WatchEvent once were
    listed and raised AttributeError), and is what its module defines."""
    import confo

    for name in confo.__all__:
        assert getattr(confo, name) is not None, name
    assert confo.Watch.__name__ == "Watch"
    assert confo.WatchEvent.__name__ == "WatchEvent"


def test_the_seeds_manager_is_shared_and_takes_false_for_not_given(tmp_path: Path) -> None:
    """confo.Confo (and confo.Confo.Confo) is the original's manager, from confo.compat: Confo()
    is one process-wide instance, persist(False, False) persists everything. The core's manager
    is never shared and takes None only."""
    import confo.manager
    from confo.Confo import Confo as Seed

    assert Seed is Confo
    assert Seed() is Seed()
    assert Seed(shared=False) is not Seed()
    assert confo.manager.Confo() is not confo.manager.Confo()
    with Seed(shared=False) as manager:
        manager.load_backend({"config_path": str(tmp_path)}, "f", "file")
        manager.activate_backend("f")
        manager.create_namespace("ns")
        manager.use_namespace("ns")
        manager.set("db", {"v": 1})
        manager.persist(False, False)
        assert not manager.namespace("ns").has_unsaved_changes()
