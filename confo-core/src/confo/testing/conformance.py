"""The conformance suite every Confo backend runs against a real store.

Use it from a backend's tests::

    from confo.testing import BackendConformance, RawStore

    class TestMyBackend(BackendConformance):
        backend_type = "mybackend"

        @pytest.fixture
        def credentials(self, my_server):      # how to reach a real, running store
            return {"host": "127.0.0.1", "port": my_server.port}

        @pytest.fixture
        def raw(self, my_server) -> RawStore:  # the store seen through its own client
            return MyRawStore(...)

Every test makes its own namespaces with unique names, so one store serves the whole run.
Capability flags (class attributes) describe what a backend cannot do.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import pytest

from confo.compat.legacy import legacy_backend
from confo.errors import (
    BackendsActivationException,
    BackendUnavailableError,
    ConfigurationNotFoundError,
    ConflictError,
    FieldNotFoundError,
    InvalidValueError,
    NamespaceExistsException,
    NamespaceNotFoundError,
    NamespaceNotLoadedException,
)
from confo.manager import Confo
from confo.testing.asyncmode import AsyncConformance
from confo.testing.conflicts import ConflictConformance
from confo.testing.contract import ContractConformance
from confo.testing.faults import NetworkFaultConformance
from confo.testing.helpers import BACKEND, HUNG_SLACK, connected, eventually, unique
from confo.testing.history import HistoryConformance
from confo.testing.hostile import HostileInputConformance
from confo.testing.lastgood import CacheConformance, OfflineConformance
from confo.testing.outcomes import LostAnswerConformance
from confo.testing.proxy import TCPProxy
from confo.testing.raw import RawStore
from confo.testing.schemas import SchemaConformance
from confo.testing.servers import ServerProcess
from confo.testing.typed import TypedConformance, Version
from confo.testing.watching import Recorder, WatchConformance, until

ROUND_TRIP: dict[str, Any] = {
    "text": 'héllo ✓ 世界 "quoted" \\ back',
    "int": 2**53 + 1,
    "negative": -7,
    "float": 0.1,
    "true": True,
    "false": False,
    "null": None,
    "list": [1, "two", [3.0], {"four": 4}],
    "nested": {"a": {"b": {"c": []}}, "empty": {}},
    "": "an empty key is a valid JSON key",
}


class BackendConformance(
    ContractConformance,
    ConflictConformance,
    LostAnswerConformance,
    HistoryConformance,
    SchemaConformance,
    TypedConformance,
    CacheConformance,
    AsyncConformance,
    WatchConformance,
    HostileInputConformance,
):
    """Tests every backend must pass. Subclass as ``Test<Name>`` and provide the fixtures
    ``credentials`` and ``raw`` and the class attribute ``backend_type``."""

    backend_type: ClassVar[str]
    # How many configurations the large-persist test writes: above etcd's 128 operations per
    # transaction, so backends that split transactions are exercised.
    many_configs: ClassVar[int] = 300

    # --- fixtures ----------------------------------------------------------------------------

    @pytest.fixture
    def credentials(self) -> Mapping[str, Any]:
        raise NotImplementedError("a backend's test class provides the credentials fixture")

    @pytest.fixture
    def raw(self) -> RawStore:
        raise NotImplementedError("a backend's test class provides the raw fixture")

    @pytest.fixture
    def manager(self, credentials: Mapping[str, Any]) -> Iterator[Confo]:
        with connected(self.backend_type, credentials) as manager:
            yield manager

    @pytest.fixture
    def other(self, credentials: Mapping[str, Any]) -> Iterator[Confo]:
        """A second manager on the same store: another process, as far as the store can tell."""
        with connected(self.backend_type, credentials) as manager:
            yield manager

    @pytest.fixture
    def ns(self, manager: Confo) -> str:
        """A new namespace, created and in use."""
        name = unique()
        manager.create_namespace(name)
        manager.use_namespace(name)
        return name

    # --- backends and namespaces -------------------------------------------------------------

    def test_loaded_backend_is_listed_and_active(self, manager: Confo) -> None:
        assert manager.get_backends() == {"all_backends": [BACKEND], "active_backend": BACKEND}

    def test_calls_without_active_backend_fail(self, credentials: Mapping[str, Any]) -> None:
        with Confo() as manager:
            manager.load_backend(credentials, BACKEND, self.backend_type)
            with pytest.raises(BackendsActivationException, match="activate_backend"):
                manager.get_namespaces()

    def test_created_namespace_is_listed_by_plain_name(self, manager: Confo, other: Confo) -> None:
        name = unique()
        before = manager.get_count()
        manager.create_namespace(name)
        assert name in other.get_namespaces()["all_namespaces"]
        assert manager.get_count() == before + 1
        assert manager.get_namespaces()["current_namespace"] is None

    def test_create_namespace_is_idempotent(self, manager: Confo, ns: str) -> None:
        manager.set("kept", {"a": 1})
        manager.persist()
        manager.create_namespace(ns)
        with pytest.raises(NamespaceExistsException):
            manager.create_namespace(ns, exist_ok=False)
        manager.reload()
        assert manager.get("kept") == {"a": 1}

    def test_use_namespace_the_store_lacks_fails(self, manager: Confo) -> None:
        with pytest.raises(NamespaceNotFoundError) as info:
            manager.use_namespace("no_such_namespace_here")
        assert isinstance(info.value, KeyError)
        assert "no_such_namespace_here" in str(info.value)

    def test_configuration_calls_need_a_namespace(self, manager: Confo) -> None:
        with pytest.raises(NamespaceNotLoadedException, match="use_namespace"):
            manager.get_all()

    def test_delete_namespace(self, manager: Confo, other: Confo, ns: str) -> None:
        manager.set("db", {"host": "x"})
        manager.persist()
        other.use_namespace(ns)
        manager.delete_namespace(ns)
        assert ns not in other.get_namespaces()["all_namespaces"]
        assert manager.get_namespaces()["current_namespace"] is None
        with pytest.raises(NamespaceNotFoundError):
            manager.use_namespace(ns)
        with pytest.raises(NamespaceNotFoundError):
            other.reload()

    # --- configurations ----------------------------------------------------------------------

    def test_set_and_get_fields_and_whole_configurations(self, manager: Confo, ns: str) -> None:
        manager.set("db", {"host": "localhost", "port": 5432}, None)
        manager.set("db", "user", "root")
        manager.set("cache", "ttl", 30)  # a field of a new configuration creates it
        assert manager.get("db") == {"host": "localhost", "port": 5432, "user": "root"}
        assert manager.get("db", "port") == 5432
        assert manager.get_all() == {
            "db": {"host": "localhost", "port": 5432, "user": "root"},
            "cache": {"ttl": 30},
        }

    def test_missing_configuration_and_field(self, manager: Confo, ns: str) -> None:
        manager.set("db", {"host": "x"})
        with pytest.raises(ConfigurationNotFoundError, match="nope") as info:
            manager.get("nope")
        assert isinstance(info.value, KeyError)
        with pytest.raises(FieldNotFoundError, match="port"):
            manager.get("db", "port")
        assert manager.get("nope", default=None) is None
        assert manager.get("db", "port", default=5432) == 5432

    def test_round_trip_through_the_store(self, manager: Confo, other: Confo, ns: str) -> None:
        manager.set("everything", ROUND_TRIP)
        manager.set("empty", {})
        manager.persist()
        other.use_namespace(ns)
        assert other.get_all() == {"everything": ROUND_TRIP, "empty": {}}

    def test_unicode_names(self, manager: Confo, other: Confo) -> None:
        name = unique("données")
        manager.create_namespace(name)
        manager.use_namespace(name)
        manager.set("café ☕", "größe", "groß")
        manager.persist()
        other.use_namespace(name)
        assert other.get("café ☕", "größe") == "groß"
        assert name in other.get_namespaces()["all_namespaces"]

    def test_results_and_inputs_are_copies(self, manager: Confo, ns: str) -> None:
        original: dict[str, Any] = {"hosts": ["a"], "opts": {"x": 1}}
        manager.set("db", original)
        original["hosts"].append("leak")
        got = manager.get("db")
        got["opts"]["x"] = 2
        manager.get("db", "hosts").append("leak")
        manager.get_all()["db"]["new"] = True
        assert manager.get("db") == {"hosts": ["a"], "opts": {"x": 1}}

    def test_nothing_reaches_the_store_before_persist(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        manager.set("db", {"host": "x"})
        other.use_namespace(ns)
        assert other.get_all() == {}
        manager.persist()
        other.reload()
        assert other.get_all() == {"db": {"host": "x"}}

    def test_persist_levels(self, manager: Confo, other: Confo, ns: str) -> None:
        second = unique()
        manager.create_namespace(second)
        manager.set("a", {"v": 1})
        manager.set("b", {"v": 2})
        manager.use_namespace(second)
        manager.set("c", {"v": 3})
        manager.persist(namespace=ns, config="a")
        other.use_namespace(ns)
        assert other.get_all() == {"a": {"v": 1}}
        manager.persist(namespace=ns)
        other.reload()
        assert other.get_all() == {"a": {"v": 1}, "b": {"v": 2}}
        other.use_namespace(second)
        assert other.get_all() == {}
        manager.persist()
        other.reload()
        assert other.get_all() == {"c": {"v": 3}}

    def test_persist_of_namespace_not_held_fails(self, manager: Confo) -> None:
        name = unique()
        manager.create_namespace(name)
        with pytest.raises(NamespaceNotLoadedException, match=name):
            manager.persist(namespace=name)

    def test_persist_sends_only_what_changed(self, manager: Confo, other: Confo, ns: str) -> None:
        manager.set("mine", {"v": 1})
        manager.set("theirs", {"v": 1})
        manager.persist()
        other.use_namespace(ns)
        other.set("theirs", "v", 2)
        other.persist()
        manager.set("mine", "v", 2)
        manager.persist()
        other.reload()
        assert other.get_all() == {"mine": {"v": 2}, "theirs": {"v": 2}}

    def test_delete_configuration_and_field(self, manager: Confo, other: Confo, ns: str) -> None:
        manager.set("gone", {"x": 1})
        manager.set("kept", {"x": 1, "y": 2})
        manager.persist()
        manager.delete("gone")
        manager.delete("kept", "y")
        with pytest.raises(ConfigurationNotFoundError):
            manager.get("gone")
        with pytest.raises(ConfigurationNotFoundError):
            manager.delete("gone")
        with pytest.raises(FieldNotFoundError):
            manager.delete("kept", "y")
        other.use_namespace(ns)
        assert other.get_all() == {"gone": {"x": 1}, "kept": {"x": 1, "y": 2}}
        manager.persist()
        other.reload()
        assert other.get_all() == {"kept": {"x": 1}}

    def test_delete_then_set_again(self, manager: Confo, other: Confo, ns: str) -> None:
        manager.set("db", {"old": True})
        manager.persist()
        manager.delete("db")
        manager.set("db", {"new": True})
        manager.persist()
        other.use_namespace(ns)
        assert other.get("db") == {"new": True}

    def test_reload_discards_unsaved_edits(self, manager: Confo, ns: str) -> None:
        manager.set("db", {"host": "stored"})
        manager.persist()
        manager.set("db", "host", "unsaved")
        manager.set("extra", {"x": 1})
        manager.reload()
        assert manager.get_all() == {"db": {"host": "stored"}}

    def test_switching_namespaces_keeps_unsaved_edits(self, manager: Confo, ns: str) -> None:
        second = unique()
        manager.create_namespace(second)
        manager.set("db", {"host": "unsaved"})
        manager.use_namespace(second)
        assert manager.get_all() == {}
        manager.use_namespace(ns)
        assert manager.get("db", "host") == "unsaved"

    def test_persist_recreates_a_namespace_deleted_elsewhere(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        manager.set("db", {"v": 1})
        other.delete_namespace(ns)
        manager.persist()
        other.use_namespace(ns)
        assert other.get_all() == {"db": {"v": 1}}

    def test_many_configurations(self, manager: Confo, other: Confo, ns: str) -> None:
        configs = {f"c{i:04d}": {"i": i, "pad": "x" * 100} for i in range(self.many_configs)}
        for name, config in configs.items():
            manager.set(name, config)
        manager.persist()
        other.use_namespace(ns)
        assert other.get_all() == configs
        for name in configs:
            manager.delete(name)
        manager.persist()
        other.reload()
        assert other.get_all() == {}

    # --- handles and threads -----------------------------------------------------------------

    def test_namespace_handle_leaves_current_alone(self, manager: Confo, ns: str) -> None:
        second = unique()
        manager.create_namespace(second)
        handle = manager.namespace(second)
        handle.set("db", {"host": "h"})
        handle.persist()
        assert manager.get_namespaces()["current_namespace"] == ns
        assert manager.get_all() == {}
        manager.use_namespace(second)
        assert manager.get("db") == {"host": "h"}

    def test_threads_editing_their_own_namespaces(self, manager: Confo, other: Confo) -> None:
        names = [unique() for _ in range(4)]
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                manager.create_namespace(name)
                handle = manager.namespace(name)
                for i in range(20):
                    handle.set(f"c{i}", "owner", name)
                handle.persist()
            except BaseException as exc:  # reported below, in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        for name in names:
            values = other.namespace(name).get_all()
            assert values == {f"c{i}": {"owner": name} for i in range(20)}

    # --- the original's backend classes, used on their own ------------------------------------

    def test_backend_class_used_on_its_own(
        self, credentials: Mapping[str, Any], other: Confo
    ) -> None:
        """``FileBackend()`` etc. without the manager, as code written for the original did."""
        backend = legacy_backend(self.backend_type)()
        backend.load_credentials(credentials=credentials)
        name = unique()
        backend.create_namespace(name)
        backend.use_namespace(name)
        backend.set("db", "host", "10.0.0.5")
        backend.set("api", {"url": "https://api.internal"}, None)
        assert backend.get("db", "host") == "10.0.0.5"
        assert backend.get_count() == 2  # configurations of the current namespace
        backend.persist(name, "db")
        other.use_namespace(name)
        assert other.get_all() == {"db": {"host": "10.0.0.5"}}
        backend.persist()
        other.reload()
        assert other.get("api") == {"url": "https://api.internal"}
        other.set("db", "host", "db.internal")
        other.persist()
        backend.reload()
        assert backend.get_all() == {
            "db": {"host": "db.internal"},
            "api": {"url": "https://api.internal"},
        }
        assert name in backend.get_namespaces()["all_namespaces"]
        backend.close()

    # --- bad input ---------------------------------------------------------------------------

    def test_configuration_must_be_an_object(self, manager: Confo, ns: str) -> None:
        with pytest.raises(InvalidValueError):
            manager.set("db", ["not", "an", "object"])  # type: ignore[arg-type]
        with pytest.raises(InvalidValueError):
            manager.set("db", 5)  # type: ignore[arg-type]

    # --- layout: the store as other tools see it ---------------------------------------------

    def test_data_written_by_other_tools_reads_back(self, manager: Confo, raw: RawStore) -> None:
        name = unique()
        raw.put(name, "database", b'{"host": "10.0.0.1", "port": 3306, "tags": ["a"]}')
        assert name in manager.get_namespaces()["all_namespaces"]
        manager.use_namespace(name)
        assert manager.get("database") == {"host": "10.0.0.1", "port": 3306, "tags": ["a"]}

    def test_what_confo_writes_is_plain_json(self, manager: Confo, raw: RawStore, ns: str) -> None:
        manager.set("email", {"port": 587, "server": "smtp.example.com", "name": "Zoë"})
        manager.persist()
        stored = raw.get(ns, "email")
        assert stored is not None
        assert json.loads(stored.decode("utf-8")) == {
            "port": 587,
            "server": "smtp.example.com",
            "name": "Zoë",
        }


class NetworkConformance(NetworkFaultConformance, OfflineConformance):
    """Tests for backends that talk to a server: fail fast, survive an outage, and a watch that
    loses nothing across a server killed and restarted or a connection cut.

    Mix in beside :class:`BackendConformance` and provide ``unreachable_credentials`` (credentials
    for a port nothing listens on), ``restartable`` (a fresh :class:`ServerProcess` of the store,
    started, and credentials for it with short timeouts) and ``routed`` (a function giving the
    ``restartable`` credentials aimed at another 127.0.0.1 port: a :class:`TCPProxy`).
    """

    backend_type: ClassVar[str]

    @pytest.fixture
    def unreachable_credentials(self) -> Mapping[str, Any]:
        """Credentials for a 127.0.0.1 port nothing listens on (``confo.testing.free_port``)."""
        raise NotImplementedError("a network backend's test class provides this fixture")

    @pytest.fixture
    def restartable(self) -> tuple[ServerProcess, Mapping[str, Any]]:
        """(a server of the store of its own, started, credentials for it with short timeouts,
        ``operation_timeout`` of a few seconds). Tests kill, stop and start it: it must come
        back on the same port with the same data."""
        raise NotImplementedError("a network backend's test class provides this fixture")

    @pytest.fixture
    def routed(self) -> Callable[[Mapping[str, Any], int], Mapping[str, Any]]:
        """A function of ``restartable``'s credentials and a port: the same credentials aimed
        at that 127.0.0.1 port, where the tests put a :class:`TCPProxy`."""
        raise NotImplementedError("a network backend's test class provides this fixture")

    def test_watch_loses_nothing_across_a_server_kill(
        self, restartable: tuple[ServerProcess, Mapping[str, Any]]
    ) -> None:
        server, credentials = restartable
        with connected(self.backend_type, credentials) as watcher:
            watcher.create_namespace("watched")
            watcher.use_namespace("watched")
            seen = Recorder()
            with watcher.watch(seen), connected(self.backend_type, credentials) as writer:
                writer.use_namespace("watched")
                writer.set("a", {"v": 1})
                writer.persist()
                until(lambda: seen.last() == {"a": {"v": 1}})
                server.kill()
                server.start()  # same port, same data
                for v in range(2, 5):
                    writer_update(writer, "a", v)
                writer_update(writer, "b", 1)
                until(lambda: seen.last() == {"a": {"v": 4}, "b": {"v": 1}}, within=45)
                until(lambda: watcher.get_all() == {"a": {"v": 4}, "b": {"v": 1}})

    def test_a_binding_keeps_its_value_through_a_server_kill_and_follows_after(
        self, restartable: tuple[ServerProcess, Mapping[str, Any]]
    ) -> None:
        server, credentials = restartable
        with connected(self.backend_type, credentials) as service:
            service.create_namespace("bound")
            service.use_namespace("bound")
            service.set("a", {"v": 1})
            service.persist()
            with (
                service.bind(Version, "a") as bound,
                connected(self.backend_type, credentials) as writer,
            ):
                writer.use_namespace("bound")
                first = bound.value
                server.kill()
                until(lambda: not bound.healthy, within=30)
                assert bound.value is first  # served while the store is down
                server.start()
                eventually(lambda: writer.update("a", lambda _: {"v": "not a version"}))
                until(lambda: bound.error is not None, within=45)
                assert bound.value is first
                writer_update(writer, "a", 2)
                until(lambda: bound.value.v == 2, within=45)
                until(lambda: bound.healthy, within=30)
                assert bound.error is None

    def test_watch_loses_nothing_while_its_connection_is_cut(
        self,
        restartable: tuple[ServerProcess, Mapping[str, Any]],
        routed: Callable[[Mapping[str, Any], int], Mapping[str, Any]],
    ) -> None:
        """The watcher talks through a TCP proxy; the writer goes on directly while it is cut."""
        server, credentials = restartable
        with (
            TCPProxy(server.port) as proxy,
            connected(self.backend_type, routed(credentials, proxy.port)) as watcher,
        ):
            watcher.create_namespace("cut")
            watcher.use_namespace("cut")
            seen = Recorder()
            with watcher.watch(seen), connected(self.backend_type, credentials) as writer:
                writer.use_namespace("cut")
                for name in ("a", "b", "gone"):
                    writer.set(name, {"v": 0})
                writer.persist()
                until(lambda: len(seen.last()) == 3)
                proxy.cut()
                for v in range(1, 6):
                    writer_update(writer, "a", v)
                writer.delete("gone")
                writer.set("new", {"v": 1})
                writer.persist()
                time.sleep(2)
                proxy.restore()
                expected = {"a": {"v": 5}, "b": {"v": 0}, "new": {"v": 1}}
                until(lambda: seen.last() == expected, within=45)
                until(lambda: watcher.get_all() == expected)

    def test_unreachable_store_fails_fast_naming_it(
        self, unreachable_credentials: Mapping[str, Any]
    ) -> None:
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError) as info:
            connected(self.backend_type, unreachable_credentials)
        assert time.monotonic() - started < 15  # bounded, not a benchmark
        assert "127.0.0.1:" in str(info.value)

    def test_a_store_that_never_answers_fails_within_the_timeout(
        self,
        restartable: tuple[ServerProcess, Mapping[str, Any]],
        routed: Callable[[Mapping[str, Any], int], Mapping[str, Any]],
    ) -> None:
        """A server that accepts connections and never answers: load_backend gives up within
        ``timeout`` (plus slack for a loaded machine; not a benchmark)."""
        server, credentials = restartable
        with TCPProxy(server.port) as proxy:
            proxy.freeze()
            started = time.monotonic()
            with pytest.raises(BackendUnavailableError, match=str(proxy.port)):
                connected(self.backend_type, {**routed(credentials, proxy.port), "timeout": 2})
            assert time.monotonic() - started < 2 + HUNG_SLACK

    def test_calls_on_a_connection_gone_silent_fail_within_the_timeout(
        self,
        restartable: tuple[ServerProcess, Mapping[str, Any]],
        routed: Callable[[Mapping[str, Any], int], Mapping[str, Any]],
    ) -> None:
        """Connected, then the path goes silent (no reset, no answer): every call fails within
        ``operation_timeout``, the edits are kept, and all is well once it answers again."""
        server, credentials = restartable
        silent = {**credentials, "operation_timeout": 2, "timeout": 2}
        with TCPProxy(server.port) as proxy:
            with connected(self.backend_type, routed(silent, proxy.port)) as manager:
                manager.create_namespace("silent")
                manager.use_namespace("silent")
                manager.set("db", {"v": 1})
                manager.persist()
                proxy.freeze()
                manager.set("db", "v", 2)
                for call in (manager.reload, manager.persist, manager.get_namespaces):
                    started = time.monotonic()
                    with pytest.raises(BackendUnavailableError):
                        call()
                    assert time.monotonic() - started < 2 + HUNG_SLACK, call
                assert manager.get("db") == {"v": 2}
                proxy.thaw()
                try:
                    eventually(manager.persist)
                except ConflictError:
                    # The write that timed out had left the client: the store applied it once
                    # the path answered again. Nothing was overwritten; the store has the edit.
                    manager.reload()
                assert manager.get("db") == {"v": 2}
            with connected(self.backend_type, credentials) as reader:
                reader.use_namespace("silent")
                assert reader.get_all() == {"db": {"v": 2}}

    def test_outage_gives_a_clear_error_then_recovers(
        self, restartable: tuple[ServerProcess, Mapping[str, Any]]
    ) -> None:
        server, credentials = restartable
        with connected(self.backend_type, credentials) as manager:
            manager.create_namespace("ns")
            manager.use_namespace("ns")
            manager.set("db", {"v": 1})
            manager.persist()
            server.stop()
            started = time.monotonic()
            with pytest.raises(BackendUnavailableError, match=str(server.port)):
                manager.reload()
            manager.set("db", "v", 2)
            with pytest.raises(BackendUnavailableError):
                manager.persist()
            assert time.monotonic() - started < 30  # failed, did not hang
            assert manager.get("db") == {"v": 2}  # the unsaved edit is still held
            server.start()  # same port; the data is kept where the server keeps it
            eventually(manager.persist)  # clients reconnect in the background
            manager.reload()
            assert manager.get_all() == {"db": {"v": 2}}


def writer_update(manager: Confo, config: str, value: int) -> None:
    """Set ``{"v": value}`` as soon as the store answers again (clients reconnect by themselves)."""
    eventually(lambda: manager.update(config, lambda _: {"v": value}))


class TLSConformance:
    """Tests for backends that speak TLS. Mix in and provide ``tls_credentials``: for a running
    server that serves TLS only, the credentials that use TLS and the same without it."""

    backend_type: ClassVar[str]

    @pytest.fixture
    def tls_credentials(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        raise NotImplementedError("a TLS backend's test class provides this fixture")

    def test_round_trip_over_tls(
        self, tls_credentials: tuple[Mapping[str, Any], Mapping[str, Any]]
    ) -> None:
        secure, _ = tls_credentials
        with connected(self.backend_type, secure) as manager:
            manager.create_namespace("secure")
            manager.use_namespace("secure")
            manager.set("db", {"over": "tls", "password": "p"})
            manager.persist()
            manager.reload()
            assert manager.get("db") == {"over": "tls", "password": "p"}

    def test_plain_client_to_a_tls_server_fails_fast(
        self, tls_credentials: tuple[Mapping[str, Any], Mapping[str, Any]]
    ) -> None:
        _, plain = tls_credentials
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError):
            connected(self.backend_type, {**plain, "timeout": 2})
        assert time.monotonic() - started < 15  # bounded, not a benchmark
