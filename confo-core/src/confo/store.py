"""One loaded backend: a store connection behind its own small plugin manager.

The manager never calls a backend object directly; it calls the hooks of that backend's plugin
manager, so wrapper plugins loaded with it see every call.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Protocol

from confo import schemas
from confo.cache import Cached, SnapshotCache
from confo.credentials import folder, integer, seconds, split_core_options
from confo.discovery import backend_class
from confo.errors import (
    BackendUnavailableError,
    CredentialsError,
    NamespaceNotFoundError,
    PluginError,
    SchemaError,
)
from confo.history import DEFAULT_LIMIT, ChangeRecord
from confo.model import Capabilities, Changes, Revision, Snapshot, WatchFeed, WriteResult
from confo.names import NameKind, check_name
from confo.offline import Offline, Source
from confo.plugins import new_backend, plugin_manager
from confo.values import JSONObject, copy_json

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
"""Seconds ``load_backend`` waits for a store, unless the credentials give ``timeout``."""


class LocalCheck(Protocol):
    """A rule one process holds on one configuration, beside its stored schema: a binding's
    model (:mod:`confo.binding`). It refuses this process's writes and screens its reads."""

    def refusal(self, values: JSONObject) -> SchemaError | None:
        """Why ``values`` may not be written; None if they may."""

    def rejection(self, values: JSONObject, revision: Revision) -> str | None:
        """Why the stored ``values`` (at ``revision``) are kept out of the live view; None if
        they are taken in."""


class Store:
    """A connected backend of type ``backend_type``, loaded under ``name``.

    Calls that reach the store take the store's own lock, so a backend sees one call at a time
    and need not be thread-safe; the manager's lock is not held meanwhile, so readers of the
    in-memory state are not kept waiting. ``check_name`` takes no lock: it is pure, and runs on
    every ``set``.
    """

    def __init__(self, name: str, backend_type: str, plugins: Iterable[object] = ()) -> None:
        self.name = name
        self.backend_type = backend_type
        self.backend: object = new_backend(backend_class(backend_type), backend_type)
        self._pm, self._plugins = plugin_manager(self.backend, backend_type, plugins)
        self._hook = self._pm.hook
        self._credentials: Mapping[str, Any] = {}  # kept for twin(); never shown
        # Wrappers may change what they are given; they must only ever reach copies.
        self._wrapped = len(self._pm.get_plugins()) > 1
        self._validating = bool(self._hook.confo_validate.get_hookimpls())
        self._io = threading.Lock()
        self._closed = False
        self._closing = threading.Event()
        self.history_limit = DEFAULT_LIMIT
        self._capabilities: Capabilities | None = None
        # Compiled validators of each namespace read, kept while its schemas stay the same.
        self._rules: dict[str, schemas.Rules] = {}
        # namespace -> config -> its local checks. Replaced whole, never changed in place, so
        # that reads and writes on other threads use it without a lock.
        self._checks: dict[str, dict[str, tuple[LocalCheck, ...]]] = {}
        self._checks_lock = threading.Lock()
        # Last known good (the cache_dir credential): the cache, and while the backend is
        # offline, its state; callbacks run once it has reconnected.
        self.cache: SnapshotCache | None = None
        self._offline: Offline | None = None
        self._reconnected: list[Callable[[], object]] = []
        self._answered_at = time.time()

    def __repr__(self) -> str:
        return f"<Store {self.name!r} type={self.backend_type!r} backend={self.backend!r}>"

    def connect(self, credentials: Mapping[str, Any], *, offline: bool = True) -> None:
        """Connect with ``credentials``: the core's options (``timeout``, ``cache_dir``...) are
        read here, and the backend gets the rest. With ``cache_dir`` (and ``offline``), a store
        that cannot be reached while the cache can serve loads the backend offline.

        :raises BackendUnavailableError: the store cannot be reached (nor the cache serve).
        """
        self._credentials = credentials
        core, own = split_core_options(credentials)
        timeout = seconds(core, "timeout", self.backend_type, DEFAULT_TIMEOUT)
        self.history_limit = integer(core, "history_limit", self.backend_type, DEFAULT_LIMIT)
        self.cache = _cache(core, own, self.backend_type)
        try:
            with self._io:
                self._hook.confo_connect(credentials=own, timeout=timeout)
        except BackendUnavailableError as exc:
            if self.cache is None or not offline:
                raise
            self._go_offline(self.cache, exc)
            return
        self._answered_at = time.time()
        log.debug("connected backend %r (%s)", self.name, self.backend_type)

    def _go_offline(self, cache: SnapshotCache, exc: BackendUnavailableError) -> None:
        """Serve the cache, if it can, and reconnect in the background; else raise ``exc``."""
        newest = cache.newest()
        if newest is None:
            why = (
                "holds no usable namespace either (see the warnings above)"
                if cache.folder.is_dir()
                else "holds nothing of this store (no namespace was read with these "
                "credentials and cache_dir set)"
            )
            raise BackendUnavailableError(
                f"{exc} Its cache in {cache.folder} {why}, so it cannot be loaded offline."
            ) from exc
        self._close_backend()  # the client that failed: a fresh one reconnects
        self._offline = Offline(self.name, str(exc), newest.read_at, str(cache.folder))
        log.warning("%s", self._offline.source())
        self._offline.reconnect(self._reconnect)

    def _reconnect(self) -> bool:
        """One attempt to reach the store of a backend loaded offline; True once it has."""
        offline = self._offline
        fresh = Store(self.name, self.backend_type, self._plugins)
        try:
            fresh.connect(self._credentials, offline=False)
        except Exception as exc:  # any failure is another try later; say why it is offline
            fresh.close()
            if offline is not None:
                offline.still(exc)
            return False
        with self._io:
            if self._closed:
                fresh.close()
                return True
            self.backend, self._pm, self._hook = fresh.backend, fresh._pm, fresh._hook
            # Declared by the client that failed to connect: ask the connected one again.
            self._offline, self._capabilities, self._answered_at = None, None, time.time()
        log.info("Backend %r reached its store again: it no longer serves its cache.", self.name)
        for callback in self._reconnected:
            try:
                callback()
            except Exception:  # one follower's bug must not keep the others behind
                log.exception("following backend %r after its reconnect failed", self.name)
        return True

    @property
    def closed(self) -> bool:
        return self._closed

    def wait_closed(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the backend to be closed; whether it is."""
        return self._closing.wait(seconds)

    @property
    def offline(self) -> bool:
        """Whether the backend was loaded offline and has not reached its store since."""
        return self._offline is not None

    def on_reconnect(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` (on the reconnecting thread) once an offline backend is back."""
        self._reconnected.append(callback)

    def source(self) -> Source:
        """Where the backend's values come from now (see :class:`~confo.offline.Source`)."""
        offline = self._offline
        if offline is not None:
            return offline.source()
        answered = datetime.fromtimestamp(self._answered_at, timezone.utc)
        return Source("store", answered, self.name)

    def read_cached(self, namespace: str) -> Cached | None:
        """The namespace as the cache of a backend loaded offline holds it (screened by the
        local checks held now); None if the backend is not offline (any more).

        :raises StoreOfflineError: the cache holds no usable copy of it.
        """
        offline, cache = self._offline, self.cache
        if offline is None or cache is None:
            return None
        cached = cache.load(namespace)
        if cached is None:
            raise offline.not_cached(namespace)
        offline.served(namespace, cached.read_at)
        if namespace in self._checks:
            self._screen_locally(namespace, cached.snapshot)
        return cached

    def credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        """The backend's credentials for a store URL, or None if it does not read such URLs."""
        credentials: dict[str, Any] | None = self._hook.confo_credentials_from_url(
            url=url, password=password
        )
        return credentials

    def check_name(self, kind: NameKind, name: object) -> str:
        checked = check_name(kind, name)
        self._hook.confo_check_name(kind=kind, name=checked)
        return checked

    def validate(self, namespace: str, config: str, values: JSONObject) -> None:
        """Let validating plugins refuse ``values`` (InvalidValueError) before they are held."""
        if self._validating:
            self._hook.confo_validate(namespace=namespace, config=config, values=copy_json(values))
        self.check_locally(namespace, {config: values})

    def check_locally(self, namespace: str, put: Mapping[str, JSONObject]) -> None:
        """Raise the first refusal of a local check of what ``put`` writes (a persist of edits
        made before a binding started, a rollback: each must fit the models bound now)."""
        checks = self._checks.get(namespace)
        if not checks:
            return
        for config, values in put.items():
            for check in checks.get(config, ()):
                refused = check.refusal(values)
                if refused is not None:
                    raise refused

    def add_check(self, namespace: str, config: str, check: LocalCheck) -> None:
        """Hold ``check`` on ``config``: from now on it refuses writes and screens reads."""
        with self._checks_lock:
            held = self._checks.get(namespace, {})
            ruled = {**held, config: (*held.get(config, ()), check)}
            self._checks = {**self._checks, namespace: ruled}

    def remove_check(self, namespace: str, config: str, check: LocalCheck) -> None:
        """Stop holding ``check`` (removing one not held is harmless)."""
        with self._checks_lock:
            held = dict(self._checks.get(namespace, {}))
            left = tuple(c for c in held.get(config, ()) if c is not check)
            if left:
                held[config] = left
            else:
                held.pop(config, None)
            checks = {**self._checks, namespace: held}
            if not held:
                del checks[namespace]
            self._checks = checks

    def _screen_locally(self, namespace: str, snapshot: Snapshot) -> None:
        """Move each value of ``snapshot`` a local check rejects into ``rejected``."""
        for config, checks in self._checks.get(namespace, {}).items():
            values = snapshot.configs.get(config)
            if values is None:
                continue
            revision = snapshot.revisions[config]
            for check in checks:
                text = check.rejection(values, revision)
                if text is not None:
                    del snapshot.configs[config]
                    snapshot.rejected[config] = (values, revision, text)
                    break

    @contextmanager
    def _call(self, namespace: str | None = None, *, offline: bool = False) -> Iterator[None]:
        """One store call at a time, none after close, and none while offline (unless it
        needs no store: ``offline``)."""
        with self._io:
            if self._closed:
                raise BackendUnavailableError(
                    f"Backend {self.name!r} is closed. Load it again with load_backend()."
                )
            if self._offline is not None and not offline:
                raise self._offline.error(namespace)
            yield
            self._answered_at = time.time()

    def list_namespaces(self) -> list[str]:
        with self._call():
            names: list[str] = self._required(self._hook.confo_list_namespaces(), "list_namespaces")
        return names

    def create_namespace(self, namespace: str) -> None:
        with self._call(namespace):
            self._hook.confo_create_namespace(namespace=namespace)

    def delete_namespace(self, namespace: str) -> None:
        with self._call(namespace):
            self._hook.confo_delete_namespace(namespace=namespace)

    def read(
        self,
        namespace: str,
        names: Collection[str] | None = None,
        *,
        screen: bool = True,
        missing_ok: bool = False,
    ) -> Snapshot:
        """The namespace as stored, or only ``names`` of it (those the store has), with its
        schemas. With ``screen``, a value that fails its schema is moved out of ``configs``
        into ``rejected`` (its revision stays): what the live view must never take in.

        :raises NamespaceNotFoundError: the store has no such namespace, unless ``missing_ok``
            (then an empty snapshot: the namespace holds nothing).
        """
        try:
            return self._read(namespace, names, screen)
        except NamespaceNotFoundError:
            if not missing_ok:
                raise
            return Snapshot()

    def _read(self, namespace: str, names: Collection[str] | None, screen: bool) -> Snapshot:
        wanted = None if names is None else list(names)
        with self._call(namespace):
            result = self._hook.confo_read(namespace=namespace, names=wanted)
        snapshot: Snapshot = self._required(result, "read")
        if wanted is not None and len(snapshot.configs) > len(wanted):
            snapshot = replace(
                snapshot,
                configs={n: snapshot.configs[n] for n in wanted if n in snapshot.configs},
                revisions={n: snapshot.revisions[n] for n in wanted if n in snapshot.revisions},
            )
        missing = snapshot.configs.keys() - snapshot.revisions.keys()
        if missing:
            raise PluginError(
                f"The {self.backend_type!r} backend read {sorted(missing)!r} of namespace "
                f"{namespace!r} without their revisions; confo_read must give one for each."
            )
        if screen and snapshot.schemas:
            held = self._rules.get(namespace)
            rules = schemas.Rules(namespace, {}, None) if held is None else held
            rules = self._rules[namespace] = rules.follow(snapshot)
            schemas.screen(rules, snapshot)
        if screen and namespace in self._checks:
            self._screen_locally(namespace, snapshot)
        return snapshot

    def write(self, namespace: str, changes: Changes) -> WriteResult:
        """Apply ``changes``; the new revision of every configuration put."""
        if not changes:
            return WriteResult()
        if self._wrapped:  # the record is frozen: nothing a wrapper can change in place
            changes = replace(
                changes,
                put={name: copy_json(config) for name, config in changes.put.items()},
                delete=set(changes.delete),
                expected=dict(changes.expected),
                schemas=None if changes.schemas is None else copy_json(changes.schemas),
            )
        with self._call(namespace):
            result = self._hook.confo_write(namespace=namespace, changes=changes)
        written: WriteResult = self._required(result, "write")
        return written

    @property
    def can_watch(self) -> bool:
        return bool(self._hook.confo_watch.get_hookimpls())

    def capabilities(self) -> Capabilities:
        """What the backend promises (see :class:`~confo.model.Capabilities`)."""
        with self._call(offline=True):  # a declaration: no store needed
            declared: Capabilities | None = self._hook.confo_capabilities()
        if declared is None:
            return Capabilities(watch="latest" if self.can_watch else "none")
        return declared

    @property
    def keeps_history(self) -> bool:
        """Whether writes here append change records: the backend can, and ``history_limit``
        is not 0."""
        return self._declared().history and self.history_limit > 0

    @property
    def keeps_schemas(self) -> bool:
        """Whether the backend keeps schemas (and writes are conditional on them)."""
        return self._declared().schemas

    @property
    def watches_per_namespace(self) -> bool:
        """Whether the backend's watch subscribes to each namespace on its own (see
        ``Capabilities.watch_scope``)."""
        return self._declared().watch_scope == "namespace"

    def _declared(self) -> Capabilities:
        if self._capabilities is None:
            self._capabilities = self.capabilities()
        return self._capabilities

    def history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        """The newest ``limit`` records of the namespace older than ``before``, newest first."""
        with self._call(namespace):
            found = self._hook.confo_history(namespace=namespace, limit=limit, before=before)
        records: list[ChangeRecord] = self._required(found, "history")
        return records

    def twin(self) -> Store:
        """Another connection to the same store, with the same plugins: for a watch."""
        twin = Store(self.name, self.backend_type, self._plugins)
        try:
            twin.connect(self._credentials, offline=False)
        except BaseException:
            twin.close()
            raise
        return twin

    def watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        """Run the backend's watch until ``stopping``: on a twin, which serves nothing else, and
        without the store's lock, so that ``close()`` can end a call stuck on a dead
        connection."""
        if self._closed:
            raise BackendUnavailableError(f"Backend {self.name!r} is closed.")
        self._hook.confo_watch(feed=feed, stopping=stopping)

    def close(self) -> None:
        offline = self._offline
        if offline is not None:
            offline.stop()
        with self._io:
            if self._closed:
                return
            self._closed = True
            self._closing.set()
            if self._offline is None:  # offline, its client was closed already
                self._close_backend()

    def _close_backend(self) -> None:
        try:
            self._hook.confo_close()
        except Exception as exc:  # closing must not stop the caller, nor hide an earlier error
            log.warning("closing backend %r failed: %r", self.name, exc)

    def _required(self, result: Any, hook: str) -> Any:
        if result is None:
            raise PluginError(
                f"The {self.backend_type!r} backend implements no confo_{hook} hook, "
                "which Confo needs."
            )
        return result


def _cache(core: Mapping[str, Any], own: Mapping[str, Any], backend: str) -> SnapshotCache | None:
    """The cache the ``cache_dir`` credential asks for (None without it).

    :raises CredentialsError: ``cache_dir`` is not a folder, or ``max_staleness`` comes
        without it.
    """
    cache_dir = folder(core, "cache_dir", backend)
    if cache_dir is None:
        if core.get("max_staleness") is not None:
            raise CredentialsError(
                f"Credential 'max_staleness' of the {backend} backend needs 'cache_dir': it "
                "says how old a cached namespace may be, and there is no cache without it."
            )
        return None
    if os.path.exists(cache_dir) and not os.path.isdir(cache_dir):
        raise CredentialsError(
            f"Credential 'cache_dir' of the {backend} backend names {cache_dir!r}, which is not "
            "a folder. Give a folder (it is made if missing)."
        )
    staleness = seconds(core, "max_staleness", backend, float("inf"))
    return SnapshotCache(cache_dir, backend, own, staleness)
