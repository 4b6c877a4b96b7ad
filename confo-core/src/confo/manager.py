"""The configuration manager: backends, namespaces and configurations behind one API.

``Confo()`` returns the process-wide shared manager (the original Confo was a singleton, and its
documentation relies on a second ``Confo()`` seeing the first one's backends).
``Confo(shared=False)`` returns an independent one, for tests or several tenants in one process.

One lock per manager guards the in-memory state; it is never held while a store is read or
written (see :mod:`confo.namespace`), so a slow persist does not keep ``get`` waiting in other
threads. Each loaded backend serialises its own store calls. Threads that must not share
``use_namespace`` use ``namespace(name)`` handles.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal

from confo.errors import (
    BackendExistsError,
    BackendNotFoundException,
    BackendsActivationException,
    ConfoError,
    CredentialsError,
    NamespaceExistsException,
    NamespaceNotLoadedException,
)
from confo.model import Capabilities
from confo.names import check_name
from confo.namespace import MISSING, UPDATE_ATTEMPTS, Namespace, handle, loaded_state
from confo.session import BackendSession
from confo.values import JSONObject
from confo.watch import Watch, WatchEvent

log = logging.getLogger(__name__)


class Confo:
    """Load backends, choose a namespace, read and edit configurations, persist and reload."""

    _shared: ClassVar[Confo | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __new__(cls, *, shared: bool = True) -> Confo:
        if not shared:
            return super().__new__(cls)
        with Confo._shared_lock:
            if Confo._shared is None:
                Confo._shared = super().__new__(cls)
            return Confo._shared

    def __init__(self, *, shared: bool = True) -> None:
        if getattr(self, "_sessions", None) is not None:
            return  # the shared instance, already set up by an earlier Confo()
        self._lock = threading.RLock()
        self._sessions: dict[str, BackendSession] = {}
        self._active: str | None = None

    def __repr__(self) -> str:
        with self._lock:
            return f"<Confo backends={list(self._sessions)} active={self._active!r}>"

    def __enter__(self) -> Confo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- backends ----------------------------------------------------------------------------

    def load_backend(
        self,
        credentials: Mapping[str, Any],
        name: str,
        backend_type: str,
        *,
        plugins: Iterable[object] = (),
    ) -> None:
        """Connect to a store now and register it under ``name``; fail fast if it cannot.

        ``plugins`` are extra pluggy plugins (hook wrappers) loaded with this backend only.

        :raises BackendExistsError: a backend is already loaded under ``name``.
        :raises BackendNotInstalledError: no installed distribution provides ``backend_type``.
        :raises BackendUnavailableError, BackendAuthenticationError, CredentialsError: from the
            backend's connect.
        """
        check_name("backend", name)
        if not isinstance(credentials, Mapping):
            raise CredentialsError(
                f"Credentials for backend {name!r} must be a dict, "
                f"not {type(credentials).__name__}."
            )
        self._ensure_free(name)
        from confo.store import Store  # noqa: PLC0415 (pluggy, entry points: on first load only)

        store = Store(name, backend_type, plugins)
        try:
            store.connect(credentials)  # outside the lock: it may wait up to its timeout
        except BaseException:
            store.close()  # a half-open client (a socket, a reconnecting thread) must not leak
            raise
        with self._lock:
            try:
                self._ensure_free(name)
            except BackendExistsError:
                store.close()  # another thread loaded the same name meanwhile
                raise
            self._sessions[name] = BackendSession(store, self._lock)
        log.info("loaded backend %r of type %r", name, backend_type)

    def _ensure_free(self, name: str) -> None:
        with self._lock:
            if name in self._sessions:
                raise BackendExistsError(
                    f"A backend named {name!r} is already loaded; backend names are unique. "
                    f"Choose another name, or close_backend({name!r}) first."
                )

    def capabilities(self, name: str | None = None) -> Capabilities:
        """What a loaded backend (the active one unless named) can promise: its watch guarantee
        and transaction limits."""
        with self._lock:
            session = self._session() if name is None else self._session_named(name)
        return session.store.capabilities()

    def get_backends(self) -> dict[str, Any]:
        """``{'all_backends': [names, most recently loaded first], 'active_backend': name}``."""
        with self._lock:
            return {"all_backends": list(reversed(self._sessions)), "active_backend": self._active}

    def activate_backend(self, name: str) -> None:
        """Make ``name`` the backend that namespace and configuration calls use."""
        with self._lock:
            self._session_named(name)
            self._active = name

    def close_backend(self, name: str) -> None:
        """Close one backend's connection and forget what this manager held for it."""
        with self._lock:
            session = self._session_named(name)
            del self._sessions[name]
            if self._active == name:
                self._active = None
        session.stop_watches()
        session.store.close()

    def close(self) -> None:
        """Close every backend. The manager stays usable: load a backend again to go on."""
        with self._lock:
            names = list(self._sessions)
        for name in names:
            self.close_backend(name)

    def _session_named(self, name: str) -> BackendSession:
        session = self._sessions.get(name)
        if session is None:
            loaded = ", ".join(map(repr, self._sessions)) or "none"
            raise BackendNotFoundException(
                f"No backend named {name!r} is loaded (loaded: {loaded}). "
                "Call load_backend(credentials, name, backend_type) first."
            )
        return session

    def _session(self) -> BackendSession:
        if self._active is None:
            raise BackendsActivationException(
                "No backend is active. Call activate_backend(name) with one of "
                f"{list(self._sessions)} (load one with load_backend first if that list is empty)."
            )
        return self._sessions[self._active]

    # --- namespaces --------------------------------------------------------------------------
    # Each call looks up what it needs under the lock, then talks to the store without it.

    def _active_session(self) -> BackendSession:
        with self._lock:
            return self._session()

    def create_namespace(self, namespace: str, *, exist_ok: bool = True) -> None:
        """Create ``namespace`` in the store now. Creating an existing one is not an error unless
        ``exist_ok`` is False (then NamespaceExistsException)."""
        store = self._active_session().store
        name = store.check_name("namespace", namespace)
        if not exist_ok and name in store.list_namespaces():
            raise NamespaceExistsException(
                f"Namespace {name!r} already exists in backend {store.name!r}."
            )
        store.create_namespace(name)

    def use_namespace(self, namespace: str) -> None:
        """Make ``namespace`` current, reading it from the store the first time.

        Switching away and back keeps unsaved edits. :raises NamespaceNotFoundError: if the store
        has no such namespace (create it with create_namespace).
        """
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        session.load(name)
        session.use(name)

    def namespace(self, namespace: str) -> Namespace:
        """A handle on ``namespace`` of the active backend that leaves the current namespace alone.

        Use it where threads or web workers would otherwise step on each other's use_namespace.
        """
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        session.load(name)
        return handle(session, name)

    def check_name(self, kind: Literal["namespace", "configuration"], name: str) -> str:
        """Return ``name`` if the active backend can store it as a ``kind`` name: to validate
        input before anything is set or written.

        :raises InvalidNameError: it cannot; the message says why and what to use instead.
        """
        return self._active_session().store.check_name(kind, name)

    def get_namespaces(self) -> dict[str, Any]:
        """``{'all_namespaces': [names in the store, live], 'current_namespace': name or None}``."""
        session = self._active_session()
        names = session.store.list_namespaces()
        with self._lock:
            return {"all_namespaces": names, "current_namespace": session.current}

    def get_count(self) -> int:
        """The number of namespaces in the active backend's store."""
        return len(self._active_session().store.list_namespaces())

    def delete_namespace(self, namespace: str) -> None:
        """Delete ``namespace`` and all its configurations from the store now.

        :raises NamespaceNotFoundError: the store has no such namespace.
        """
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        session.store.delete_namespace(name)
        session.forget(name)

    def _current(self) -> Namespace:
        with self._lock:
            session = self._session()
            current = session.current
            held = session.handles.get(current) if current is not None else None
            if held is not None:
                return held
            if current is None:
                raise NamespaceNotLoadedException(
                    f"No namespace is in use on backend {session.store.name!r}. Call "
                    "use_namespace(name) first (create_namespace(name) if it does not exist)."
                )
            return handle(session, current)

    # --- configurations (the current namespace) ----------------------------------------------

    def set(self, config: str, field: str | JSONObject, value: Any = None) -> None:
        """Set a field, or a whole configuration (``field`` a dict, ``value`` None). In memory."""
        self._current().set(config, field, value)

    def get(self, config: str, field: str | None = None, default: Any = MISSING) -> Any:
        """A copy of a configuration or a field; missing raises a KeyError, unless default."""
        return self._current().get(config, field, default)

    def get_all(self) -> dict[str, JSONObject]:
        """A copy of every configuration in the current namespace."""
        return self._current().get_all()

    def delete(self, config: str, field: str | None = None) -> None:
        """Delete a configuration or one field, in memory; persist carries it to the store."""
        self._current().delete(config, field)

    def reload(self) -> None:
        """Replace the current namespace in memory with what the store holds now."""
        self._current().reload()

    def persist(
        self,
        namespace: str | bool | None = None,
        config: str | bool | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Write changes to the store: of every namespace held here, of one, or one configuration.

        ``None`` and ``False`` both mean "not given", as in the original documentation. A
        configuration without a namespace means one in the current namespace. Each namespace is
        written in one transaction where the store allows it, and only if none of its
        configurations changed in the store since this manager read them; ``force=True`` writes
        regardless (last writer wins).

        :raises ConflictError: a configuration changed elsewhere; that namespace was not written
            and its edits are kept. Namespaces are written in turn and the first error stops the
            rest; for a persist of several, the error's ``persisted`` and ``not_persisted`` (and
            its message) say which namespaces were written and which still hold their edits.
        """
        session = self._active_session()
        config_name = config if isinstance(config, str) else None
        if isinstance(namespace, str):
            loaded_state(session, namespace)
            handle(session, namespace).persist(config_name, force=force)
        elif config_name is not None:
            self._current().persist(config_name, force=force)
        else:
            self._persist_all(session, force)

    def _persist_all(self, session: BackendSession, force: bool) -> None:
        """Each namespace with edits, in turn; an error says which were written before it."""
        pending = [
            handle(session, name)
            for name in session.held_namespaces()
            if handle(session, name).has_unsaved_changes()
        ]
        for done, namespace in enumerate(pending):
            try:
                namespace.persist(force=force)
            except ConfoError as exc:
                if len(pending) > 1:
                    exc.persisted = tuple(n.name for n in pending[:done])
                    exc.not_persisted = tuple(n.name for n in pending[done:])
                raise

    def write(
        self, namespace: str, configs: Mapping[str, JSONObject], *, force: bool = False
    ) -> None:
        """Write whole configurations to ``namespace`` now, without reading it first (bulk
        copies; ``confo cp`` uses it). See :meth:`Namespace.write`: each must not exist yet,
        unless ``force``.
        """
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        handle(session, name).write(configs, force=force)

    def watch(
        self, callback: Callable[[WatchEvent], object], namespace: str | None = None
    ) -> Watch:
        """Push every change of a namespace (the current one unless given) to ``callback``, on a
        background thread, and keep this manager's view of it current. See :mod:`confo.watch`.

        :returns: a :class:`~confo.watch.Watch`; ``stop()`` it, or use it in a ``with`` block.
        """
        if namespace is None:
            return self._current().watch(callback)
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        return handle(session, name).watch(callback)

    def update(
        self,
        config: str,
        fn: Callable[[JSONObject], JSONObject],
        namespace: str | None = None,
        *,
        attempts: int = UPDATE_ATTEMPTS,
    ) -> JSONObject:
        """Read-modify-write one configuration safely against other writers.

        Reads ``config`` fresh from the store (``{}`` if missing), calls ``fn`` with a copy, and
        writes what it returns only if the store still holds what was read; retries on conflict
        with jittered back-off, up to ``attempts`` times. Returns what was written, which the
        in-memory view then holds. ``namespace`` defaults to the current one.
        """
        if namespace is None:
            return self._current().update(config, fn, attempts=attempts)
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        return handle(session, name).update(config, fn, attempts=attempts)
