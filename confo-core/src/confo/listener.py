"""One listener per loaded backend: every watch of it shares one connection and two threads.

- The *listener* thread runs the backend's ``confo_watch`` hook on a backend instance of its own
  (a twin of the manager's, connected with the same credentials and serving nothing else). The
  hook reports to this module's :class:`StoreListener`, a :class:`~confo.model.WatchFeed`,
  which configurations of which namespace *may* have changed, and how its connection is.
- The *dispatcher* thread reads what was named through the manager's own store (its wrappers see
  pushed values as they see reads), compares each revision with the last one each watch
  delivered, updates the manager's in-memory view, and calls each watch's callback once per
  difference, in order.

So nothing is lost silently: a notification that comes late, twice or for nothing costs a read;
after any gap the backend asks for a full read (``resync``), and every configuration whose
revision differs from the last delivered gets an event (a delete for one that is gone).

Health: a watch is healthy while the listener is connected, has shown a sign of life within
:data:`SILENT_AFTER` seconds, its dispatcher runs, and the watch's namespace was read whole since
the listener's last resynchronisation. A listener found silent comes back with its next sign of
life; one that lost the store (the backend said so, or its hook gave up) only with a resync.
One WARNING under the ``confo`` logger per outage, one INFO line once every watch is current.

Back-off: a failed listener is called again after an exponential, jittered pause
(:class:`Backoff`); a namespace whose read fails is read again after a pause of its own, or once
the listener is back, so a fleet of services does not hammer a store that restarts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from confo.backoff import Backoff
from confo.errors import (
    BackendUnavailableError,
    ConfoError,
    StoreOfflineError,
)
from confo.events import WatchEvent
from confo.model import Revision, Snapshot
from confo.recording import RecordFinder
from confo.session import BackendSession
from confo.values import JSONObject, copy_json

if TYPE_CHECKING:
    from confo.store import Store

log = logging.getLogger(__name__)

STOP_WITHIN = 1.0
"""Seconds a stop waits for the listener's threads before closing its connection anyway."""
HEARTBEAT = 2.0
"""Seconds between the signs of life a backend's listener gives (``WatchFeed.heartbeat``)."""
SILENT_AFTER = 8.0
"""Seconds without a sign of life after which a connected listener counts as cut off."""
HELD = 10 * HEARTBEAT
"""Seconds a connection must have held for the reconnect back-off to start anew."""
IN_PLACE = 2.0
"""Seconds a new listener's first watch waits for it to be in place before reading its seed."""
TICK = 1.0
"""Seconds between the dispatcher's checks for silence while nothing happens."""

Callback = Callable[[WatchEvent], object]
Seeded = Callable[[Snapshot], object]
"""Called with the snapshot a new watch starts from (a binding takes its first value)."""


class Subscriber:
    """One watch's place in the listener: its namespace, callback and what it delivered."""

    __slots__ = (
        "active",
        "callback",
        "delivered",
        "listener",
        "namespace",
        "refused",
        "seeded",
        "synced_at",
        "synced_epoch",
    )

    def __init__(self, listener: StoreListener, namespace: str, callback: Callback) -> None:
        self.active = True
        self.seeded = False  # the store's values as the watch began are known
        self.listener = listener
        self.namespace = namespace
        self.callback = callback
        # The last revision and value delivered (or seeded) for each configuration.
        self.delivered: dict[str, tuple[Revision, JSONObject | None]] = {}
        self.refused: set[str] = set()  # configurations whose delivered revision was rejected
        self.synced_epoch = -1  # the listener's epoch at the last whole read of the namespace
        self.synced_at: datetime | None = None


class _Reads:
    """How the reads of one namespace go: pending names, failures and their back-off."""

    __slots__ = ("backoff", "failing", "lock", "pending", "placements", "retry_at")

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held across a read, its comparison, and a seed
        self.pending: set[str] | None = set()  # names to read; None: all of them
        self.failing = False
        self.retry_at = 0.0
        self.backoff = Backoff()
        # Times the namespace's subscription was placed: a whole read syncs its watches only
        # if none came while it read (what it read may predate the subscription).
        self.placements = 0

    def want(self, names: Collection[str] | None) -> None:
        if names is None or self.pending is None:
            self.pending = None
        else:
            self.pending.update(names)

    def due(self, now: float) -> bool:
        return self.pending != set() and self.retry_at <= now


class StoreListener:
    """The listener and dispatcher of one loaded backend, while it has watches.

    Made by :class:`Watching` when a backend's first watch starts, and ended within
    :data:`STOP_WITHIN` seconds of its last watch stopping; a later watch gets a new one.
    It is the :class:`~confo.model.WatchFeed` its backend's ``confo_watch`` reports to.
    """

    heartbeat = HEARTBEAT

    def __init__(self, session: BackendSession) -> None:
        self._session = session
        self._store: Store = session.store
        self._cond = threading.Condition()
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._watched: frozenset[str] = frozenset()
        self._reads: dict[str, _Reads] = {}
        self._stopping = threading.Event()
        self._twin: Store | None = None
        label = f"confo-watch {self._store.name}"
        self._listener = threading.Thread(target=self._listen, name=f"{label} listener")
        self._dispatcher = threading.Thread(target=self._dispatch, name=f"{label} dispatcher")
        self._listener.daemon = self._dispatcher.daemon = True
        # Health, guarded by _cond.
        self._connected = False
        self._silent = False  # cut off by silence alone: the next sign of life brings it back
        # Namespaces whose subscription is in place, where the backend subscribes to each
        # (Capabilities.watch_scope "namespace"); None: one subscription covers them all.
        self._placed: set[str] | None = None
        self._epoch = 0
        self._last_alive = time.monotonic()
        self._alive_at = _now()  # the same moment, on the wall clock (Watch.synced_at)
        self._connected_at = 0.0
        self._held = 0.0  # how long the connection lost last had held
        self._outage_since: float | None = None

    def __repr__(self) -> str:
        return f"<StoreListener of backend {self._store.name!r} watching {sorted(self._watched)}>"

    # --- start and stop ----------------------------------------------------------------------

    def start(self, first: str) -> None:
        """Connect the listener's own instance of the backend, start both threads, and wait a
        little for the listener to be in place: a watch seeded before that is read whole
        again once it is (a resync), which on a large namespace costs a second read.
        ``first``, the namespace of the watch it starts for, is watched from the start: a
        backend that subscribes per namespace (Redis) is in place only once it has that
        subscription, so the watch is not healthy before changes reach it.

        A backend loaded offline connects its listener in the background instead, with the
        listener's back-off, and its watches start from what the view or the cache holds."""
        offline = self._store.offline
        if not offline:
            self._twin = self._store.twin()
        with self._cond:
            self._watched = frozenset({first})
            self._placed = set() if self._store.watches_per_namespace else None
        self._listener.start()
        self._dispatcher.start()
        if not offline:
            with self._cond:
                self._cond.wait_for(lambda: self._connected or self._stopping.is_set(), IN_PLACE)

    def stop(self) -> None:
        """End both threads, within :data:`STOP_WITHIN` seconds, and close the connection."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        deadline = time.monotonic() + STOP_WITHIN
        for thread in (self._listener, self._dispatcher):
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            twin = self._twin
        if twin is not None:
            # Closed even if the hook has not returned yet: that ends a call stuck on a
            # frozen connection (the hook's contract allows for it).
            twin.close()

    @property
    def running(self) -> bool:
        return not self._stopping.is_set() and self._dispatcher.is_alive()

    @property
    def ending(self) -> bool:
        return self._stopping.is_set()

    # --- subscribers -------------------------------------------------------------------------

    def subscribe(
        self, namespace: str, callback: Callback, on_seed: Seeded | None = None
    ) -> Subscriber:
        """Add a watch of ``namespace``, seeded from the store now, so that it delivers what
        changes from here on (raises what that read raises). ``on_seed`` gets the seed's
        snapshot before any event is delivered.

        It is registered before the seed is read, so that a change reported meanwhile is read
        after it: the seed and the dispatcher's reads of a namespace take one lock in turn, and
        a read before the seed leaves the watch out."""
        subscriber = Subscriber(self, namespace, callback)
        with self._cond:
            self._subscribers.setdefault(namespace, []).append(subscriber)
            self._watched = frozenset(self._subscribers)
            reads = self._reads.setdefault(namespace, _Reads())
            epoch = self._epoch
        try:
            with self._session.ordered(namespace), reads.lock:
                began = time.time()
                with self._cond:
                    placements = reads.placements
                snapshot, synced = self._seed(namespace)
                subscriber.delivered = _values(snapshot)
                subscriber.refused = set(snapshot.rejected)
                if synced:
                    self._session.merge_pushed(namespace, snapshot, None, read_at=began)
                if on_seed is not None:
                    on_seed(snapshot)
                with self._cond:
                    subscriber.seeded = True
                    if synced and reads.placements == placements:
                        subscriber.synced_epoch, subscriber.synced_at = epoch, _now()
                    if self._epoch != epoch or not synced:  # read it (again) once it can be
                        reads.want(None)
                        self._cond.notify_all()
        except BaseException:
            self.unsubscribe(subscriber)
            raise
        return subscriber

    def _seed(self, namespace: str) -> tuple[Snapshot, bool]:
        """What a new watch begins from, and whether it is the store's (else the last known
        good values of a backend loaded offline: read once it can be)."""
        try:
            return self._read(namespace), True
        except StoreOfflineError:
            seen = self._session.seen_offline(namespace)
            return (self._read(namespace), True) if seen is None else (seen, False)

    def read_again(self, namespace: str, names: Collection[str]) -> bool:
        with self._cond:
            reads = self._reads.get(namespace)
            if reads is None:
                return False
            reads.want(names)
            self._cond.notify_all()
            return True

    def read_all_again(self) -> None:
        """Read every watched namespace whole, now (the backend reconnected after an offline
        start: its reads would otherwise wait for their back-off)."""
        with self._cond:
            for reads in self._reads.values():
                reads.want(None)
                reads.retry_at = 0.0
            self._cond.notify_all()

    def _read(self, namespace: str, names: Collection[str] | None = None) -> Snapshot:
        """The namespace as stored; empty if it is gone (its configurations are then deleted,
        and it may be made again later: watched from nothing)."""
        return self._store.read(namespace, names, missing_ok=True)

    def unsubscribe(self, subscriber: Subscriber) -> bool:
        """Remove a watch; True if it was the last one (the caller then stops this listener)."""
        subscriber.active = False
        with self._cond:
            subscribers = self._subscribers.get(subscriber.namespace, [])
            if subscriber in subscribers:
                subscribers.remove(subscriber)
            if not subscribers:
                self._subscribers.pop(subscriber.namespace, None)
                self._reads.pop(subscriber.namespace, None)
                if self._placed is not None:
                    self._placed.discard(subscriber.namespace)
            self._watched = frozenset(self._subscribers)
            return not self._subscribers

    def idle(self) -> bool:
        with self._cond:
            return not self._subscribers

    def alive_at(self) -> datetime:
        with self._cond:
            return self._alive_at

    def healthy(self, subscriber: Subscriber) -> bool:
        with self._cond:
            reads = self._reads.get(subscriber.namespace)
            return (
                self._connected
                and time.monotonic() - self._last_alive <= SILENT_AFTER
                and self.running
                and subscriber.seeded
                and subscriber.synced_epoch == self._epoch
                and reads is not None
                and not reads.failing
                and (self._placed is None or subscriber.namespace in self._placed)
            )

    # --- the feed the backend reports to (any thread) ----------------------------------------

    def namespaces(self) -> frozenset[str]:
        return self._watched

    def changed(self, namespace: str, names: Collection[str] | None) -> None:
        with self._cond:
            reads = self._reads.get(namespace)
            if reads is None:
                return
            self._last_alive, self._alive_at = time.monotonic(), _now()
            reads.want(names)
            self._cond.notify_all()

    def resync(self) -> None:
        with self._cond:
            if self._stopping.is_set():
                return
            self._epoch += 1
            self._connected, self._silent = True, False
            self._last_alive = self._connected_at = time.monotonic()
            self._alive_at = _now()
            for reads in self._reads.values():
                reads.want(None)
                reads.retry_at = 0.0
            self._cond.notify_all()

    def alive(self) -> None:
        with self._cond:
            self._last_alive, self._alive_at = time.monotonic(), _now()
            back_from_silence = self._silent
        if back_from_silence:  # what was missed meanwhile is read once now
            self.resync()

    def placed(self, namespace: str) -> None:
        with self._cond:
            if self._placed is None or namespace not in self._watched:
                return
            if namespace in self._placed:  # said again: nothing new
                return
            self._placed.add(namespace)
            # What changed between the watch's seed and now came before the subscription:
            # its watches are current again once a whole read begun after this one is done.
            for subscriber in self._subscribers.get(namespace, ()):
                subscriber.synced_epoch = -1
            reads = self._reads.get(namespace)
            if reads is not None:
                reads.placements += 1
                reads.want(None)
                self._cond.notify_all()

    def lost(self, reason: str) -> None:
        self._lose(reason, silent=False)

    def _lose(self, reason: str, *, silent: bool) -> None:
        now = time.monotonic()
        with self._cond:
            was_connected, self._connected = self._connected, False
            self._silent = silent and (was_connected or self._silent)
            if self._placed is not None and not silent:  # the subscriptions went with it
                self._placed.clear()
            if was_connected:
                self._held = now - self._connected_at
                # Each current watch was current until the last sign of life.
                for subscriber in (s for subs in self._subscribers.values() for s in subs):
                    if subscriber.synced_epoch == self._epoch:
                        subscriber.synced_at = self._alive_at
            first = self._begin_outage(now)
        if self._stopping.is_set():
            return
        if first:
            log.warning(
                "Watching backend %r lost the store (%s): its watches keep the last values "
                "they had and resynchronise once it is back.",
                self._store.name,
                reason,
            )
        elif was_connected:
            log.debug("watching backend %r: lost again (%s)", self._store.name, reason)

    def _begin_outage(self, now: float) -> bool:
        """Called with the condition held: True if this begins an outage (one warning)."""
        first = self._outage_since is None
        if first:
            self._outage_since = now
        return first

    # --- the listener thread -----------------------------------------------------------------

    def _listen(self) -> None:
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                twin = self._twin or self._connect_twin()
                if twin is None:
                    return
                twin.watch(self, self._stopping)
                if self._stopping.is_set():
                    return
                raise BackendUnavailableError("the backend's watch ended by itself")
            except Exception as exc:
                if self._stopping.is_set():
                    return
                self.lost(_reason(exc))
                with self._cond:
                    held, self._held = self._held, 0.0
                if held > HELD:  # it had held a while: start the back-off anew
                    backoff.reset()
                self._stopping.wait(backoff.next())

    def _connect_twin(self) -> Store | None:
        """The listener's own connection, made on its thread (a backend loaded offline); None
        if the listener is stopping, which then closes it."""
        twin = self._store.twin()
        with self._cond:
            if not self._stopping.is_set():
                self._twin = twin
                return twin
        twin.close()
        return None

    # --- the dispatcher thread ---------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            namespace, names, epoch = job
            try:
                events = self._read_and_follow(namespace, names, epoch)
            except Exception as exc:  # a wrapper's bug too: the dispatcher must go on
                self._read_failed(namespace, names, exc)
                continue
            if events and self._session.store.keeps_history:
                records = RecordFinder(self._session.store, namespace)
                events = [(s, replace(event, _find=records.find)) for s, event in events]
            for subscriber, event in events:
                _deliver(subscriber, event)

    def _next_job(self) -> tuple[str, set[str] | None, int] | None:
        """The next namespace to read, what of it, and the epoch it is read at; None to end.

        While the listener is cut off, namespaces whose reads failed wait for it to be back
        (its resync reads them all), rather than retry against a store that is down."""
        with self._cond:
            while True:
                if self._stopping.is_set():
                    return None
                self._check_silence()
                now = time.monotonic()
                ready = [
                    (namespace, reads)
                    for namespace, reads in self._reads.items()
                    if reads.due(now) and (self._connected or not reads.failing)
                ]
                if ready:
                    namespace, reads = ready[0]
                    names, reads.pending = reads.pending, set()
                    return namespace, names, self._epoch
                waits = [r.retry_at - now for r in self._reads.values() if r.pending != set()]
                self._cond.wait(min([TICK, *(w for w in waits if w > 0)]))

    def _check_silence(self) -> None:
        """Called with the condition held: a connected listener that went quiet is cut off."""
        quiet = time.monotonic() - self._last_alive
        if self._connected and quiet > SILENT_AFTER:
            self._cond.release()
            try:
                reason = f"no sign of life for {quiet:.0f}s: a frozen or half-open connection?"
                self._lose(reason, silent=True)
            finally:
                self._cond.acquire()

    def _read_and_follow(
        self, namespace: str, names: set[str] | None, epoch: int
    ) -> list[tuple[Subscriber, WatchEvent]]:
        """Read what may have changed, update the manager's view, and find each watch's events,
        in step with the manager's persists and reloads of the namespace (never between a
        persist's write and its bookkeeping, which would bring back an older value)."""
        with self._cond:
            reads = self._reads.get(namespace)
        if reads is None:  # no longer watched
            return []
        with self._session.ordered(namespace), reads.lock:
            began = time.time()
            with self._cond:
                placements = reads.placements
            snapshot = self._read(namespace, names)
            with self._cond:
                subscribers = [s for s in self._subscribers.get(namespace, ()) if s.seeded]
            events = [
                (subscriber, event)
                for subscriber in subscribers
                for event in _differences(subscriber, snapshot, names)
            ]
            current = self._current(began, names, epoch)
            self._session.merge_pushed(namespace, snapshot, names, read_at=current)
        self._read_done(reads, subscribers, names is None, epoch, placements)
        return events

    def _current(self, began: float, names: set[str] | None, epoch: int) -> float | None:
        """Until when the namespace's whole view is known current after a read that began at
        ``began``: then, for a whole read; for a read of some names, the last sign of life
        (every change before it was told) if the listener is connected and has missed
        nothing since its last resync; else None (not known)."""
        if names is None:
            return began
        with self._cond:
            if not self._connected or self._silent or epoch != self._epoch:
                return None
            return min(began, self._alive_at.timestamp())

    def _read_done(
        self, reads: _Reads, subscribers: list[Subscriber], whole: bool, epoch: int, placements: int
    ) -> None:
        with self._cond:
            reads.failing = False
            reads.backoff.reset()
            if whole and reads.placements == placements:
                now = _now()
                for subscriber in subscribers:
                    subscriber.synced_epoch, subscriber.synced_at = epoch, now
            caught_up = (
                self._connected
                and all(not r.failing for r in self._reads.values())
                and all(
                    s.synced_epoch == self._epoch
                    for subs in self._subscribers.values()
                    for s in subs
                )
            )
            outage = self._outage_since if caught_up else None
            if outage is not None:
                self._outage_since = None
        if outage is not None:
            log.info(
                "Watching backend %r: the store is back and every watch is current again "
                "(after %.1fs).",
                self._store.name,
                time.monotonic() - outage,
            )

    def _read_failed(self, namespace: str, names: set[str] | None, exc: Exception) -> None:
        """Keep what was to be read; read it again after a pause of its own, or once the
        listener is back. A failing read is part of an outage too: one warning for it all."""
        with self._cond:
            reads = self._reads.get(namespace)
            if reads is None:
                return
            reads.want(names)
            reads.failing = True
            reads.retry_at = time.monotonic() + reads.backoff.next()
            first = self._begin_outage(time.monotonic())
        if self._stopping.is_set():
            return
        if not isinstance(exc, ConfoError):
            log.exception("Watching backend %r: reading %r failed", self._store.name, namespace)
        elif first:
            log.warning(
                "Watching backend %r could not read namespace %r (%s): its watches keep the "
                "last values they had and catch up once it answers.",
                self._store.name,
                namespace,
                exc,
            )
        else:
            log.debug(
                "watching backend %r: reading %r failed (%s)", self._store.name, namespace, exc
            )


class Watching:
    """The watches of one loaded backend: starts its :class:`StoreListener` with the first
    watch and stops it with the last."""

    def __init__(self, session: BackendSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._listener: StoreListener | None = None
        self._closed = False

    def subscribe(
        self, namespace: str, callback: Callback, on_seed: Seeded | None = None
    ) -> Subscriber:
        with self._lock:
            if self._closed:
                raise BackendUnavailableError(
                    f"Backend {self._session.store.name!r} is closed: load it again to watch."
                )
            listener = self._listener
            if listener is None or not listener.running:
                if listener is not None:
                    listener.stop()  # ended, or its dispatcher died: a new one
                listener = StoreListener(self._session)
                listener.start(namespace)  # raises if its connection cannot be made
                self._listener = listener
            try:
                return listener.subscribe(namespace, callback, on_seed)
            except BaseException:
                if listener.idle():  # made for this watch alone
                    self._listener = None
                    listener.stop()
                raise

    def unsubscribe(self, subscriber: Subscriber) -> None:
        listener = subscriber.listener
        with self._lock:
            last = listener.unsubscribe(subscriber)
            if last and self._listener is listener:
                self._listener = None
        if last:
            listener.stop()

    def read_again(self, namespace: str, names: Collection[str]) -> bool:
        """Have the watches of ``namespace`` read ``names`` again (a local check was removed:
        what it refused may now be delivered); False if nothing watches it."""
        with self._lock:
            listener = self._listener
        return listener is not None and listener.read_again(namespace, names)

    def read_all_again(self) -> None:
        """Have every watch read its namespace whole, now (see ``StoreListener``)."""
        with self._lock:
            listener = self._listener
        if listener is not None:
            listener.read_all_again()

    def stop_all(self) -> None:
        """Stop every watch, for good: the backend is being closed."""
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()


def _values(snapshot: Snapshot) -> dict[str, tuple[Revision, JSONObject | None]]:
    """What a watch starts from: each value, and each rejected one's revision (with no value:
    it was never valid as far as the watch knows)."""
    values: dict[str, tuple[Revision, JSONObject | None]] = {
        name: (snapshot.revisions[name], config) for name, config in snapshot.configs.items()
    }
    values.update({name: (revision, None) for name, (_, revision, _) in snapshot.rejected.items()})
    return values


def _differences(
    subscriber: Subscriber, snapshot: Snapshot, names: Collection[str] | None
) -> list[WatchEvent]:
    """The events that bring ``subscriber`` from what it delivered to ``snapshot``; recorded."""
    events = []
    delivered, namespace = subscriber.delivered, subscriber.namespace
    for name, revision in snapshot.revisions.items():
        before = delivered.get(name)
        refused = subscriber.refused
        # A value refused at a revision may be taken at the same one (the check refusing it
        # was a binding's model, now closed).
        taken_now = name in refused and name not in snapshot.rejected
        if before is None or before[0] != revision or taken_now:
            old = None if before is None else before[1]
            rejected = snapshot.rejected.get(name)
            if rejected is not None:  # the view keeps the last valid value: so does the watch
                delivered[name] = (revision, old)
                refused.add(name)
                value, _, error = rejected
                events.append(WatchEvent(namespace, name, "rejected", value, revision, old, error))
                continue
            value = snapshot.configs[name]
            delivered[name] = (revision, value)
            refused.discard(name)
            events.append(WatchEvent(namespace, name, "put", value, revision, old))
    asked = delivered.keys() if names is None else names
    gone = sorted(name for name in asked if name in delivered and name not in snapshot.revisions)
    for name in gone:
        _, old = delivered.pop(name)
        subscriber.refused.discard(name)
        events.append(WatchEvent(namespace, name, "delete", None, None, old))
    return events


def _deliver(subscriber: Subscriber, event: WatchEvent) -> None:
    if not subscriber.active or subscriber.listener.ending:
        return
    copy = WatchEvent(
        event.namespace,
        event.config,
        event.kind,
        copy_json(event.value),
        event.revision,
        copy_json(event.old),
        event.error,
        event._find,
    )
    try:
        subscriber.callback(copy)
    except Exception:  # a callback's bug must not end the watch
        log.exception("a watch callback failed on %s of %r", event.kind, event.config)


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ConfoError) else f"{type(exc).__name__}: {exc}"


def _now() -> datetime:
    return datetime.now(timezone.utc)
