"""One loaded backend as a manager holds it: its store and state, its watches, its handles.

Imported when a manager loads its first backend, with all it stands on (pluggy, the session, the
listener), so that importing the manager costs next to nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from confo.backoff import Backoff
from confo.errors import CredentialsError, NamespaceNotLoadedException
from confo.listener import Watching
from confo.names import check_name
from confo.namespace import Namespace
from confo.session import BackendSession, NamespaceState
from confo.store import Store

log = logging.getLogger("confo.manager")


def check_request(name: str, credentials: object) -> None:
    """A backend name that can be used, and credentials that are a dict: before anything."""
    check_name("backend", name)
    if not isinstance(credentials, Mapping):
        raise CredentialsError(
            f"Credentials for backend {name!r} must be a dict, not {type(credentials).__name__}."
        )


def connect(
    name: str, backend_type: str, credentials: Mapping[str, Any], plugins: Iterable[object]
) -> Store:
    """A store of ``backend_type``, connected; nothing is left open if it cannot be."""
    store = Store(name, backend_type, plugins)
    try:
        store.connect(credentials)
    except BaseException:
        store.close()  # a half-open client (a socket, a reconnecting thread) must not leak
        raise
    log.info("loaded backend %r of type %r", name, backend_type)
    return store


class Loaded:
    """A loaded backend: the session (its namespaces in memory), its watches and handles."""

    __slots__ = ("handles", "session", "watching")

    def __init__(self, store: Store, lock: threading.RLock) -> None:
        self.session = BackendSession(store, lock)
        self.watching = Watching(self.session)
        self.handles: dict[str, Namespace] = {}
        if store.offline:
            store.on_reconnect(self._follow_the_store)

    def _follow_the_store(self) -> None:
        """The backend reached its store after an offline start: every namespace held from
        the cache is read again into its view (edits made offline are kept, conflict-safe),
        retried with back-off while reads fail, and every watch reads its namespace again,
        with an event for each configuration that differs."""
        self.watching.read_all_again()
        backoff = Backoff()
        warned: set[str] = set()
        while not self.store.closed:
            for namespace in self.session.from_cache():
                try:
                    self.session.refresh(namespace)
                except Exception as exc:  # a wrapper's bug too: the view must not stay behind
                    if namespace not in warned:
                        warned.add(namespace)
                        log.warning(
                            "Backend %r is back, but reading namespace %r failed (%s): its "
                            "view keeps the cached values, and it is read again shortly.",
                            self.store.name,
                            namespace,
                            exc,
                        )
            if not self.session.from_cache():
                return
            self.store.wait_closed(backoff.next())

    def close(self) -> None:
        """Stop the watches, save what the cache still has to, and close the connection."""
        self.watching.stop_all()
        self.session.close()
        self.store.close()

    @property
    def store(self) -> Store:
        return self.session.store

    def handle(self, namespace: str) -> Namespace:
        """The one handle of ``namespace``; call with the manager's lock held."""
        handle = self.handles.get(namespace)
        if handle is None:
            handle = self.handles[namespace] = Namespace(self.session, self.watching, namespace)
        return handle

    def loaded_state(self, namespace: str) -> NamespaceState:
        """The state of a namespace this manager already holds, without reading the store."""
        with self.session.lock:
            state = self.session.held(namespace)
        if state is None:
            raise NamespaceNotLoadedException(
                f"Namespace {namespace!r} is not loaded in this Confo instance, so it has "
                f"nothing to persist. Call use_namespace({namespace!r}) or "
                f"namespace({namespace!r}) first."
            )
        return state
