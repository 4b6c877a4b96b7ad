"""Watching a namespace: changes pushed from the store to a callback and to the live view.

Two threads per watch, and a connection of its own:

- the *listener* runs the backend's ``confo_watch`` hook on a backend instance of its own,
  connected with the same credentials, so the watch shares no client with other calls and a
  backend still need not be thread-safe. The hook only says which configurations *may* have
  changed (``notify(names)``), or that anything may have (``notify(None)``: at start, after a
  reconnect, after a gap the store cannot replay);
- the *dispatcher* reads what was named through the manager's own store (its wrappers see pushed
  values as they see reads), compares each revision with the last one it delivered, updates the
  manager's in-memory view, and calls the callback once per difference, in order.

So nothing is lost silently: a notification that comes late, twice or for nothing costs a read;
after any gap the backend asks for a full read, and every configuration whose revision differs
from the last delivered gets an event (a delete for one that is gone). Intermediate values
between two reads are collapsed into the latest: each event carries the store's current value.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from confo.errors import ConfoError
from confo.model import Revision, Snapshot
from confo.values import JSONObject, copy_json

if TYPE_CHECKING:
    from confo.session import BackendSession
    from confo.store import Store

log = logging.getLogger(__name__)

STOP_WITHIN = 1.0
"""Seconds ``stop()`` waits for the watch's threads."""
RETRY_PAUSE = 0.2
"""Seconds between attempts to read after a failed read, or to restart a failed listener."""


@dataclass(frozen=True)
class WatchEvent:
    """One change of one configuration, as the store holds it now.

    ``kind`` is ``"put"`` (``value`` is the configuration) or ``"delete"`` (``value`` is None);
    ``revision`` is the store's revision of it (None for a delete).
    """

    namespace: str
    config: str
    kind: Literal["put", "delete"]
    value: JSONObject | None
    revision: Revision | None

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON types (``confo watch`` prints this)."""
        return {
            "namespace": self.namespace,
            "config": self.config,
            "kind": self.kind,
            "value": self.value,
            "revision": self.revision,
        }


Callback = Callable[[WatchEvent], object]


class Watch:
    """A running watch of one namespace. ``stop()`` ends it; also a context manager."""

    def __init__(
        self,
        session: BackendSession,
        namespace: str,
        callback: Callback,
        listener_store: Store,
    ) -> None:
        self.namespace = namespace
        self._session = session
        self._callback = callback
        self._listener_store = listener_store
        self._stopping = threading.Event()
        self._wake = threading.Condition()
        self._pending: set[str] | None = set()  # names to read; None: everything
        self._delivered: dict[str, Revision] = {}
        label = f"confo-watch {session.store.name}/{namespace}"
        self._listener = threading.Thread(target=self._listen, name=f"{label} listener")
        self._dispatcher = threading.Thread(target=self._dispatch, name=f"{label} dispatcher")
        self._listener.daemon = self._dispatcher.daemon = True

    def __repr__(self) -> str:
        state = "stopped" if self._stopping.is_set() else "running"
        return f"<Watch {self.namespace!r} of backend {self._session.store.name!r} {state}>"

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Seed what counts as delivered from the store, then start both threads."""
        try:
            with self._session.ordered(self.namespace):
                snapshot = self._session.store.read(self.namespace)
                self._delivered = dict(snapshot.revisions)
                self._session.merge_pushed(self.namespace, snapshot, None)
        except BaseException:
            self._listener_store.close()
            raise
        self._session.watching(self, True)
        self._listener.start()
        self._dispatcher.start()

    def stop(self) -> None:
        """End the watch: within about a second, no thread and no connection of it is left."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        deadline = time.monotonic() + STOP_WITHIN
        for thread in (self._listener, self._dispatcher):
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        self._listener_store.close()
        self._session.watching(self, False)

    @property
    def running(self) -> bool:
        return not self._stopping.is_set() and self._dispatcher.is_alive()

    # --- the listener ------------------------------------------------------------------------

    def notify(self, names: Collection[str] | None) -> None:
        """What the backend calls: these configurations (None: any) may have changed."""
        with self._wake:
            if names is None or self._pending is None:
                self._pending = None
            else:
                self._pending.update(names)
            self._wake.notify_all()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listener_store.watch(self.namespace, self.notify, self._stopping)
            except Exception as exc:  # the backend gave up: start it again, and resync
                if self._stopping.is_set():
                    return
                log.warning("watch of %r stopped (%s); restarting it", self.namespace, exc)
                self._stopping.wait(RETRY_PAUSE)
                self.notify(None)

    # --- the dispatcher ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._wake:
                while self._pending == set() and not self._stopping.is_set():
                    self._wake.wait()
                if self._stopping.is_set():
                    return
                names, self._pending = self._pending, set()
            try:
                events = self._read_and_follow(names)
            except ConfoError as exc:  # the store went away: keep the names, try again
                log.info("watch of %r could not read (%s); retrying", self.namespace, exc)
                self.notify(names)
                self._stopping.wait(RETRY_PAUSE)
                continue
            for event in events:
                self._deliver(event)

    def _read_and_follow(self, names: Collection[str] | None) -> list[WatchEvent]:
        """Read what may have changed and update the manager's view, in step with its own
        persists and reloads of the namespace (never between a persist's write and its
        bookkeeping, which would bring back an older value)."""
        with self._session.ordered(self.namespace):
            snapshot = self._session.store.read(self.namespace, names)
            events = self._differences(snapshot, names)
            self._session.merge_pushed(self.namespace, snapshot, names)
        return events

    def _differences(self, snapshot: Snapshot, names: Collection[str] | None) -> list[WatchEvent]:
        events = []
        for name, revision in snapshot.revisions.items():
            if self._delivered.get(name) != revision:
                self._delivered[name] = revision
                value = snapshot.configs[name]
                events.append(WatchEvent(self.namespace, name, "put", value, revision))
        asked = self._delivered.keys() if names is None else names
        gone = [name for name in asked if name in self._delivered and name not in snapshot.configs]
        for name in sorted(gone):
            del self._delivered[name]
            events.append(WatchEvent(self.namespace, name, "delete", None, None))
        return events

    def _deliver(self, event: WatchEvent) -> None:
        copy = WatchEvent(
            event.namespace, event.config, event.kind, copy_json(event.value), event.revision
        )
        try:
            self._callback(copy)
        except Exception:  # a callback's bug must not end the watch
            log.exception("a watch callback failed on %s of %r", event.kind, event.config)
