"""What a manager holds for one loaded backend: its namespaces in memory, and its current one.

This module is the one owner of that state, and depends on nothing above it: namespace handles,
watches and the backend's listener are built on it. Everything that changes the state (an edit,
a persist's result, a reload, what another process wrote) goes through a method here, called
with the manager's lock held; nothing else assigns its fields.

Locking: the manager's lock guards the in-memory state and is never held across store I/O, so a
slow persist or reload does not block ``get`` in other threads. That works because a
configuration's dict is never changed in place once stored: an edit builds a new top-level dict
(nested values are fresh copies already). A persist can therefore send the dicts it found,
unlocked, while other threads keep editing; afterwards it clears "changed" only for the
configurations that are still the objects it wrote.

Each namespace also has an ``order`` lock, held across a whole persist or reload of it (store I/O
included, the manager's lock not): persists of one namespace reach the store in the order they
collected their changes, each based on the revisions the one before it wrote, and a reload never
interleaves with a persist to leave a stale view that looks saved.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING

from confo import history, schemas
from confo.cache import CacheWriter
from confo.errors import StoreOfflineError
from confo.history import Diff, default_author
from confo.model import Changes, Revision, Snapshot
from confo.values import JSONObject

if TYPE_CHECKING:
    from confo.store import Store


log = logging.getLogger(__name__)

MAX_UNSURE = 16
"""How many values sent with unknown outcome a configuration remembers (a writer retrying
through an outage); older ones are forgotten, at worst a false conflict later."""


class NamespaceState:
    """The in-memory view of one namespace of one store, and what the store held when read."""

    __slots__ = (
        "configs",
        "deleted",
        "dirty",
        "from_cache",
        "namespace",
        "read_at",
        "rejected",
        "revisions",
        "rules",
        "stored",
        "unsure",
    )

    def __init__(
        self,
        snapshot: Snapshot,
        namespace: str = "",
        *,
        read_at: float | None = None,
        from_cache: bool = False,
    ) -> None:
        self.namespace = namespace
        # When the whole view was last known to be what the store holds: when the read that
        # made it began (a whole read, or a current watch's), never later. It is the time a
        # cache of it is saved with, which max_staleness trusts. ``from_cache``: it came from
        # the cache, and the store has not been read whole since.
        self.read_at = time.time() if read_at is None else read_at
        self.from_cache = from_cache
        self.configs: dict[str, JSONObject] = snapshot.configs
        # The store's revision of each configuration as last read or written here; a name
        # without one was not in the store as far as this manager knows. A value the store
        # holds that fails its schema has its revision here (a write replaces it) but not its
        # value in ``configs``: that keeps the last valid one, if any.
        self.revisions: dict[str, Revision] = snapshot.revisions
        # What the store held at those revisions: a change record's "before" (the same dicts
        # as ``configs`` until edited: an edit replaces a dict, never changes it).
        self.stored: dict[str, JSONObject] = dict(snapshot.configs)
        # The namespace's schemas as last read, with the schema document's revision (writes
        # are conditional on it); stored values they refuse: name -> (revision, error).
        self.rules = schemas.Rules(namespace, snapshot.schemas, snapshot.schemas_revision)
        self.rejected: dict[str, tuple[Revision, str]] = {}
        # Changed in memory since read or written; a dict keeps the order of the edits, so the
        # store's own indexes list new configurations in the order they were set.
        self.dirty: dict[str, None] = {}
        self.deleted: set[str] = set()  # deleted in memory, still to delete in the store
        # Written, but the store's answer was lost (a connection cut after the write left): the
        # revision the writes expected, and every value sent meanwhile (None: a delete; a
        # writer retrying through an outage sends several, any of which may have landed).
        # Resolved by the next read of the name: if the store holds one of them, it was ours.
        self.unsure: dict[str, tuple[Revision | None, list[JSONObject | None]]] = {}
        self._take_rejected(snapshot)

    def check(self, name: str, values: JSONObject) -> None:
        """Raise SchemaError if ``values`` fails the schema of ``name`` held here."""
        self.rules.check(name, values)

    def check_changes(self, changes: Changes) -> None:
        """Raise SchemaError if anything ``changes`` puts fails its schema held here."""
        for name, values in changes.put.items():
            self.check(name, values)

    def take_schemas(self, snapshot: Snapshot) -> None:
        """The namespace's schemas as the store holds them now (read, or just written)."""
        self.rules = self.rules.follow(snapshot)

    def _take_rejected(self, snapshot: Snapshot) -> None:
        """Note what ``snapshot`` holds that fails its schema: its revision and value are what
        the store holds (a write replaces it), the view keeps its last valid value."""
        for name, (values, revision, error) in snapshot.rejected.items():
            if name in self.dirty or name in self.deleted:
                continue  # local edits stay, based on the revision they were made on
            self.revisions[name] = revision
            self.stored[name] = values
            if self.rejected.get(name, (None, ""))[0] != revision:
                kept = "its last valid value" if name in self.configs else "nothing"
                log.warning("%s The live view holds %s.", error, kept)
            self.rejected[name] = (revision, error)

    def has_unsaved_changes(self) -> bool:
        return bool(self.dirty or self.deleted)

    def known_good(self) -> Snapshot:
        """What the store holds, as far as this manager knows, with only values that passed
        their schema: for a rejected one, the last valid value the view kept (if any). What a
        cache saves, and what a watch started offline begins from."""
        configs: dict[str, JSONObject] = {}
        revisions: dict[str, Revision] = {}
        for name, revision in self.revisions.items():
            if name not in self.rejected:
                value = self.stored.get(name)
            elif name in self.dirty or name in self.deleted:
                value = None  # the view holds an edit, not the last valid stored value
            else:
                value = self.configs.get(name)
            if value is not None:
                configs[name], revisions[name] = value, revision
        return Snapshot(configs, revisions, self.rules.schemas, self.rules.revision)

    def holds(self, name: str) -> bool:
        """Whether ``name`` is here, or deleted here with the store still to be told."""
        return name in self.configs or name in self.deleted

    def replace(self, name: str, values: JSONObject) -> None:
        """Store a new dict for ``name`` (never change a stored one: persists may hold it)."""
        self.configs[name] = values
        self.dirty[name] = None
        self.deleted.discard(name)

    def remove(self, name: str) -> None:
        """Delete ``name`` in memory; persist deletes it in the store if the store has it."""
        del self.configs[name]
        self.dirty.pop(name, None)
        if name in self.revisions:
            self.deleted.add(name)

    def changes(self, only: str | None = None, *, force: bool = False) -> Changes:
        """What a persist must send (of everything, or of ``only``), with expected revisions."""
        if only is None:
            put = {name: self.configs[name] for name in self.dirty}
            delete = set(self.deleted)
        elif only in self.dirty:
            put, delete = {only: self.configs[only]}, set()
        elif only in self.deleted:
            put, delete = {}, {only}
        else:
            return Changes()
        expected = {name: self.revisions.get(name) for name in (*put, *delete)}
        return Changes(put, delete, expected, force)

    def diff(self, changes: Changes) -> Diff:
        """Each name ``changes`` touches, from what the store held (as far as this manager
        knows: a conditional write proves it) to what the write leaves."""
        return history.diff(self.stored, changes.put, changes.delete)

    def written(
        self, changes: Changes, revisions: dict[str, Revision], deleted: Collection[str]
    ) -> None:
        """Record what a persist wrote (all of ``changes``, or part of it after a split write
        stopped): new revisions, and which edits are now saved."""
        for name, values in changes.put.items():
            if name not in revisions:
                continue
            self.revisions[name] = revisions[name]
            self.stored[name] = values
            if self.configs.get(name) is values:  # not edited again while it was being written
                self.dirty.pop(name, None)
        for name in deleted:
            self.revisions.pop(name, None)
            self.stored.pop(name, None)
            self.deleted.discard(name)
        for name in [*revisions, *deleted]:
            self.unsure.pop(name, None)
            self.rejected.pop(name, None)  # replaced by a value that passed its schema

    def sent_unknown(self, changes: Changes, settled: Iterable[str] = ()) -> None:
        """A write of ``changes`` may or may not have reached the store (its answer was lost);
        the names in ``settled`` are known to have been written (the first parts of a split)."""
        done = set(settled)
        sent: dict[str, JSONObject | None] = {**changes.put, **dict.fromkeys(changes.delete)}
        for name, values in sent.items():
            if name in done:
                continue
            expected = changes.expects(name)
            earlier = self.unsure.get(name)
            if earlier is not None and earlier[0] == expected:
                earlier[1][:] = [*earlier[1][-(MAX_UNSURE - 1) :], values]
            else:
                self.unsure[name] = (expected, [values])

    def resolve(self, snapshot: Snapshot, names: Collection[str]) -> None:
        """Settle the unsure writes of ``names`` against what the store holds now (``snapshot``
        has every one of them that exists): where it holds exactly what was sent, the write was
        this manager's, and its revision is taken as such. Where it still holds what the write
        expected, the write has not landed, and may yet (it stays unsure, and the next
        conditional write settles it); anything else is someone else's change, which the next
        conditional write reports as the conflict it is."""
        for name in names:
            if name not in self.unsure:
                continue
            expected, sent = self.unsure.pop(name)
            stored = snapshot.configs.get(name)
            if stored not in sent:
                if snapshot.revisions.get(name) == expected:
                    self.unsure[name] = (expected, sent)
                continue
            held = self.configs.get(name)
            edited_since = name in self.dirty and not any(held is value for value in sent)
            if stored is None:
                self.revisions.pop(name, None)
                self.stored.pop(name, None)
                if not edited_since:
                    self.deleted.discard(name)
                continue
            self.revisions[name] = snapshot.revisions[name]
            self.stored[name] = stored
            if not edited_since and name not in self.deleted:
                self.configs[name] = stored
                self.dirty.pop(name, None)

    def absorb(self, name: str, values: JSONObject, revision: Revision) -> None:
        """Take what the store holds now for ``name`` (after ``update``), dropping local edits."""
        self.configs[name] = values
        self.revisions[name] = revision
        self.stored[name] = values
        self.dirty.pop(name, None)
        self.deleted.discard(name)
        self.unsure.pop(name, None)
        self.rejected.pop(name, None)

    def absorb_deleted(self, name: str) -> None:
        """``name`` is gone from the store (a rollback deleted it), local edits with it."""
        for held in (
            self.configs,
            self.revisions,
            self.stored,
            self.dirty,
            self.unsure,
            self.rejected,
        ):
            held.pop(name, None)
        self.deleted.discard(name)

    def follow(
        self, snapshot: Snapshot, names: Collection[str] | None, *, read_at: float | None = None
    ) -> None:
        """Take what a watch read from the store: ``snapshot`` holds the current value of every
        name in ``names`` that still exists (of every configuration, with ``names`` None).
        ``read_at``: when the read began, given if the whole view is then known current (a
        whole read, or a watch that was told of every change until then).

        A configuration with unsaved local edits keeps them, and keeps the revision they were
        based on, so that its next persist raises ConflictError rather than losing either side.
        """
        if read_at is not None and (names is None or not self.from_cache):
            self.read_at = max(self.read_at, read_at)
            self.from_cache = self.from_cache and names is not None
        # Every name held, a rejected one that never had a valid value (not in configs) too.
        asked = [*self.configs, *self.rejected] if names is None else names
        gone = [
            name for name in asked if name not in snapshot.configs and name not in snapshot.rejected
        ]
        self.take_schemas(snapshot)
        if self.unsure:
            seen = [name for name in [*snapshot.configs, *gone] if name in self.unsure]
            self.resolve(snapshot, seen)
        for name in [*snapshot.configs, *gone]:
            if name in self.dirty or name in self.deleted:
                continue
            self.rejected.pop(name, None)
            if name in snapshot.configs:
                self.configs[name] = snapshot.configs[name]
                self.revisions[name] = snapshot.revisions[name]
                self.stored[name] = snapshot.configs[name]
            else:
                self.configs.pop(name, None)
                self.revisions.pop(name, None)
                self.stored.pop(name, None)
        self._take_rejected(snapshot)

    def reset(self, snapshot: Snapshot, read_at: float) -> None:
        """Take the store's view whole (``reload``): unsaved edits are dropped; a value the
        store holds that fails its schema leaves the last valid one in the view."""
        # The last valid value of each rejected one: what the view held, unless that was an
        # unsaved edit or delete (dropped by a reload): then what was stored, if that was valid.
        previous = {name: self.configs[name] for name in self.configs if name not in self.dirty}
        previous.update(
            (name, self.stored[name])
            for name in [*self.dirty, *self.deleted]
            if name in self.stored and name not in self.rejected
        )
        self.configs = snapshot.configs
        self.read_at, self.from_cache = read_at, False
        for name in snapshot.rejected:
            if name in previous:
                self.configs[name] = previous[name]
        self.revisions = snapshot.revisions
        self.stored = dict(snapshot.configs)
        self.dirty = {}
        self.deleted = set()
        self.unsure = {}
        self.take_schemas(snapshot)
        self.rejected = {
            name: held for name, held in self.rejected.items() if name in snapshot.rejected
        }
        self._take_rejected(snapshot)


class BackendSession:
    """A loaded store with the namespaces this manager holds for it, and its current one."""

    def __init__(self, store: Store, lock: threading.RLock) -> None:
        self.store = store
        self.lock = lock
        # Who this manager's change records name (the manager sets it: Confo(author=...)).
        self.author: Callable[[], str] = default_author
        self.states: dict[str, NamespaceState] = {}
        self.current: str | None = None
        self._orders: dict[str, threading.Lock] = {}
        cache = store.cache
        self._saver = None if cache is None else CacheWriter(cache)

    def load(self, namespace: str) -> NamespaceState:
        """The namespace's state, read from the store first unless held (from the cache while
        the backend is offline); the read is unlocked."""
        with self.lock:
            state = self.states.get(namespace)
            if state is not None:
                return state
        began = time.time()
        try:
            loaded = NamespaceState(self.store.read(namespace), namespace, read_at=began)
        except StoreOfflineError:
            cached = self.store.read_cached(namespace)
            if cached is None:  # reconnected meanwhile
                began = time.time()
                loaded = NamespaceState(self.store.read(namespace), namespace, read_at=began)
            else:
                loaded = NamespaceState(
                    cached.snapshot,
                    namespace,
                    read_at=cached.read_at.timestamp(),
                    from_cache=True,
                )
        with self.lock:  # another thread may have loaded it meanwhile: keep theirs (and edits)
            state = self.states.setdefault(namespace, loaded)
        if not state.from_cache:
            self.remember(namespace)
        elif not self.store.offline:  # reconnected meanwhile: its follower may have missed it
            try:
                self.refresh(namespace)
            except Exception:
                with self.lock:  # not left on the cache for good: the next use reads it
                    if self.states.get(namespace) is state and not state.has_unsaved_changes():
                        del self.states[namespace]
                raise
        return state

    def from_cache(self) -> list[str]:
        """The namespaces held as the cache had them, not read from the store since."""
        with self.lock:
            return [name for name, state in self.states.items() if state.from_cache]

    def refresh(self, namespace: str) -> None:
        """Read the namespace whole into its view (edits kept), in turn with its persists."""
        with self.ordered(namespace):
            began = time.time()
            # Deleted meanwhile: so are its values.
            snapshot = self.store.read(namespace, missing_ok=True)
            self.merge_pushed(namespace, snapshot, None, read_at=began)

    def remember(self, namespace: str) -> None:
        """The namespace was just read from (or written to) the store: with a cache, save what
        this manager now knows of it, off the caller's path."""
        if self._saver is not None:
            self._saver.want(namespace, lambda: self._known_good(namespace))

    def _known_good(self, namespace: str) -> tuple[Snapshot, float] | None:
        with self.lock:
            state = self.states.get(namespace)
            return None if state is None else (state.known_good(), state.read_at)

    def seen_offline(self, namespace: str) -> Snapshot | None:
        """What a watch started while the backend is offline begins from: the view's store
        values if the namespace is held, else the cache's copy; None if the backend has
        reconnected meanwhile (read the store).

        :raises StoreOfflineError: it is neither held nor cached.
        """
        with self.lock:
            state = self.states.get(namespace)
            if state is not None:
                return state.known_good()
        cached = self.store.read_cached(namespace)
        return None if cached is None else cached.snapshot

    def close(self) -> None:
        """Write what the cache still has to save (briefly), and save nothing more."""
        if self._saver is not None:
            self._saver.close()

    def held(self, namespace: str) -> NamespaceState | None:
        """The state if this manager holds the namespace; call with the lock held."""
        return self.states.get(namespace)

    def keep(self, namespace: str, state: NamespaceState) -> NamespaceState:
        """The state held for ``namespace``, or ``state`` held again if the namespace was
        forgotten (deleted by another thread) since it was loaded; call with the lock held."""
        return self.states.setdefault(namespace, state)

    def merge_pushed(
        self,
        namespace: str,
        snapshot: Snapshot,
        names: Collection[str] | None,
        *,
        read_at: float | None = None,
    ) -> None:
        """What a watch read, into the namespace's state if this manager holds it
        (``read_at``: see :meth:`NamespaceState.follow`)."""
        with self.lock:
            state = self.states.get(namespace)
            if state is not None:
                state.follow(snapshot, names, read_at=read_at)
        if state is not None:
            self.remember(namespace)

    def use(self, namespace: str) -> None:
        with self.lock:
            self.current = namespace

    def ordered(self, namespace: str) -> threading.Lock:
        """The namespace's order lock (see the module's docstring): one per namespace, held
        here or not, so that a read a watch makes while the namespace is loaded still comes
        in turn with its first persist."""
        with self.lock:
            return self._orders.setdefault(namespace, threading.Lock())

    def held_namespaces(self) -> list[str]:
        with self.lock:
            return list(self.states)

    def forget(self, namespace: str) -> None:
        with self.lock:
            self.states.pop(namespace, None)
            if self.current == namespace:
                self.current = None
