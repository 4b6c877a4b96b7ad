"""Conformance tests for watch: every change reaches the callback and the live view.

:class:`WatchConformance` is part of :class:`~confo.testing.BackendConformance` (fixtures
``manager``, ``other``, ``ns``, ``raw``). The fault tests (a server restarted, a connection cut
through a real TCP proxy) are in :class:`~confo.testing.NetworkConformance`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

from confo.errors import ConflictError
from confo.listener import STOP_WITHIN
from confo.manager import Confo
from confo.markers import hookimpl
from confo.testing.helpers import HUNG_SLACK, unique
from confo.testing.raw import RawStore
from confo.watch import WatchEvent

# Seconds a pushed change may take here: generous, this is not a benchmark. The environment may
# change it (a slower machine; the meta-test of broken backends, which expects misses).
WITHIN = float(os.environ.get("CONFO_TEST_WATCH_WITHIN", "15"))


def until(condition: Callable[[], bool], within: float = WITHIN) -> None:
    """Wait until ``condition()`` holds; fail the test if it does not within ``within``."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {within}s: {condition.__doc__ or condition}")
        time.sleep(0.02)


def settled(counter: ReadCounter, quiet: float = 1.0) -> None:
    """Wait until ``counter`` has counted no read for ``quiet`` seconds (within WITHIN)."""
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        reads = counter.reads
        time.sleep(quiet)
        if counter.reads == reads:
            return
    pytest.fail(f"reads went on for {WITHIN}s with nothing changed in the store")


class Recorder:
    """A callback that keeps the events it got, and the last one per configuration."""

    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: WatchEvent) -> None:
        with self.lock:
            self.events.append(event)

    def last(self) -> dict[str, Any]:
        """The last value delivered for each configuration (deleted ones left out)."""
        with self.lock:
            latest: dict[str, Any] = {}
            for event in self.events:
                if event.kind != "rejected":  # the view keeps the last valid value
                    latest[event.config] = event.value
        return {name: value for name, value in latest.items() if value is not None}


class ReadCounter:
    """A wrapper plugin that counts the store's reads."""

    def __init__(self) -> None:
        self.reads = 0

    @hookimpl(wrapper=True)
    def confo_read(self, namespace: str, names: Any) -> Any:
        self.reads += 1
        return (yield)


class WatchConformance:
    """Watch pushes changes; tests skip nothing: a backend that cannot watch fails them."""

    backend_type: ClassVar[str]

    def test_watch_delivers_puts_and_deletes(self, manager: Confo, other: Confo, ns: str) -> None:
        other.use_namespace(ns)
        seen = Recorder()
        with manager.watch(seen):
            other.set("db", {"v": 1})
            other.persist()
            until(lambda: seen.last() == {"db": {"v": 1}})
            other.set("db", "v", 2)
            other.set("cache", {"ttl": 5})
            other.persist()
            until(lambda: seen.last() == {"db": {"v": 2}, "cache": {"ttl": 5}})
            other.delete("cache")
            other.persist()
            until(lambda: seen.last() == {"db": {"v": 2}})
        kinds = [(e.config, e.kind) for e in seen.events]
        assert kinds[-1] == ("cache", "delete")
        put = next(e for e in seen.events if e.kind == "put")
        assert put.namespace == ns
        assert put.revision is not None
        assert put.as_dict()["value"] == put.value

    def test_watched_view_follows_the_store_and_keeps_unsaved_edits(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        manager.set("pushed", {"v": 0})
        manager.set("edited", {"v": 0})
        manager.persist()
        other.use_namespace(ns)
        seen = Recorder()
        with manager.watch(seen):
            manager.set("edited", "v", "mine, unsaved")
            other.set("pushed", "v", 1)
            other.set("edited", "v", "theirs")
            other.persist()
            until(lambda: seen.last().get("edited") == {"v": "theirs"})
            until(lambda: manager.get("pushed") == {"v": 1})  # no reload()
            assert manager.get("edited") == {"v": "mine, unsaved"}
            with pytest.raises(ConflictError):
                manager.persist()

    def test_changes_by_other_tools_are_delivered(
        self, manager: Confo, raw: RawStore, ns: str
    ) -> None:
        seen = Recorder()
        with manager.watch(seen):
            raw.put(ns, "foreign", b'{"by": "another tool"}')
            until(lambda: seen.last() == {"foreign": {"by": "another tool"}})
            until(lambda: manager.get("foreign", default=None) == {"by": "another tool"})

    def test_a_failing_callback_is_logged_and_the_watch_goes_on(
        self, manager: Confo, other: Confo, ns: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        other.use_namespace(ns)
        seen = Recorder()

        def flaky(event: WatchEvent) -> None:
            seen(event)
            if len(seen.events) == 1:
                raise RuntimeError("a bug in the callback")

        with caplog.at_level(logging.ERROR, logger="confo.watch"), manager.watch(flaky):
            other.set("a", {"v": 1})
            other.persist()
            until(lambda: len(seen.events) >= 1)
            other.set("b", {"v": 1})
            other.persist()
            until(lambda: seen.last() == {"a": {"v": 1}, "b": {"v": 1}})
        assert "a bug in the callback" in caplog.text

    def test_callbacks_may_use_the_manager(self, manager: Confo, other: Confo, ns: str) -> None:
        """get, set, persist and update from inside a callback: no deadlock."""
        other.use_namespace(ns)
        done = threading.Event()

        def react(event: WatchEvent) -> None:
            if event.config != "trigger":
                return
            manager.namespace(ns).get("trigger")
            manager.namespace(ns).set("echo", {"from": "callback"})
            manager.namespace(ns).persist("echo")
            manager.update("count", lambda c: {"n": c.get("n", 0) + 1}, namespace=ns)
            done.set()

        with manager.watch(react):
            other.set("trigger", {"go": True})
            other.persist()
            until(done.is_set)
        other.reload()
        assert other.get("echo") == {"from": "callback"}
        assert other.get("count") == {"n": 1}

    def test_an_idle_watch_reads_nothing(
        self, credentials: Mapping[str, Any], other: Confo, ns: str
    ) -> None:
        """Once a change is delivered, a quiet store costs no reads (a watch that reacted to
        its own reads, as a file watch seeing files opened would, loops for ever)."""
        counter = ReadCounter()
        with Confo() as manager:
            manager.load_backend(credentials, "counted", self.backend_type, plugins=[counter])
            manager.activate_backend("counted")
            other.use_namespace(ns)
            seen = Recorder()
            with manager.watch(seen, namespace=ns):
                other.set("db", {"v": 1})
                other.persist()
                until(lambda: seen.last() == {"db": {"v": 1}})
                settled(counter)  # a late resync or poll may still read once
                reads = counter.reads
                time.sleep(1.5)
                assert counter.reads <= reads + 1  # a loop reads dozens of times meanwhile

    def test_rapid_changes_meet_the_declared_guarantee(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        """Read from the backend's capabilities: "every" revision is delivered, or at least the
        "latest"; never an older value after a newer one."""
        guarantee = manager.capabilities().watch
        assert guarantee in ("latest", "every"), "a backend that cannot watch fails this suite"
        other.use_namespace(ns)
        seen = Recorder()
        with manager.watch(seen):
            for seq in range(30):
                other.set("rapid", {"seq": seq})
                other.persist()
            until(lambda: seen.last() == {"rapid": {"seq": 29}})
        seqs = [event.value["seq"] for event in seen.events if event.value is not None]
        assert seqs == sorted(set(seqs))
        if guarantee == "every":
            assert seqs == list(range(30))

    def test_stop_is_quick_and_leaves_no_thread(self, manager: Confo, ns: str) -> None:
        before = set(threading.enumerate())
        watch = manager.watch(lambda event: None)
        assert watch.running
        started = time.monotonic()
        watch.stop()
        assert time.monotonic() - started < STOP_WITHIN + HUNG_SLACK
        until(lambda: set(threading.enumerate()) <= before)
        assert not watch.running

    def test_a_stop_right_after_a_start_returns_every_time(self, manager: Confo, ns: str) -> None:
        """A service shutting down right after it started: the listener may not even be in
        place yet (on etcd this once hung for ever, about one round in 30)."""
        before = set(threading.enumerate())
        for _ in range(40):
            watch = manager.watch(lambda event: None)
            started = time.monotonic()
            watch.stop()
            assert time.monotonic() - started < STOP_WITHIN + HUNG_SLACK  # a hang never returns
        until(lambda: set(threading.enumerate()) <= before)

    def test_watches_of_many_namespaces_share_one_listener(
        self, manager: Confo, other: Confo
    ) -> None:
        """Five watched namespaces cost what one does: one listener (Confo's two threads, and
        whatever the client library needs for one connection), and each namespace gets its own
        changes; the threads end within a second or so of the last watch stopping."""
        names = [unique() for _ in range(5)]
        for name in names:
            manager.create_namespace(name)
        before = set(threading.enumerate())
        seen = {name: Recorder() for name in names}
        watches = [manager.watch(seen[names[0]], namespace=names[0])]
        try:
            until(lambda: watches[0].healthy)
            one = len(set(threading.enumerate()) - before)
            watches += [manager.watch(seen[name], namespace=name) for name in names[1:]]
            until(lambda: all(watch.healthy for watch in watches))
            ours = [t for t in threading.enumerate() if t.name.startswith("confo-watch")]
            assert len(ours) == 2, ours  # one listener and one dispatcher for all five
            # A client library may start a helper thread or two on its own schedule (gRPC
            # does); five listeners would have added at least eight.
            assert len(set(threading.enumerate()) - before) <= one + 2
            for number, name in enumerate(names):
                other.use_namespace(name)
                other.set("db", {"n": number})
                other.persist()
            expected = {name: {"db": {"n": number}} for number, name in enumerate(names)}
            until(lambda: {name: seen[name].last() for name in names} == expected)
            assert all(len(recorder.events) == 1 for recorder in seen.values())
        finally:
            for watch in watches[:-1]:
                watch.stop()
        assert watches[-1].running
        watches[-1].stop()
        until(lambda: set(threading.enumerate()) <= before)

    def test_a_watch_in_place_is_healthy_and_says_since_when(self, manager: Confo, ns: str) -> None:
        with manager.watch(lambda event: None) as watch:
            until(lambda: watch.healthy)
            synced = watch.synced_at
            assert synced is not None
            assert synced.tzinfo is not None
            assert abs(time.time() - synced.timestamp()) < 10
        assert not watch.healthy

    def test_events_carry_the_value_delivered_before(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        manager.set("db", {"v": 0})
        manager.persist()
        other.use_namespace(ns)
        seen = Recorder()
        with manager.watch(seen):
            other.set("db", "v", 1)
            other.persist()
            until(lambda: seen.last() == {"db": {"v": 1}})
            other.set("db", "v", 2)
            other.set("fresh", {"new": True})
            other.persist()
            until(lambda: seen.last() == {"db": {"v": 2}, "fresh": {"new": True}})
            other.delete("db")
            other.persist()
            until(lambda: "db" not in seen.last())
        olds = {(e.config, e.kind): e.old for e in seen.events}
        assert seen.events[0].old == {"v": 0}  # what the store held when the watch began
        assert olds[("db", "put")] == {"v": 1}
        assert olds[("fresh", "put")] is None
        assert olds[("db", "delete")] == {"v": 2}
