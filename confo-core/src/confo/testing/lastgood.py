"""Last known good: the ``cache_dir`` a service starts from, and keeps serving from, offline.

:class:`CacheConformance` (part of :class:`~confo.testing.BackendConformance`) checks what every
backend saves: each namespace read, whole, private, and only values that passed their schema.
:class:`OfflineConformance` (part of :class:`~confo.testing.NetworkConformance`) starts managers
on a store cut off behind a :class:`~confo.testing.TCPProxy`: loaded offline from the cache,
writes refused, watches that deliver what changed meanwhile once the store is back, and caches
that cannot serve (none, too old, truncated, another store's) refused with a warning.
"""

from __future__ import annotations

import json
import logging
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from confo.cache import SnapshotCache
from confo.credentials import split_core_options
from confo.errors import BackendUnavailableError, ConflictError, StoreOfflineError
from confo.manager import Confo
from confo.markers import hookimpl
from confo.testing.helpers import HUNG_SLACK, connected, unique
from confo.testing.proxy import TCPProxy
from confo.testing.raw import RawStore
from confo.testing.typed import Version
from confo.testing.watching import Recorder, until

PORT = {"type": "object", "properties": {"port": {"type": "integer"}}}

# A service of its own, started while its store is down: what it serves offline, what a write
# gets, and (once the test lets it go on) what it sees when the store is back.
SERVICE = """
import json, sys, time
from confo.errors import StoreOfflineError
from confo.manager import Confo
backend, credentials, namespace = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
manager = Confo()
manager.load_backend(credentials, "service", backend)
manager.activate_backend("service")
manager.use_namespace(namespace)
events = []
watch = manager.watch(lambda event: events.append([event.config, event.kind, event.value]))
manager.set("mine", {"v": "offline edit"})
try:
    manager.persist()
    refused = None
except StoreOfflineError as exc:
    refused = str(exc)
print(json.dumps({"source": str(manager.source()), "values": manager.get_all(),
                  "refused": refused}), flush=True)
sys.stdin.readline()
deadline = time.monotonic() + 45
while (manager.source().kind != "store" or not watch.healthy) and time.monotonic() < deadline:
    time.sleep(0.05)
# The events of the catch-up read are delivered just after it is healthy: wait for them.
while {event[0] for event in events} < {"db", "gone"} and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(0.2)  # and for anything wrongly delivered after them, which the test refuses
print(json.dumps({"source": str(manager.source()), "events": sorted(events),
                  "values": manager.get_all()}), flush=True)
manager.persist()  # the edit made offline, now that the store answers
manager.close()
"""


def cache_of(credentials: Mapping[str, Any], backend_type: str) -> SnapshotCache:
    """The cache a manager loaded with ``credentials`` (holding ``cache_dir``) uses."""
    core, own = split_core_options(credentials)
    return SnapshotCache(core["cache_dir"], backend_type, own)


def saved(cache: SnapshotCache, namespace: str, configs: Mapping[str, Any]) -> None:
    """Wait until the cache holds exactly ``configs`` for ``namespace`` (saves are queued)."""

    def holds() -> bool:
        cached = cache.load(namespace)
        return cached is not None and cached.snapshot.configs == configs

    holds.__doc__ = f"the cache of {namespace!r} holds {configs!r}"
    until(holds)


class FailReads:
    """A wrapper plugin: the next ``failures`` reads of the store fail as an outage would."""

    def __init__(self) -> None:
        self.failures = 0

    @hookimpl(wrapper=True)
    def confo_read(self, namespace: str, names: Any) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise BackendUnavailableError("injected: the store dropped this read")
        return (yield)


class CacheConformance:
    """What a backend loaded with ``cache_dir`` saves: every backend runs these."""

    backend_type: ClassVar[str]

    @pytest.fixture
    def cached(self, credentials: Mapping[str, Any], tmp_path: Path) -> Mapping[str, Any]:
        return {**credentials, "cache_dir": str(tmp_path / "cache")}

    def test_each_namespace_read_is_saved_whole_and_private(
        self, cached: Mapping[str, Any], credentials: Mapping[str, Any]
    ) -> None:
        cache = cache_of(cached, self.backend_type)
        name = unique("cached")
        with connected(self.backend_type, credentials) as writer:
            writer.create_namespace(name)
            writer.use_namespace(name)
            writer.set("db", {"v": 1})
            writer.persist()
            with connected(self.backend_type, cached) as service:
                # Each way a namespace is read from the store saves it: use, reload, a watch's
                # read, and what a persist leaves.
                service.use_namespace(name)
                saved(cache, name, {"db": {"v": 1}})
                writer.set("db", {"v": 2})
                writer.persist()
                service.reload()
                saved(cache, name, {"db": {"v": 2}})
                seen = Recorder()
                with service.watch(seen):
                    writer.set("extra", {"v": 3})
                    writer.persist()
                    until(lambda: seen.last().get("extra") == {"v": 3})
                    saved(cache, name, {"db": {"v": 2}, "extra": {"v": 3}})
                service.set("db", {"v": 4})
                service.persist()
                saved(cache, name, {"db": {"v": 4}, "extra": {"v": 3}})
        path = cache.path(name)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert not list(path.parent.glob(".tmp-*")), "a temporary file was left behind"
        header = json.loads(path.read_bytes().partition(b"\n")[0])
        assert header["namespace"] == name
        assert abs(time.time() - _timestamp(header["read_at"])) < 120

    def test_only_values_that_passed_their_schema_are_saved(
        self, cached: Mapping[str, Any], credentials: Mapping[str, Any], raw: RawStore
    ) -> None:
        cache = cache_of(cached, self.backend_type)
        name = unique("cached")
        with connected(self.backend_type, credentials) as writer:
            if not writer.capabilities().schemas:
                pytest.skip("the backend declares schemas=False")
            writer.create_namespace(name)
            writer.use_namespace(name)
            writer.set("db", {"port": 1})
            writer.set("new", {"port": 1})
            writer.persist()
            writer.set_schema("db", PORT)
            writer.set_schema("new", PORT)
            with connected(self.backend_type, cached) as service:
                service.use_namespace(name)
                saved(cache, name, {"db": {"port": 1}, "new": {"port": 1}})
                raw.put(name, "db", b'{"port": "not a port"}')  # past every schema check
                raw.put(name, "fresh", b'{"port": 2}')
                service.reload()
                assert "db" in service.rejected()
                saved(cache, name, {"db": {"port": 1}, "new": {"port": 1}, "fresh": {"port": 2}})
        cached_file = cache.path(name).read_bytes()
        assert b"not a port" not in cached_file


class OfflineConformance:
    """A store that cannot be reached: loaded offline from the cache, and back. For network
    backends (fixtures of :class:`~confo.testing.NetworkConformance`: ``routed``)."""

    backend_type: ClassVar[str]

    @pytest.fixture
    def proxy(self, credentials: Mapping[str, Any]) -> Any:
        port = _port(credentials)
        with TCPProxy(port) as proxy:
            yield proxy

    @pytest.fixture
    def through(
        self,
        credentials: Mapping[str, Any],
        routed: Callable[[Mapping[str, Any], int], Mapping[str, Any]],
        proxy: TCPProxy,
        tmp_path: Path,
    ) -> Mapping[str, Any]:
        """Credentials through the proxy, with a cache and short timeouts."""
        return {
            **routed(credentials, proxy.port),
            "cache_dir": str(tmp_path / "cache"),
            "timeout": 2,
        }

    def _prepare(self, through: Mapping[str, Any], configs: Mapping[str, Any]) -> str:
        name = unique("offline")
        with connected(self.backend_type, through) as service:
            service.create_namespace(name)
            service.use_namespace(name)
            for config, values in configs.items():
                service.set(config, values)
            service.persist()
        saved(cache_of(through, self.backend_type), name, configs)
        return name

    def test_starts_offline_refuses_writes_and_follows_the_store_once_back(
        self, through: Mapping[str, Any], credentials: Mapping[str, Any], proxy: TCPProxy
    ) -> None:
        start = {"db": {"v": 1}, "same": {"v": 1}, "gone": {"v": 1}, "edited": {"v": 1}}
        name = self._prepare(through, start)
        proxy.cut()
        with connected(self.backend_type, through) as service:
            source = service.source()
            assert source.kind == "cache"
            assert str(source).startswith("cache")
            assert source.read_at is not None
            assert time.time() - source.read_at.timestamp() < 120
            service.use_namespace(name)
            assert service.get_all() == start
            bound = service.bind(Version, "same")
            assert bound.value.v == 1
            assert not bound.healthy
            seen = Recorder()
            watch = service.watch(seen)
            service.set("edited", {"v": "offline"})
            with pytest.raises(StoreOfflineError, match="offline") as refused:
                service.persist()
            assert "ago" in str(refused.value)
            assert name in str(refused.value)
            assert isinstance(refused.value, BackendUnavailableError)
            with pytest.raises(StoreOfflineError):
                service.reload()
            with pytest.raises(StoreOfflineError):
                service.update("db", lambda config: config)
            assert service.get("edited") == {"v": "offline"}  # the edit is kept
            with connected(self.backend_type, credentials) as writer:  # meanwhile, directly
                writer.use_namespace(name)
                writer.set("db", {"v": 2})
                writer.set("edited", {"v": 2})
                writer.set("new", {"v": 1})
                writer.delete("gone")
                writer.persist()
            proxy.restore()
            until(lambda: service.source().kind == "store", within=45)
            assert str(service.source()).startswith("store")
            until(lambda: {"db", "new", "gone"} <= {e.config for e in seen.events}, within=45)
            until(lambda: watch.healthy, within=30)
            kinds = {(e.config, e.kind) for e in seen.events}
            assert kinds == {("db", "put"), ("new", "put"), ("gone", "delete"), ("edited", "put")}
            assert service.get_all() == {
                "db": {"v": 2},
                "same": {"v": 1},
                "new": {"v": 1},
                "edited": {"v": "offline"},  # still the local edit: persisting it conflicts
            }
            with pytest.raises(ConflictError):
                service.persist()
            service.set("same", {"v": 5})
            service.persist(config="same")  # writes work again
            until(lambda: bound.value.v == 5)
            watch.stop()
            bound.close()

    def test_a_read_failing_right_after_the_reconnect_is_tried_again(
        self, through: Mapping[str, Any], credentials: Mapping[str, Any], proxy: TCPProxy
    ) -> None:
        name = self._prepare(through, {"db": {"v": 1}})
        proxy.cut()
        failing = FailReads()
        service = Confo()
        service.load_backend(through, "service", self.backend_type, plugins=[failing])
        service.activate_backend("service")
        try:
            service.use_namespace(name)
            with connected(self.backend_type, credentials) as writer:
                writer.use_namespace(name)
                writer.set("db", {"v": 2})
                writer.persist()
            failing.failures = 3  # the first reads once back fail: the view must still follow
            proxy.restore()
            until(lambda: service.source().kind == "store", within=45)
            until(lambda: service.get("db") == {"v": 2}, within=45)
            assert failing.failures == 0
        finally:
            service.close()

    def test_a_store_that_never_answers_loads_offline_within_the_timeout(
        self, through: Mapping[str, Any], proxy: TCPProxy
    ) -> None:
        """A frozen path (connections accepted, no byte through) is an outage too: loaded
        offline once ``timeout`` has passed, and back to the store once it thaws."""
        name = self._prepare(through, {"db": {"v": 1}})
        proxy.freeze()
        started = time.monotonic()
        with connected(self.backend_type, through) as service:
            assert time.monotonic() - started < 2 + HUNG_SLACK  # bounded, not a benchmark
            assert service.source().kind == "cache"
            service.use_namespace(name)
            assert service.get("db") == {"v": 1}
            proxy.thaw()
            until(lambda: service.source().kind == "store", within=45)
            service.set("db", {"v": 2})
            service.persist()

    def test_a_new_process_starts_while_the_server_is_down_and_catches_up(
        self,
        restartable: tuple[Any, Mapping[str, Any]],
        routed: Callable[[Mapping[str, Any], int], Mapping[str, Any]],
        tmp_path: Path,
    ) -> None:
        """The real server killed (not only cut off); a separate process starts offline, is
        refused a write, and once the server is back sees what changed meanwhile."""
        server, credentials = restartable
        with TCPProxy(server.port) as proxy:
            through = {**routed(credentials, proxy.port), "cache_dir": str(tmp_path / "c")}
            name = self._prepare(through, {"db": {"v": 1}, "gone": {"v": 1}, "same": {"v": 1}})
            server.kill()  # SIGKILL, as a crash would
            service = subprocess.Popen(
                [sys.executable, "-c", SERVICE, self.backend_type, json.dumps(through), name],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert service.stdin is not None
            assert service.stdout is not None
            assert service.stderr is not None
            try:
                offline = json.loads(service.stdout.readline() or "null") or {}
                assert offline.get("source", "").startswith("cache"), service.stderr.read()
                assert offline["values"] == {
                    "db": {"v": 1},
                    "gone": {"v": 1},
                    "same": {"v": 1},
                    "mine": {"v": "offline edit"},
                }
                assert "offline" in offline["refused"]
                proxy.cut()  # the server comes back, but not for the service yet
                server.start()
                with connected(self.backend_type, credentials) as writer:
                    writer.use_namespace(name)
                    writer.set("db", {"v": 2})
                    writer.delete("gone")
                    writer.persist()
                proxy.restore()
                service.stdin.write("go\n")
                service.stdin.flush()
                back = json.loads(service.stdout.readline() or "null") or {}
                assert back.get("source", "").startswith("store"), service.stderr.read()
                assert back["events"] == [["db", "put", {"v": 2}], ["gone", "delete", None]]
                assert back["values"] == {
                    "db": {"v": 2},
                    "same": {"v": 1},
                    "mine": {"v": "offline edit"},
                }
                assert service.wait(timeout=30) == 0, service.stderr.read()
                with connected(self.backend_type, credentials) as reader:
                    reader.use_namespace(name)
                    assert reader.get("mine") == {"v": "offline edit"}
            finally:
                if service.poll() is None:
                    service.kill()
                    service.wait()

    def test_a_cache_that_cannot_serve_is_refused_and_loading_fails_as_without(
        self,
        through: Mapping[str, Any],
        credentials: Mapping[str, Any],
        proxy: TCPProxy,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        name = self._prepare(through, {"db": {"v": 1}})
        other = self._prepare(through, {"db": {"v": "other"}})
        cache = cache_of(through, self.backend_type)
        path, good = cache.path(name), cache.path(name).read_bytes()
        proxy.cut()
        caplog.set_level(logging.WARNING, logger="confo")

        def refused(credentials: Mapping[str, Any], why: str | None) -> None:
            caplog.clear()
            with pytest.raises(BackendUnavailableError, match="cache") as failed:
                connected(self.backend_type, credentials)
            assert not isinstance(failed.value, StoreOfflineError)
            if why is not None:  # the warning says why the file was not served
                assert any(why in record.getMessage() for record in caplog.records), why

        # Too old for max_staleness.
        time.sleep(1.1)
        cache.path(other).unlink()
        refused({**through, "max_staleness": 1}, "max_staleness")
        # Truncated, then corrupt in the middle, then another namespace's file in its place.
        refused_file = {
            good[:-3]: "checksum",
            good.replace(b'"v":1', b'"v":7'): "checksum",
            good[:10]: "not JSON",
        }
        for data, why in refused_file.items():
            path.write_bytes(data)
            refused(through, why)
        # Another store's file (the same namespace, reached without the proxy) in its place.
        direct = {**credentials, "cache_dir": through["cache_dir"], "timeout": 2}
        with connected(self.backend_type, direct) as elsewhere:
            elsewhere.use_namespace(name)
        foreign = cache_of(direct, self.backend_type)
        saved(foreign, name, {"db": {"v": 1}})
        shutil.copyfile(foreign.path(name), path)
        refused(through, "another store")
        # No cache at all.
        refused({**through, "cache_dir": str(tmp_path / "empty")}, None)
        # One good file serves; a namespace it does not hold is an error naming it.
        path.write_bytes(good)
        with connected(self.backend_type, through) as service:
            with pytest.raises(StoreOfflineError, match=other):
                service.use_namespace(other)
            service.use_namespace(name)
            assert service.get_all() == {"db": {"v": 1}}


def _port(credentials: Mapping[str, Any]) -> int:
    ports = [int(value) for key, value in credentials.items() if key.endswith("port")]
    if len(ports) != 1:
        raise NotImplementedError("the credentials name no single port to put a proxy before")
    return ports[0]


def _timestamp(text: str) -> float:
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(text).timestamp()
