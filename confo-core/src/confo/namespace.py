"""A namespace held in memory, and the handle through which it is read and edited.

Edits stay in memory until ``persist``. The state remembers which configurations were changed or
deleted since they were last read or written, so a persist sends only those: two processes that
edit different configurations of one namespace do not overwrite each other's work.

Locking: the manager's lock guards the in-memory state and is never held across store I/O, so a
slow persist or reload does not block ``get`` in other threads. That works because a
configuration's dict is never changed in place once stored: ``set`` and ``delete`` of a field
build a new top-level dict (nested values are fresh copies already). A persist can therefore send
the dicts it found, unlocked, while other threads keep editing; afterwards it clears "changed"
only for the configurations that are still the objects it wrote.
"""

from __future__ import annotations

import threading
from typing import Any

from confo.errors import (
    ConfigurationNotFoundError,
    FieldNotFoundError,
    InvalidValueError,
    NamespaceNotLoadedException,
)
from confo.model import Changes, Snapshot
from confo.store import Store
from confo.values import JSONObject, checked_copy, checked_object, copy_json

MISSING: Any = object()
"""Marks "no default given", since ``None`` is a legitimate default."""


class NamespaceState:
    """The in-memory view of one namespace of one store."""

    __slots__ = ("configs", "deleted", "dirty")

    def __init__(self, snapshot: Snapshot) -> None:
        self.configs: dict[str, JSONObject] = snapshot.configs
        # Changed in memory since read or written; a dict keeps the order of the edits, so the
        # store's own indexes list new configurations in the order they were set.
        self.dirty: dict[str, None] = {}
        self.deleted: set[str] = set()  # deleted in memory, still to delete in the store

    def replace(self, name: str, values: JSONObject) -> None:
        """Store a new dict for ``name`` (never change a stored one: persists may hold it)."""
        self.configs[name] = values
        self.dirty[name] = None
        self.deleted.discard(name)

    def changes(self, only: str | None = None) -> Changes:
        if only is None:
            return Changes(
                put={name: self.configs[name] for name in self.dirty},
                delete=set(self.deleted),
            )
        if only in self.configs:
            return Changes(put={only: self.configs[only]})
        if only in self.deleted:
            return Changes(delete={only})
        return Changes()

    def written(self, changes: Changes) -> None:
        for name, values in changes.put.items():
            if self.configs.get(name) is values:  # not edited again while it was being written
                self.dirty.pop(name, None)
        self.deleted.difference_update(changes.delete)


class BackendSession:
    """A loaded store with the namespaces this manager holds for it, and its current one."""

    def __init__(self, store: Store, lock: threading.RLock) -> None:
        self.store = store
        self.lock = lock
        self.states: dict[str, NamespaceState] = {}
        self.handles: dict[str, Namespace] = {}
        self.current: str | None = None

    def load(self, namespace: str) -> None:
        """Read the namespace from the store unless it is held already; the read is unlocked."""
        with self.lock:
            if namespace in self.states:
                return
        snapshot = self.store.read(namespace)
        with self.lock:  # another thread may have loaded it meanwhile: keep theirs (and edits)
            self.states.setdefault(namespace, NamespaceState(snapshot))

    def state(self, namespace: str) -> NamespaceState:
        """The held state; call with the lock held, after :meth:`load`."""
        state = self.states.get(namespace)
        if state is None:  # deleted by another thread since it was loaded: read it again
            state = self.states[namespace] = NamespaceState(self.store.read(namespace))
        return state

    def handle(self, namespace: str) -> Namespace:
        with self.lock:
            handle = self.handles.get(namespace)
            if handle is None:
                handle = self.handles[namespace] = Namespace(self, namespace)
            return handle

    def forget(self, namespace: str) -> None:
        with self.lock:
            self.states.pop(namespace, None)
            self.handles.pop(namespace, None)
            if self.current == namespace:
                self.current = None


class Namespace:
    """Reads and edits one namespace without touching the manager's current namespace.

    Get one with ``Confo.namespace(name)``; it shares its in-memory state with
    ``use_namespace(name)`` on the same manager. Safe to use from several threads.
    """

    def __init__(self, session: BackendSession, name: str) -> None:
        self._session = session
        self._lock = session.lock
        self.name = name

    def __repr__(self) -> str:
        return f"<Namespace {self.name!r} of backend {self._session.store.name!r}>"

    def _state(self) -> NamespaceState:
        """The state, loaded first if needed; call with the lock held."""
        return self._session.state(self.name)

    def get(self, config: str, field: str | None = None, default: Any = MISSING) -> Any:
        """Return a copy of configuration ``config``, or of one of its fields.

        :raises ConfigurationNotFoundError: (a KeyError) no such configuration, and no default.
        :raises FieldNotFoundError: (a KeyError) no such field, and no default.
        """
        with self._lock:  # the hot path: one lock, no I/O, once the namespace is held
            state = self._session.states.get(self.name)
            if state is not None:
                return self._lookup(state.configs, config, field, default)
        self._session.load(self.name)
        with self._lock:
            return self._lookup(self._state().configs, config, field, default)

    def _lookup(
        self, configs: dict[str, JSONObject], config: str, field: str | None, default: Any
    ) -> Any:
        values = configs.get(config)
        if values is None:
            if default is not MISSING:
                return default
            raise ConfigurationNotFoundError(self._no_config(config, configs))
        if field is None:
            return copy_json(values)
        if field in values:
            return copy_json(values[field])
        if default is not MISSING:
            return default
        raise FieldNotFoundError(
            f"Configuration {config!r} in namespace {self.name!r} has no field {field!r} "
            f"(it has: {', '.join(map(repr, values)) or 'no fields'})."
        )

    def get_all(self) -> dict[str, JSONObject]:
        """Return a copy of every configuration in the namespace, by name."""
        self._session.load(self.name)
        with self._lock:
            return {name: copy_json(values) for name, values in self._state().configs.items()}

    def set(self, config: str, field: str | JSONObject, value: Any = None) -> None:
        """Set one field (``field`` a str) or the whole configuration (``field`` a dict, ``value``
        None). In memory only, until ``persist``.

        :raises InvalidNameError: the configuration name cannot be stored.
        :raises InvalidValueError: the value is not something JSON can hold.
        """
        name = self._session.store.check_name("configuration", config)
        if isinstance(field, str):
            update = {field: checked_copy(value, f"field {field!r} of configuration {name!r}")}
        elif isinstance(field, dict) and value is None:
            update = checked_object(field, f"configuration {name!r}")
        else:
            raise InvalidValueError(
                f"set({name!r}, field, value) takes a field name (str) and its value, or a "
                f"whole configuration (dict) with value None; got a field of type "
                f"{type(field).__name__}."
            )
        self._session.load(self.name)
        with self._lock:
            state = self._state()
            merged = {**state.configs.get(name, {}), **update} if isinstance(field, str) else update
            state.replace(name, merged)

    def delete(self, config: str, field: str | None = None) -> None:
        """Delete a configuration, or one of its fields. In memory only, until ``persist``.

        :raises ConfigurationNotFoundError: no such configuration.
        :raises FieldNotFoundError: no such field.
        """
        self._session.load(self.name)
        with self._lock:
            state = self._state()
            values = state.configs.get(config)
            if values is None:
                raise ConfigurationNotFoundError(self._no_config(config, state.configs))
            if field is None:
                del state.configs[config]
                state.dirty.pop(config, None)
                state.deleted.add(config)
                return
            if field not in values:
                raise FieldNotFoundError(
                    f"Configuration {config!r} in namespace {self.name!r} has no field {field!r}."
                )
            state.replace(config, {k: v for k, v in values.items() if k != field})

    def persist(self, config: str | None = None) -> None:
        """Write what changed in memory (or only ``config``) to the store."""
        self._session.load(self.name)
        with self._lock:
            state = self._state()
            if config is not None and config not in state.configs and config not in state.deleted:
                raise ConfigurationNotFoundError(self._no_config(config, state.configs))
            changes = state.changes(config)
        self._session.store.write(self.name, changes)  # unlocked: readers are not kept waiting
        with self._lock:
            state.written(changes)

    def reload(self) -> None:
        """Replace the in-memory view with what the store holds now; unsaved edits are lost."""
        snapshot = self._session.store.read(self.name)
        with self._lock:
            self._session.states[self.name] = NamespaceState(snapshot)

    def has_unsaved_changes(self) -> bool:
        """Whether anything was set or deleted in memory and not yet persisted."""
        with self._lock:
            state = self._session.states.get(self.name)
            return bool(state and (state.dirty or state.deleted))

    def _no_config(self, config: str, configs: dict[str, JSONObject]) -> str:
        known = ", ".join(map(repr, sorted(configs))) or "none"
        return (
            f"Namespace {self.name!r} has no configuration {config!r} (it has: {known}). "
            "Set it first, or reload() if another process persisted it."
        )


def loaded_state(session: BackendSession, namespace: str) -> NamespaceState:
    """The state of a namespace this manager already holds, without reading the store."""
    with session.lock:
        state = session.states.get(namespace)
    if state is None:
        raise NamespaceNotLoadedException(
            f"Namespace {namespace!r} is not loaded in this Confo instance, so it has nothing "
            f"to persist. Call use_namespace({namespace!r}) or namespace({namespace!r}) first."
        )
    return state
