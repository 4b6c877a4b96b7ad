"""The configuration manager: backends, namespaces and configurations behind one API.

Every ``confo.manager.Confo()`` is a manager of its own. The original Confo's surface (its
process-wide shared instance, its ``persist(False, False)``) is :mod:`confo.compat`, on top of
this: ``from confo import Confo`` and ``from confo.Confo import Confo`` give that class.

One lock per manager guards the in-memory state; it is never held while a store is read or
written (see :mod:`confo.namespace`), so a slow persist does not keep ``get`` waiting in other
threads. Each loaded backend serialises its own store calls. Threads that must not share
``use_namespace`` use ``namespace(name)`` handles.
"""

from __future__ import annotations

import _thread

from confo.aliases import MISSING
from confo.errors import (
    BackendExistsError,
    BackendNotFoundException,
    BackendsActivationException,
    ConfoError,
    NamespaceExistsException,
    NamespaceNotLoadedException,
)

# Everything else is imported when a backend is loaded: the seeds' ``from confo.Confo import
# Confo`` then costs little more than a bare interpreter start (docs/benchmarks.md).
TYPE_CHECKING = False  # not typing's: importing typing is a fifth of the interpreter's start
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any, Literal, TypeVar

    from pydantic import BaseModel

    from confo.binding import Binding, Missing
    from confo.history import ChangeRecord
    from confo.loaded import Loaded
    from confo.model import Capabilities
    from confo.namespace import Namespace
    from confo.offline import Source
    from confo.values import JSONObject
    from confo.watch import Watch, WatchEvent

    M = TypeVar("M", bound=BaseModel)


class Confo:
    """Load backends, choose a namespace, read and edit configurations, persist and reload."""

    def __init__(self, *, author: str | None = None) -> None:
        # _thread's lock is threading's, without importing threading (a third of this import).
        self._lock = _thread.RLock()
        self.author = author
        """Who this manager's change records name; None: ``CONFO_AUTHOR``, else user@host."""
        self._sessions: dict[str, Loaded] = {}
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

        With the ``cache_dir`` credential, every namespace read is also saved there, and a
        store that cannot be reached loads the backend *offline* if that cache can serve:
        reads serve the cache, writes raise StoreOfflineError, and it reconnects in the
        background (see :meth:`source` and docs/last-known-good.md).

        :raises BackendExistsError: a backend is already loaded under ``name``.
        :raises BackendNotInstalledError: no installed distribution provides ``backend_type``.
        :raises BackendUnavailableError, BackendAuthenticationError, CredentialsError: from the
            backend's connect (unavailable: nor could its cache serve).
        """
        from confo.loaded import Loaded, check_request, connect  # noqa: PLC0415 (see above)

        check_request(name, credentials)
        self._ensure_free(name)
        store = connect(name, backend_type, credentials, plugins)  # unlocked: up to its timeout
        with self._lock:
            try:
                self._ensure_free(name)
            except BackendExistsError:
                store.close()  # another thread loaded the same name meanwhile
                raise
            loaded = self._sessions[name] = Loaded(store, self._lock)
            loaded.session.author = self._author

    def _author(self) -> str:
        from confo.history import default_author  # noqa: PLC0415 (loaded with a backend)

        return self.author or default_author()

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

    def source(self, name: str | None = None) -> Source:
        """Where a loaded backend's values (the active one's unless named) come from now:
        ``.kind`` is ``"store"``, or ``"cache"`` while it is offline; ``.read_at`` says when
        they were read from the store. See :class:`confo.offline.Source`."""
        with self._lock:
            session = self._session() if name is None else self._session_named(name)
        return session.store.source()

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
        session.close()

    def close(self) -> None:
        """Close every backend. The manager stays usable: load a backend again to go on."""
        with self._lock:
            names = list(self._sessions)
        for name in names:
            self.close_backend(name)

    def _session_named(self, name: str) -> Loaded:
        session = self._sessions.get(name)
        if session is None:
            loaded = ", ".join(map(repr, self._sessions)) or "none"
            raise BackendNotFoundException(
                f"No backend named {name!r} is loaded (loaded: {loaded}). "
                "Call load_backend(credentials, name, backend_type) first."
            )
        return session

    def _session(self) -> Loaded:
        if self._active is None:
            raise BackendsActivationException(
                "No backend is active. Call activate_backend(name) with one of "
                f"{list(self._sessions)} (load one with load_backend first if that list is empty)."
            )
        return self._sessions[self._active]

    # --- namespaces --------------------------------------------------------------------------
    # Each call looks up what it needs under the lock, then talks to the store without it.

    def _active_session(self) -> Loaded:
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
        session.session.load(name)
        session.session.use(name)

    def namespace(self, namespace: str) -> Namespace:
        """A handle on ``namespace`` of the active backend that leaves the current namespace alone.

        Use it where threads or web workers would otherwise step on each other's use_namespace.
        """
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        session.session.load(name)
        return self._handle(session, name)

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
            return {"all_namespaces": names, "current_namespace": session.session.current}

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
        session.session.forget(name)
        with self._lock:
            session.handles.pop(name, None)

    def _current(self) -> Namespace:
        with self._lock:
            session = self._session()
            current = session.session.current
            if current is None:
                raise NamespaceNotLoadedException(
                    f"No namespace is in use on backend {session.store.name!r}. Call "
                    "use_namespace(name) first (create_namespace(name) if it does not exist)."
                )
            return session.handle(current)

    def _handle(self, session: Loaded, namespace: str) -> Namespace:
        with self._lock:
            return session.handle(namespace)

    # --- configurations (the current namespace) ----------------------------------------------

    def set(self, config: str, field: str | JSONObject, value: Any = MISSING) -> None:
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
        namespace: str | None = None,
        config: str | None = None,
        *,
        force: bool = False,
        message: str | None = None,
    ) -> None:
        """Write changes to the store: of every namespace held here, of one, or one configuration.

        A configuration without a namespace means one in the current namespace. Each namespace is
        written in one transaction where the store allows it, and only if none of its
        configurations changed in the store since this manager read them; ``force=True`` writes
        regardless (last writer wins). Where the store keeps history, each namespace's change is
        recorded with ``author`` and ``message`` (see :meth:`history`).

        :raises ConflictError: a configuration changed elsewhere; that namespace was not written
            and its edits are kept. Namespaces are written in turn and the first error stops the
            rest; for a persist of several, the error's ``persisted`` and ``not_persisted`` (and
            its message) say which namespaces were written and which still hold their edits.
        """
        session = self._active_session()
        if namespace is not None:
            session.loaded_state(namespace)
            self._handle(session, namespace).persist(config, force=force, message=message)
        elif config is not None:
            self._current().persist(config, force=force, message=message)
        else:
            self._persist_all(session, force, message)

    def _persist_all(self, session: Loaded, force: bool, message: str | None) -> None:
        """Each namespace with edits, in turn; an error says which were written before it."""
        handles = [self._handle(session, name) for name in session.session.held_namespaces()]
        pending = [handle for handle in handles if handle.has_unsaved_changes()]
        for done, namespace in enumerate(pending):
            try:
                namespace.persist(force=force, message=message)
            except ConfoError as exc:
                if len(pending) > 1:
                    exc.persisted = tuple(n.name for n in pending[:done])
                    exc.not_persisted = tuple(n.name for n in pending[done:])
                raise

    def write(
        self,
        namespace: str,
        configs: Mapping[str, JSONObject],
        *,
        force: bool = False,
        message: str | None = None,
    ) -> None:
        """Write whole configurations to ``namespace`` now, without reading it first (bulk
        copies; ``confo cp`` uses it). See :meth:`Namespace.write`: each must not exist yet,
        unless ``force``.
        """
        session = self._active_session()
        name = session.store.check_name("namespace", namespace)
        self._handle(session, name).write(configs, force=force, message=message)

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
        return self._handle(session, name).watch(callback)

    def update(
        self,
        config: str,
        fn: Callable[[JSONObject], JSONObject],
        namespace: str | None = None,
        *,
        attempts: int | None = None,
        message: str | None = None,
    ) -> JSONObject:
        """Read-modify-write one configuration safely against other writers.

        Reads ``config`` fresh from the store (``{}`` if missing), calls ``fn`` with a copy, and
        writes what it returns only if the store still holds what was read; retries on conflict
        with jittered back-off, up to ``attempts`` times. Returns what was written, which the
        in-memory view then holds. ``namespace`` defaults to the current one; ``message`` goes
        into the change record.
        """
        handle = self._namespace_or_current(namespace)
        return handle.update(config, fn, attempts=attempts, message=message)

    def history(
        self, namespace: str | None = None, config: str | None = None, limit: int = 50
    ) -> list[ChangeRecord]:
        """The newest ``limit`` change records of a namespace (the current one unless given),
        only those touching ``config`` if given; newest first. See :class:`confo.ChangeRecord`.

        :raises HistoryUnavailableError: the backend keeps no history (or ``history_limit=0``).
        """
        return self._namespace_or_current(namespace).history(config, limit)

    def rollback(
        self,
        to: str,
        namespace: str | None = None,
        config: str | None = None,
        message: str | None = None,
        *,
        dry_run: bool = False,
    ) -> ChangeRecord | None:
        """Write back what a namespace (the current one unless given), or only ``config`` of
        it, held right after change record ``to``; configurations created since are deleted.
        Conditional like :meth:`update`, and recorded itself (``rollback to <to>`` unless
        ``message``). Returns its record, or None if nothing had changed since ``to``; with
        ``dry_run``, writes nothing and returns the record it would write (an empty ``id``).

        :raises RecordNotFoundError: no record ``to`` in the namespace's history.
        """
        handle = self._namespace_or_current(namespace)
        return handle.rollback(to, config, message=message, dry_run=dry_run)

    def set_schema(
        self,
        config: str,
        schema: JSONObject | None,
        namespace: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        """Store ``schema`` (a JSON Schema, draft 2020-12) for ``config`` in the store, beside
        its namespace (the current one unless given): every manager, the command line and the
        console then refuse a value that fails it. None removes it. Conditional and recorded
        in the history. See docs/schemas.md.

        :raises InvalidSchemaError: not a schema Confo can enforce; nothing stored.
        :raises SchemaError: the value stored now fails it; nothing stored.
        """
        self._namespace_or_current(namespace).set_schema(config, schema, message=message)

    def get_schema(self, config: str, namespace: str | None = None) -> JSONObject | None:
        """The schema the store holds for ``config`` (None if none), read now."""
        return self._namespace_or_current(namespace).get_schema(config)

    def get_schemas(self, namespace: str | None = None) -> dict[str, JSONObject]:
        """Every schema the store holds in the namespace, by configuration, read now."""
        return self._namespace_or_current(namespace).get_schemas()

    def rejected(self, namespace: str | None = None) -> dict[str, str]:
        """Configurations whose stored value fails its schema, each with the error; the view
        keeps their last valid value (see :meth:`Namespace.rejected`)."""
        return self._namespace_or_current(namespace).rejected()

    def bind(
        self,
        model: type[M],
        config: str,
        namespace: str | None = None,
        *,
        publish_schema: bool = False,
        missing: Missing = "error",
        timeout: float | None = None,
    ) -> Binding[M]:
        """A configuration of a namespace (the current one unless given) read into ``model``,
        a pydantic model class, and kept current: ``.value`` is its frozen instance. See
        :meth:`Namespace.bind` and docs/typed.md."""
        return self._namespace_or_current(namespace).bind(
            model, config, publish_schema=publish_schema, missing=missing, timeout=timeout
        )

    def _namespace_or_current(self, namespace: str | None) -> Namespace:
        if namespace is None:
            return self._current()
        session = self._active_session()
        return self._handle(session, session.store.check_name("namespace", namespace))
