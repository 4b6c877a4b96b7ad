"""Watching every watched namespace of one ZooKeeper backend on one connection.

ZooKeeper 3.6 and later: one persistent recursive watch (``addWatch``) on ``/confo``, whatever
the namespaces hold; events of namespaces not watched are dropped. kazoo 2.x can neither send
that request nor deliver its events, so :class:`_AddWatch` is the request in kazoo's own
protocol classes, and :class:`_Catcher`, put in place of kazoo's table of data watchers, gives
the events under ``/confo`` to this module (kazoo only delivers an event to a watcher it finds
there). Both lean on kazoo's internals (``_call``, ``_data_watchers``), tested against kazoo's
version here; a server that refuses the request (3.5 and older) gets the fallback below.

Older servers: each namespace gets one-shot watches: ``exists`` on its znode (made, deleted),
``get_children`` on it (configurations created and deleted) and ``exists`` on each
configuration (changed). They are armed with kazoo's asynchronous calls, so arming 10,000
configurations is one pipelined burst rather than 10,000 round trips, and re-armed as each
fires.

kazoo drops every watch when its connection is lost (SUSPENDED) or its session expires (LOST),
and changes made meanwhile reach no watch: each transition back to CONNECTED re-arms everything
and asks Confo for a full read (``feed.resync()``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque, namedtuple
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import AsyncResult
from kazoo.protocol.serialization import int_struct, write_string
from kazoo.protocol.states import EventType, KazooState, WatchedEvent

from confo.errors import BackendUnavailableError
from confo.model import WatchFeed

ROOT = "/confo"
PERSISTENT_RECURSIVE = 1  # ZooKeeper's AddWatchMode
POLL = 0.25  # seconds between looks at the set of watched namespaces


class StoreWatcher:
    """Reports every change under ``/confo/<namespace>`` of the watched namespaces to ``feed``."""

    def __init__(self, client: KazooClient, feed: WatchFeed, stopping: threading.Event) -> None:
        self.client = client
        self.feed = feed
        self.stopping = stopping
        self.lock = threading.Lock()
        self.tokens: dict[str, object] = {}  # namespace -> its arming (see _follow_namespaces)
        self.armed: dict[str, set[str]] = {}  # namespace -> configurations with a watch
        self.listed: set[str] = set()  # namespaces whose children were listed once
        self.reconnected = threading.Event()
        self.answered = time.monotonic()
        # Configurations to arm, handed from kazoo's callback thread to this one: sending
        # 10,000 requests takes kazoo seconds, and its callbacks (heartbeat answers among them)
        # would wait meanwhile.
        self.to_arm: deque[tuple[str, object, list[str], Callable[[], None]]] = deque()
        self.wake = threading.Event()
        self.persistent: bool | None = None  # addWatch: None until the server answers one

    def run(self) -> None:
        self.client.add_listener(self._on_state)
        try:
            self._arm_all()
            beat = time.monotonic()
            while not self._wait():
                self._arm_configs()
                if self.reconnected.is_set():
                    self.reconnected.clear()
                    self._arm_all()
                self._follow_namespaces()
                now = time.monotonic()
                if now - beat >= self.feed.heartbeat:
                    beat = now
                    self._heartbeat()
                if now - self.answered > 3 * self.feed.heartbeat + 1 and self.client.connected:
                    raise BackendUnavailableError(
                        "ZooKeeper did not answer the watch's heartbeats: the connection is silent"
                    )
        finally:
            self.client.remove_listener(self._on_state)
            with self.lock:
                self.tokens.clear()  # every callback still armed does nothing from now on

    def _wait(self) -> bool:
        """Until there is something to arm, or ``POLL`` seconds; True once stopping."""
        self.wake.wait(POLL)
        self.wake.clear()
        return self.stopping.is_set()

    def _arm_configs(self) -> None:
        while self.to_arm and not self.stopping.is_set():
            namespace, token, names, report = self.to_arm.popleft()
            for name in names:
                if not self._current(namespace, token):
                    break
                self._arm_config(namespace, name, token, report)

    # --- connection state (kazoo's connection thread: never block here) ----------------------

    def _on_state(self, state: str) -> None:
        if self.stopping.is_set():
            return
        if state == KazooState.CONNECTED:
            self.reconnected.set()
        elif state == KazooState.SUSPENDED:
            self.feed.lost("the connection to ZooKeeper was lost; kazoo is reconnecting")
        else:
            self.feed.lost("the ZooKeeper session expired; kazoo is starting a new one")

    def _heartbeat(self, resync: bool = False) -> None:
        """A round trip on the watch's connection; with ``resync``, sent after the namespaces'
        first arming requests, which ZooKeeper answers first (a session's requests are answered
        in order). Their configurations' watches are armed from those answers, after it: each
        namespace then asks for a read of its own once they are (``changed(ns, None)``)."""

        def answered(result: Any) -> None:
            if not result.successful() or self.stopping.is_set():
                return
            self.answered = time.monotonic()
            if resync:
                self.feed.resync()
            else:
                self.feed.alive()

        self.client.exists_async(ROOT).rawlink(answered)

    # --- arming ------------------------------------------------------------------------------

    def _arm_all(self) -> None:
        """(Re)arm every watched namespace, then resynchronise (see :meth:`_heartbeat`)."""
        with self.lock:
            self.tokens.clear()
            self.armed.clear()
        self.answered = time.monotonic()
        if self.persistent is False:
            self._follow_namespaces()
            self._heartbeat(resync=True)
            return
        # kazoo empties its table of watchers at every reconnect: put the catcher back.
        self.client._data_watchers = _Catcher(self.client._data_watchers, self._caught)
        self._follow_namespaces()
        result = AsyncResult(self.client.handler)
        result.rawlink(self._root_watch_answered)
        self.client._call(_AddWatch(ROOT, PERSISTENT_RECURSIVE), result)

    def _root_watch_answered(self, answer: Any) -> None:
        try:
            answer.get()
        except KazooException:  # a server older than 3.6: one-shot watches, per namespace
            self.persistent = False
            with self.lock:
                tokens = dict(self.tokens)
            for namespace, token in tokens.items():
                self._arm_one_shot(namespace, token)
        else:
            self.persistent = True
        self._heartbeat(resync=True)

    def _follow_namespaces(self) -> None:
        """Arm namespaces that joined the watched set; forget those that left. Each arming has
        a token of its own: callbacks of an earlier one (the namespace left and came back, or
        the connection was lost) do nothing, and re-arm nothing."""
        wanted = self.feed.namespaces()
        with self.lock:
            for namespace in [ns for ns in self.tokens if ns not in wanted]:
                del self.tokens[namespace]
                self.armed.pop(namespace, None)
            new = {ns: object() for ns in wanted if ns not in self.tokens}
            self.tokens.update(new)
            for namespace in new:
                self.armed[namespace] = set()
                self.listed.discard(namespace)
        for namespace, token in new.items():
            self._arm_namespace(namespace, token)

    def _current(self, namespace: str, token: object) -> bool:
        return not self.stopping.is_set() and self.tokens.get(namespace) is token

    def _arm_namespace(self, namespace: str, token: object) -> None:
        """One-shot watches for ``namespace`` on a server without addWatch; with it (or until
        the server has said), the watch on ``/confo`` serves every namespace already."""
        if self.persistent is False:
            self._arm_one_shot(namespace, token)

    def _caught(self, event: WatchedEvent) -> None:
        """An event of the persistent watch: a namespace's znode, or one under it. Every one
        goes to the feed, which drops those of namespaces nobody watches: a namespace watched
        since a moment ago is in place already (the watch on /confo covers it)."""
        namespace, _, config = event.path[len(ROOT) + 1 :].partition("/")
        if not namespace or self.stopping.is_set():
            return
        if not config:
            self.feed.changed(namespace, None)
        elif "/" not in config:
            self.feed.changed(namespace, [config])

    def _arm_one_shot(self, namespace: str, token: object) -> None:
        path = f"{ROOT}/{namespace}"

        def made_or_deleted(event: WatchedEvent) -> None:
            if event.type != EventType.NONE and self._current(namespace, token):
                self._arm_one_shot(namespace, token)
                self.feed.changed(namespace, None)

        def exists(result: Any) -> None:
            if not self._current(namespace, token):
                return
            if result.successful() and result.get() is not None:
                self._arm_children(namespace, token)
            else:  # not made yet (or gone): nothing more to arm until it is
                with self.lock:
                    self.armed[namespace] = set()
                self.feed.changed(namespace, None)

        self.client.exists_async(path, watch=made_or_deleted).rawlink(exists)

    def _arm_children(self, namespace: str, token: object) -> None:
        path = f"{ROOT}/{namespace}"

        def children_changed(event: WatchedEvent) -> None:
            if event.type == EventType.CHILD and self._current(namespace, token):
                self._arm_children(namespace, token)

        def listed(result: Any) -> None:
            if not self._current(namespace, token) or not result.successful():
                return  # deleted meanwhile: its exists watch fires and tells
            children = set(result.get())
            with self.lock:
                known = self.armed.get(namespace, set())
                added, removed = children - known, known - children
                self.armed[namespace] = children
                first = namespace not in self.listed
                self.listed.add(namespace)
            # Reported once the new watches are in place: a change read before that could
            # land between the read and the watch, and reach neither.
            names = None if first else [*added, *removed]
            if added:
                report = _after(len(added), lambda: self.feed.changed(namespace, names))
                self.to_arm.append((namespace, token, sorted(added), report))
                self.wake.set()
            elif first or removed:
                self.feed.changed(namespace, names)

        self.client.get_children_async(path, watch=children_changed).rawlink(listed)

    def _arm_config(
        self, namespace: str, name: str, token: object, armed: Callable[[], None]
    ) -> None:
        path = f"{ROOT}/{namespace}/{name}"
        watch = self._config_watch(namespace, name, token)

        def answered(_result: Any) -> None:
            self._answered()
            armed()

        self.client.exists_async(path, watch=watch).rawlink(answered)

    def _answered(self) -> None:
        """An answer on the watch's connection is a sign of life. While thousands of watches
        are armed, the heartbeat waits behind them in kazoo's queue (seconds, for 10,000):
        their answers keep the connection from counting as silent meanwhile."""
        now = time.monotonic()
        if now - self.answered > 0.5:
            self.answered = now
            self.feed.alive()

    def _config_watch(
        self, namespace: str, name: str, token: object
    ) -> Callable[[WatchedEvent], None]:
        def changed(event: WatchedEvent) -> None:
            if event.type == EventType.NONE or not self._current(namespace, token):
                return
            if event.type == EventType.DELETED:
                with self.lock:
                    self.armed.get(namespace, set()).discard(name)
                self.feed.changed(namespace, [name])
                return
            # Re-armed first, reported once the watch is back in place (see _arm_children).
            report = _after(1, lambda: self.feed.changed(namespace, [name]))
            self._arm_config(namespace, name, token, report)

        return changed


def _after(count: int, then: Callable[[], None]) -> Callable[[], None]:
    """A callback that calls ``then`` on its ``count``-th call (from any thread)."""
    left = [count]
    lock = threading.Lock()

    def one() -> None:
        with lock:
            left[0] -= 1
            done = left[0] == 0
        if done:
            then()

    return one


class _AddWatch(namedtuple("_AddWatch", "path mode")):
    """ZooKeeper 3.6's addWatch request (opcode 106), in the form of kazoo's own requests:
    a named tuple whose class carries the opcode."""

    type = 106

    def serialize(self) -> bytearray:
        data = bytearray(write_string(self.path))
        data.extend(int_struct.pack(self.mode))
        return data

    @classmethod
    def deserialize(cls, data: bytes, offset: int) -> None:
        return None  # the answer is its header alone


class _Catcher(defaultdict[str, set[Any]]):
    """kazoo's table of data watchers (path -> one-shot watchers), which also gives every
    event under ``/confo/`` to ``caught``: a persistent watch's events name paths nobody
    registered a watcher for, which kazoo would drop."""

    def __init__(self, table: dict[str, set[Any]], caught: Callable[[WatchedEvent], None]) -> None:
        super().__init__(set, table)
        self.caught = caught

    def pop(self, path: str, *default: Any) -> set[Any]:
        found = set(super().pop(path, ()))
        if path.startswith(ROOT + "/"):
            found.add(self.caught)
        return found
