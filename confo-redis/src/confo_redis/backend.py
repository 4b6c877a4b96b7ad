"""The Redis backend, in the original Confo's layout.

    <prefix>confo                 {"namespaces": ["HR_dept", ...]}
    <prefix><ns>                  {"configurations": ["database", ...]}
    <prefix><ns>-<config>         the configuration's JSON

The layout's traps, and what closes them:

- ``<ns>-<config>`` is ambiguous if a namespace name holds ``-``: namespace names may not.
- A namespace named ``confo`` would overwrite the root key: refused.
- The two index keys are read-modify-write: every change runs in WATCH/MULTI/EXEC and is retried
  when another client changed them meanwhile, so concurrent writers lose no entry.
- Top-level keys can collide with an application's own: ``key_prefix`` keeps Confo's apart, and a
  key that exists but is not Confo's is never overwritten (a clear error instead).
- An index that lists a missing key: the entry is skipped (logged) on read.

Conflicts. Redis keeps no version of a key, so a configuration's revision is a digest of the
bytes stored under it: it changes whenever the value does (and a change undone is, rightly, no
change). A conditional write WATCHes the configuration keys, reads them, compares their digests
with the expected revisions and writes in MULTI/EXEC, which fails if any watched key changed
meanwhile; so no key is added to the seed layout. A write that only updates configurations that
exist touches neither index, so it costs the same whatever the namespace holds; creating or
deleting configurations rewrites the namespace's index, as the layout requires.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.client import Pipeline
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from confo import Backend, hookimpl
from confo.errors import (
    BackendAuthenticationError,
    BackendUnavailableError,
    ConflictError,
    CorruptDataError,
    CredentialsError,
    InvalidNameError,
    NamespaceExistsException,
    NamespaceNotFoundError,
    PermissionDeniedError,
)
from confo.history import ChangeRecord, decode_record
from confo.model import Capabilities, Changes, Revision, Snapshot, WatchFeed, WriteResult
from confo.names import NameKind
from confo.schemas import decode_document, encode_document
from confo.values import decode, encode
from confo_redis.settings import RedisSettings, credentials_from_url

log = logging.getLogger(__name__)

ROOT = "confo"
HISTORY = "confo-history"  # change records: the stream "confo-history/<namespace>"
SCHEMAS = "confo-schemas"  # schema documents: the string "confo-schemas/<namespace>"


class RedisBackend(Backend):
    """Configurations in Redis strings, indexed by the ``confo`` and ``<namespace>`` keys."""

    url_schemes = ("redis", "rediss")

    def __init__(self) -> None:
        self.client: redis.Redis | None = None
        self.endpoint = "redis (not connected)"
        self.prefix = ""
        self.db = 0
        self.poll_interval = 1.0
        self.wait_replicas = 0
        self.wait_seconds = 5.0

    def __repr__(self) -> str:
        return f"<RedisBackend {self.endpoint} key_prefix={self.prefix!r}>"

    @hookimpl
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        settings = RedisSettings.from_credentials(credentials)
        self.endpoint = settings.describe()
        self.prefix = settings.key_prefix
        self.db = settings.db
        self.poll_interval = settings.watch_poll_interval
        # The round trips of loading go through a client of their own, bounded by `timeout`
        # (a server that accepts and never answers must not hold load_backend for longer);
        # later calls wait operation_timeout each.
        first = _client(settings, timeout, timeout)
        try:
            with self._errors("connect"):
                self._ping_first(first, settings, timeout)
                if settings.password is not None and settings.username is None:
                    self._refuse_unchecked_password(settings, timeout)
                self._make_root(first)
        finally:
            _close(first)
        self.wait_replicas = settings.wait_replicas
        self.wait_seconds = settings.operation_timeout / 2  # answered before the socket gives up
        single = settings.wait_replicas > 0
        self.client = _client(settings, timeout, settings.operation_timeout, single=single)

    def _ping_first(self, client: redis.Redis, settings: RedisSettings, timeout: float) -> None:
        try:
            client.ping()
        except redis.AuthenticationError as error:
            # AUTH <password> alone (redis-py before 8; 8 too where HELLO is refused) is refused
            # with these words when the default user has no password, even a default user
            # switched off, whose server does ask a login: a bare PING tells the two apart.
            if not any(words in str(error) for words in _NO_PASSWORD_SET):
                raise
            self._refuse_unchecked_password(settings, timeout)
            raise

    def _refuse_unchecked_password(self, settings: RedisSettings, timeout: float) -> None:
        """Redis answers OK to AUTH with any password when its default user needs none: a
        password that protects nothing is a mistake to report, not to ignore."""
        bare = _client(settings, timeout, timeout, authenticate=False)
        try:
            bare.ping()
        except redis.AuthenticationError:
            return  # NOAUTH: the server does check passwords
        finally:
            _close(bare)
        raise self._password_protects_nothing()

    def _password_protects_nothing(self) -> CredentialsError:
        return CredentialsError(
            f"Redis at {self.endpoint} asks no password (its default user has none), so "
            "redis_password protects nothing. Remove it, or set one on the server (requirepass, "
            "or an ACL user with redis_username)."
        )

    def _make_root(self, client: redis.Redis) -> None:
        """Write the root index if it is missing: only then, so that an identity that may only
        read can load the backend too."""
        if client.exists(self._root):
            return
        try:
            client.set(self._root, json.dumps({"namespaces": []}), nx=True)
        except redis.exceptions.NoPermissionError:
            log.info("Redis at %s: this user may not create the root index", self.endpoint)

    @hookimpl
    def confo_credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        return credentials_from_url(url, password)

    @hookimpl
    def confo_check_name(self, kind: NameKind, name: str) -> None:
        if kind != "namespace":
            return
        if "-" in name:
            raise InvalidNameError(
                f"Invalid namespace name {name!r} for Redis: keys are '<namespace>-<configuration>'"
                ", so a '-' in a namespace name would be ambiguous. Use '_' instead."
            )
        if name == ROOT:
            raise InvalidNameError(
                f"Invalid namespace name {name!r} for Redis: the key {ROOT!r} is Confo's root "
                "index. Choose another name."
            )

    @hookimpl
    def confo_list_namespaces(self) -> list[str]:
        with self._errors("list namespaces"):
            return sorted(self._namespaces(self._redis().get(self._root)))

    @hookimpl
    def confo_create_namespace(self, namespace: str) -> None:
        def create(pipe: Pipeline) -> None:
            namespaces, configs = self._indexes(pipe, namespace)
            if namespace in namespaces and configs is not None:
                return
            pipe.multi()
            if namespace not in namespaces:
                pipe.set(self._root, _index("namespaces", [*namespaces, namespace]))
            if configs is None:
                pipe.set(self._key(namespace), _index("configurations", []))

        self._transaction(f"create namespace {namespace!r}", create, namespace)

    @hookimpl
    def confo_delete_namespace(self, namespace: str) -> None:
        def delete(pipe: Pipeline) -> None:
            namespaces, configs = self._indexes(pipe, namespace)
            if namespace not in namespaces:
                raise NamespaceNotFoundError(f"Namespace {namespace!r} does not exist in Redis.")
            pipe.multi()
            pipe.set(self._root, _index("namespaces", [n for n in namespaces if n != namespace]))
            pipe.delete(self._key(namespace), *(self._key(namespace, c) for c in configs or []))
            pipe.delete(self._history_key(namespace))  # a namespace made again starts afresh
            pipe.delete(self._schemas_key(namespace))

        self._transaction(f"delete namespace {namespace!r}", delete, namespace)

    @hookimpl
    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        client = self._redis()
        with self._errors(f"read namespace {namespace!r}"):
            schemas_key = self._schemas_key(namespace)
            if names is None:
                listed = self._listed_configurations(client, namespace)
                keys = [self._key(namespace, name) for name in listed]
                *values, document = client.mget([*keys, schemas_key])  # at one moment
            else:
                listed, keys, values, document = self._read_some(client, namespace, list(names))
        absent = [key for key, raw in zip(keys, values, strict=True) if raw is None]
        if absent:
            self._refuse_other_types(client, namespace, absent)
        snapshot = Snapshot()
        for name, key, raw in zip(listed, keys, values, strict=True):
            if raw is None:
                log.warning(
                    "Redis index %r lists %r, but key %r is missing; skipped", namespace, name, key
                )
                continue
            snapshot.configs[name] = decode(raw, f"Redis key {key!r}")
            snapshot.revisions[name] = _revision(raw)
        if document is not None:
            snapshot.schemas = decode_document(document, f"Redis key {schemas_key!r}")
            snapshot.schemas_revision = _revision(document)
        return snapshot

    @hookimpl
    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        encoded = {name: encode(config) for name, config in changes.put.items()}
        updates_only = not changes.force and not changes.delete
        if updates_only and all(changes.expects(name) is not None for name in encoded):
            replies = self._update(namespace, changes, encoded)
        else:
            replies = self._write_with_index(namespace, changes, encoded)
        records = [] if changes.record is None else [_record_id(replies[-1])]
        revisions = {name: _revision(data) for name, data in encoded.items()}
        document = _document(changes)
        return WriteResult(revisions, records, None if document is None else _revision(document))

    def _guard(self, namespace: str, changes: Changes) -> list[str]:
        """The schema document's key, if the write is conditional on it (WATCHed and read)."""
        return [self._schemas_key(namespace)] if changes.check_schemas else []

    def _store_schemas(self, pipe: Pipeline, namespace: str, changes: Changes) -> None:
        """Queue the write's new schema document, if it has one."""
        document = _document(changes)
        if document is not None:
            pipe.set(self._schemas_key(namespace), document)
        elif changes.schemas is not None:
            pipe.delete(self._schemas_key(namespace))

    def _append_record(self, pipe: Pipeline, namespace: str, changes: Changes) -> None:
        """Queue the change record last in the write's MULTI: the stream hands out its id when
        the transaction runs, and trims to ``keep`` records (no writer conflicts on it)."""
        if changes.record is not None:
            pipe.xadd(
                self._history_key(namespace),
                {"record": changes.record.encode()},
                maxlen=changes.record.keep,
                approximate=False,
            )

    def _update(self, namespace: str, changes: Changes, encoded: dict[str, bytes]) -> list[Any]:
        """Replace configurations that exist: the indexes stay as they are."""
        keys = {name: self._key(namespace, name) for name in changes.checked()}
        guard = self._guard(namespace, changes)

        def write(pipe: Pipeline) -> None:
            read = [*keys.values(), *guard]
            stored = pipe.mget(read) if read else []
            document = stored.pop() if guard else None
            _raise_conflicts(namespace, changes, dict(zip(keys, stored, strict=True)), document)
            pipe.multi()
            if encoded:
                pipe.mset({keys[name]: data for name, data in encoded.items()})
            self._store_schemas(pipe, namespace, changes)
            self._append_record(pipe, namespace, changes)

        with self._errors(f"write namespace {namespace!r}"):
            replies = _watched_transaction(self._redis(), write, *keys.values(), *guard)
            self._acknowledged(f"write namespace {namespace!r}")
        return replies

    def _write_with_index(
        self, namespace: str, changes: Changes, encoded: dict[str, bytes]
    ) -> list[Any]:
        """Create, replace and delete configurations, and keep both indexes in step."""
        keys = {name: self._key(namespace, name) for name in changes.checked()}
        guard = self._guard(namespace, changes)

        def write(pipe: Pipeline) -> None:
            values: list[Any] = [*keys.values(), *guard]
            namespaces, listed = self._indexes(pipe, namespace, values)
            document = values.pop() if guard else None
            stored = dict(zip(keys, values, strict=True))
            configs = listed or []
            known = set(configs)
            new = [name for name in encoded if name not in known]
            self._refuse_foreign_keys(pipe, namespace, {name: stored[name] for name in new})
            _raise_conflicts(namespace, changes, {} if changes.force else stored, document)
            kept = [name for name in configs if name not in changes.delete]
            pipe.multi()
            if namespace not in namespaces:
                pipe.set(self._root, _index("namespaces", [*namespaces, namespace]))
            pipe.set(self._key(namespace), _index("configurations", kept + new))
            if encoded:
                pipe.mset({keys[name]: data for name, data in encoded.items()})
            if changes.delete:
                pipe.delete(*(keys[name] for name in changes.delete))
            self._store_schemas(pipe, namespace, changes)
            self._append_record(pipe, namespace, changes)

        with self._errors(f"write namespace {namespace!r}"):
            replies = _watched_transaction(
                self._redis(), write, self._root, self._key(namespace), *keys.values(), *guard
            )
            self._acknowledged(f"write namespace {namespace!r}")
        return replies

    @hookimpl
    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        client = self._redis()
        with self._errors("watch"):
            if not self._keyspace_events_on(client):
                _poll(client, feed, stopping, self.poll_interval)
                return
            # redis-py typed some calls in 8.2 and not before: each ignore allows both.
            pubsub = client.pubsub()  # type: ignore[no-untyped-call, unused-ignore]
            try:
                _KeyspaceWatch(self, client, pubsub, feed).run(stopping)
            finally:
                pubsub.close()

    def _keyspace_events_on(self, client: redis.Redis) -> bool:
        """Make Redis publish changes of string keys (K$g); False if Confo may not (CONFIG is
        refused: a managed Redis, a restricted ACL user), and the watch polls instead."""
        try:
            flags = str(client.config_get("notify-keyspace-events").get("notify-keyspace-events"))
            if "K" in flags and ("A" in flags or {"$", "g"} <= set(flags)):
                return True
            client.config_set("notify-keyspace-events", "".join(sorted(set(flags) | set("K$g"))))
            return True
        except redis.ResponseError as exc:
            log.warning(
                "Redis at %s refused to enable keyspace notifications (%s): watching by reading "
                "the namespace every %gs instead. Set notify-keyspace-events to 'K$g' (or wider) "
                "in the server's configuration to get changes pushed.",
                self.endpoint,
                exc,
                self.poll_interval,
            )
            return False
        finally:
            # The listener's one connection is its subscription: the one CONFIG used goes (a
            # polling watch makes it again when it reads).
            client.connection_pool.disconnect(inuse_connections=False)

    @hookimpl
    def confo_capabilities(self) -> Capabilities:
        # One MULTI/EXEC carries any persist, and its change record (a stream entry).
        return Capabilities(watch="latest", history=True, schemas=True, watch_scope="namespace")

    @hookimpl
    def confo_close(self) -> None:
        if self.client is not None:
            _close(self.client)
            self.client = None

    # --- layout ------------------------------------------------------------------------------

    @property
    def _root(self) -> str:
        return self.prefix + ROOT

    def _key(self, namespace: str, config: str | None = None) -> str:
        return self.prefix + (namespace if config is None else f"{namespace}-{config}")

    def _schemas_key(self, namespace: str) -> str:
        """The namespace's schema document: beside the layout, as its history is."""
        return f"{self.prefix}{SCHEMAS}/{namespace}"

    def _history_key(self, namespace: str) -> str:
        """A stream beside the seeds' keys: no index lists it, and no configuration's key can
        equal it (a configuration name holds no '/')."""
        return f"{self.prefix}{HISTORY}/{namespace}"

    @hookimpl
    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        client = self._redis()
        key = self._history_key(namespace)
        newest = "+" if before is None else f"({_stream_id(before)}"
        with self._errors(f"read the history of namespace {namespace!r}"):
            with client.pipeline(transaction=False) as pipe:
                pipe.get(self._key(namespace))
                pipe.xrevrange(key, newest, "-", count=limit)
                index, entries = pipe.execute()
            if index is None:  # the index proves the namespace; missing, ask the root
                self._listed_configurations(client, namespace)
        return [
            decode_record(
                _record_id(entry_id),
                fields.get(b"record", b""),
                f"Redis stream {key!r}, entry {entry_id.decode()}",
            )
            for entry_id, fields in entries
        ]

    def _namespaces(self, raw: bytes | str | None) -> list[str]:
        if raw is None:  # the root key was deleted behind Confo's back: no namespaces
            return []
        return _names(raw, "namespaces", f"Redis key {self._root!r} (Confo's root index)")

    def _configurations(self, namespace: str, raw: bytes | str | None) -> list[str]:
        if raw is None:
            return []
        where = f"Redis key {self._key(namespace)!r} (the index of namespace {namespace!r})"
        return _names(raw, "configurations", where)

    def _indexes(
        self, pipe: Pipeline, namespace: str, also: list[Any] | None = None
    ) -> tuple[list[str], list[str] | None]:
        """The root index and the namespace's index (None if missing), read under WATCH, and
        the keys ``also`` in the same MGET (their values replace the list's items in place).

        One MGET reads them at one moment: a key another Confo client created meanwhile is in
        the index as well, since both are written in one MULTI.
        A namespace key that exists but is not a Confo index belongs to someone else: it is never
        written over. MGET answers nil for keys of other types (a hash), so EXISTS tells those.
        """
        key = self._key(namespace)
        root, index, *values = pipe.mget(self._root, key, *(also or []))
        if also is not None:
            also[:] = values
        namespaces = self._namespaces(root)
        if index is None and not pipe.exists(key):
            return namespaces, None
        try:
            if index is not None:
                return namespaces, self._configurations(namespace, index)
        except CorruptDataError:
            if namespace in namespaces:
                raise  # Confo's own index, damaged: name it, touch nothing
        raise NamespaceExistsException(
            f"Cannot use namespace {namespace!r}: the Redis key {key!r} already holds data that "
            "is not a Confo namespace. Choose another name, or set key_prefix in the credentials."
        )

    def _read_some(
        self, client: redis.Redis, namespace: str, names: list[str]
    ) -> tuple[list[str], list[str], list[Any], Any]:
        """Some configurations (update() reads one), and the schema document: the index and
        the keys in one round trip, at one moment (MULTI/EXEC), then only the names the index
        lists."""
        keys = [self._key(namespace, name) for name in names]
        read = [*keys, self._schemas_key(namespace)]
        try:
            with client.pipeline() as pipe:
                pipe.get(self._key(namespace))
                pipe.mget(read)
                index, values = pipe.execute()
            listed = set(self._configurations(namespace, index)) if index is not None else None
        except (CorruptDataError, redis.ResponseError):
            listed = None
        if listed is None:  # missing or not an index: the slow path says why, or finds none
            listed = set(self._listed_configurations(client, namespace))
            values = client.mget(read)
        *values, document = values
        found = [i for i, name in enumerate(names) if name in listed]
        picked = [names[i] for i in found], [keys[i] for i in found], [values[i] for i in found]
        return (*picked, document)

    def _listed_configurations(self, client: redis.Redis, namespace: str) -> list[str]:
        """The namespace's index. It proves the namespace exists; the root index (which may list
        thousands of names) is read only when that key is missing or is not a Confo index."""
        try:
            index = client.get(self._key(namespace))
            if index is not None:
                return self._configurations(namespace, index)
        except (CorruptDataError, redis.ResponseError):
            if namespace in self._namespaces(client.get(self._root)):
                raise  # Confo's own index, damaged: name it
        else:
            if namespace in self._namespaces(client.get(self._root)):
                return []  # listed, but its index key was deleted: an empty namespace
        raise NamespaceNotFoundError(
            f"Namespace {namespace!r} does not exist in Redis at {self.endpoint}. "
            f"Create it with create_namespace({namespace!r})."
        )

    def _refuse_other_types(self, client: redis.Redis, namespace: str, keys: list[str]) -> None:
        """MGET answers nil for a key that is missing and for one of another type (a list):
        the index lists it as a configuration, so another type is corrupt data, not absence."""
        with self._errors(f"read namespace {namespace!r}"), client.pipeline() as pipe:
            for key in keys:
                pipe.type(key)
            types = pipe.execute()
        for key, raw in zip(keys, types, strict=True):
            kind = raw.decode() if isinstance(raw, bytes) else str(raw)
            if kind != "none":
                raise CorruptDataError(
                    f"Redis key {key!r} holds a {kind}, not a string of JSON, though namespace "
                    f"{namespace!r} lists it as a configuration. Fix or remove it (another "
                    "application may use the same key names: set key_prefix). Confo left it alone."
                )

    def _refuse_foreign_keys(
        self, pipe: Pipeline, namespace: str, new: dict[str, bytes | str | None]
    ) -> None:
        """Never overwrite a key that exists but that the namespace index does not list.

        ``new`` holds the unlisted names with their values, read in the index's own MGET.
        """
        taken = [self._key(namespace, name) for name, raw in new.items() if raw is not None]
        unseen = [name for name, raw in new.items() if raw is None]
        keys = [self._key(namespace, name) for name in unseen]
        if not taken and keys and pipe.exists(*keys):
            now = pipe.mget(keys)
            created = [name for name, raw in zip(unseen, now, strict=True) if raw is not None]
            if created:  # a string just made, after our MGET: another writer won the race
                raise ConflictError(namespace, created)
            taken = keys  # not strings: another application's keys
        if taken:
            raise InvalidNameError(
                f"Cannot write configuration(s) to namespace {namespace!r}: the Redis key(s) "
                f"{', '.join(map(repr, taken))} already exist and are not Confo's. Choose "
                "other names, or set key_prefix in the credentials. Nothing was written."
            )

    # --- plumbing ----------------------------------------------------------------------------

    def _redis(self) -> redis.Redis:
        if self.client is None:
            raise BackendUnavailableError("This Redis backend is closed; load it again.")
        return self.client

    def _transaction(self, action: str, body: Callable[[Pipeline], None], namespace: str) -> None:
        """Run ``body`` under WATCH of both index keys, retried until no other client interferes."""
        with self._errors(action):
            _watched_transaction(self._redis(), body, self._root, self._key(namespace))
            self._acknowledged(action)

    def _acknowledged(self, action: str) -> None:
        """With ``redis_wait_replicas``: return once that many replicas have the write (WAIT),
        so that a failover to one of them cannot lose it; otherwise say so."""
        if not self.wait_replicas:
            return
        acknowledged = self._redis().wait(self.wait_replicas, int(self.wait_seconds * 1000))
        if acknowledged < self.wait_replicas:
            raise BackendUnavailableError(
                f"Could not {action} safely: the primary at {self.endpoint} has it, but only "
                f"{acknowledged} of {self.wait_replicas} replicas acknowledged it within "
                f"{self.wait_seconds:g}s (redis_wait_replicas), so a failover could lose it. "
                "Persist again once the replicas are back (if the write survived, that "
                "conflicts: reload() then)."
            )

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except redis.AuthenticationError as exc:
            raise BackendAuthenticationError(
                f"Redis at {self.endpoint} refused the credentials while trying to {action} "
                f"({exc}). Check redis_username and redis_password."
            ) from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise BackendUnavailableError(
                f"Could not {action}: Redis at {self.endpoint} did not answer ({exc}). Check that "
                "it is running and that redis_host and redis_port are right."
            ) from None
        except redis.ResponseError as exc:
            raise _response_error(exc, action, self.endpoint) from None
        except redis.RedisError as exc:  # InvalidResponse: some other server answered
            raise BackendUnavailableError(
                f"Could not {action}: what answers at {self.endpoint} does not speak Redis's "
                f"protocol ({type(exc).__name__}). Check redis_host and redis_port."
            ) from None


def _watched_transaction(
    client: redis.Redis, body: Callable[[Pipeline], None], *keys: str
) -> list[Any]:
    """``client.transaction(body, *keys)``, less one flaw: redis-py reports a connection lost
    while keys are watched as the WatchError of a key that changed, and runs ``body`` again.
    After an EXEC the store applied but whose answer was lost, that second run reads this
    write's own value as someone else's: a false conflict. Here the loss ends the call as what
    it is (its outcome unknown, for the manager to settle); a changed key is still retried."""
    with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(*keys)  # type: ignore[no-untyped-call, unused-ignore]
                body(pipe)
                replies: list[Any] = pipe.execute()
                return replies
            except redis.WatchError as exc:
                lost = exc.__context__  # redis-py raises it while handling the connection's error
                if isinstance(lost, (redis.ConnectionError, redis.TimeoutError)):
                    raise lost from None


def _client(
    settings: RedisSettings,
    connect_timeout: float,
    timeout: float,
    *,
    authenticate: bool = True,
    single: bool = False,
) -> redis.Redis:
    """A client of the Redis the settings name: a plain one, or one that follows the primary
    the Sentinels name (after a failover too). ``single``: one pooled connection, so that WAIT
    follows the writes of its own connection, which it counts."""
    options: dict[str, Any] = {
        "db": settings.db,
        "username": settings.username if authenticate else None,
        "password": settings.password if authenticate else None,
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": timeout,
        # One quick retry gets through a pooled connection the server dropped; redis-py's
        # default backs off for seconds, and retries time-outs too, doubling every wait.
        "retry": Retry(
            ExponentialBackoff(cap=0.2, base=0.05),
            retries=1,
            supported_errors=(redis.ConnectionError,),
        ),
        # A PING on a connection idle this long: a watch's subscription finds a dead server
        # (or a cut connection) within seconds rather than never.
        "health_check_interval": 5,
        "max_connections": 1 if single else None,
    }
    # Only for TLS: the classes of plain connections take no ssl_* arguments.
    tls = {"ssl": True, "ssl_ca_certs": settings.ca_cert} if settings.tls else {}
    if settings.tls:
        options |= {**tls, "ssl_certfile": settings.certfile, "ssl_keyfile": settings.keyfile}
    if settings.service is None:
        return redis.Redis(host=settings.host, port=settings.port, **options)
    sentinel = Sentinel(  # type: ignore[no-untyped-call, unused-ignore]
        list(settings.sentinels),
        sentinel_kwargs={
            "password": settings.sentinel_password,
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": timeout,
            **tls,
        },
    )
    client: redis.Redis = sentinel.master_for(settings.service, **options)  # type: ignore[no-untyped-call, unused-ignore]
    return client


def _close(client: redis.Redis) -> None:
    """Close the client, and the connections to the Sentinels it asked for the primary."""
    client.close()
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        for sentinel in pool.sentinel_manager.sentinels:
            sentinel.close()


def _response_error(exc: redis.ResponseError, action: str, endpoint: str) -> Exception:
    message = str(exc)
    if isinstance(exc, redis.exceptions.NoPermissionError) or message.startswith("NOPERM"):
        return PermissionDeniedError(
            f"Redis at {endpoint} does not let this user {action}: {message} (NOPERM). Grant "
            "the user the right it names in its ACL (for writes: +@write and +multi +exec on "
            "Confo's keys), or use an identity that may."
        )
    if message.startswith(("NOAUTH", "WRONGPASS")):
        return BackendAuthenticationError(
            f"Redis at {endpoint} refused to {action}: {message}. Check redis_username, "
            "redis_password and the user's ACL."
        )
    if message.startswith("WRONGTYPE"):
        return CorruptDataError(
            f"Could not {action}: a key Confo uses holds another Redis type (not a string). "
            "Another application uses the same key names: set key_prefix in the credentials."
        )
    return BackendUnavailableError(f"Redis at {endpoint} failed to {action}: {message}")


def _names(raw: bytes | str, field: str, where: str) -> list[str]:
    index = decode(raw, where)
    names = index.get(field)
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise CorruptDataError(
            f"{where} should hold {{{field!r}: [names]}}, not {raw[:80]!r}. Confo left it alone."
        )
    return names


def _poll(client: redis.Redis, feed: WatchFeed, stopping: threading.Event, every: float) -> None:
    """The watch without keyspace notifications: a full read (and comparison) of every watched
    namespace every ``every`` seconds, and a PING every heartbeat that proves the store there."""
    client.ping()
    feed.resync()
    _place_all(feed)
    tick = min(every, feed.heartbeat)
    polled = time.monotonic()
    while not stopping.wait(tick):
        client.ping()
        feed.alive()
        _place_all(feed)  # each poll reads every namespace watched: nothing to subscribe to
        if time.monotonic() - polled >= every:
            polled = time.monotonic()
            for namespace in feed.namespaces():
                feed.changed(namespace, None)


def _place_all(feed: WatchFeed) -> None:
    for namespace in feed.namespaces():
        feed.placed(namespace)


# How Redis 6 and later, and Redis before 6, refuse AUTH <password> for a default user that
# has no password.
_NO_PASSWORD_SET = ("without any password configured", "no password is set")


class _KeyspaceWatch:
    """One subscription connection for every watched namespace: a pattern for its
    configuration keys (``<ns>-*``) and a channel for its index key (``<ns>``), each added and
    removed as namespaces are watched and not. PINGs on the subscription are its heartbeat."""

    def __init__(
        self, backend: RedisBackend, client: redis.Redis, pubsub: Any, feed: WatchFeed
    ) -> None:
        self.backend = backend
        self.client = client
        self.pubsub = pubsub
        self.feed = feed
        self.events = f"__keyspace@{backend.db}__:"
        self.subscribed: set[str] = set()
        self.patterns: dict[str, str] = {}  # pattern -> the namespace it serves
        self.unconfirmed: set[str] = set()
        self.announced: frozenset[str] = frozenset()  # the watched set last placed
        self.in_place = False  # every first subscription confirmed: resync() was said

    def run(self, stopping: threading.Event) -> None:
        heard = pinged = time.monotonic()
        while not stopping.is_set():
            self._follow_namespaces()
            now = time.monotonic()
            if not self.subscribed:  # no connection to keep alive yet
                heard = pinged = now
                stopping.wait(0.25)
                continue
            if now - pinged >= self.feed.heartbeat:
                self.pubsub.ping()
                pinged = now
            if now - heard > 3 * self.feed.heartbeat + 1:
                raise BackendUnavailableError(
                    f"Redis at {self.backend.endpoint} did not answer the watch's PINGs: the "
                    "connection is silent"
                )
            message = self.pubsub.get_message(timeout=0.25)
            if message is not None:
                heard = time.monotonic()
                self._on(message)

    def _follow_namespaces(self) -> None:
        wanted = self.feed.namespaces()
        for namespace in wanted - self.subscribed:
            pattern = self._pattern(namespace)
            self.patterns[pattern] = namespace
            self.pubsub.psubscribe(pattern)
            self.pubsub.subscribe(self._channel(namespace))
            self.unconfirmed.add(namespace)
        for namespace in self.subscribed - wanted:
            pattern = self._pattern(namespace)
            self.patterns.pop(pattern, None)
            self.pubsub.punsubscribe(pattern)
            self.pubsub.unsubscribe(self._channel(namespace))
            self.unconfirmed.discard(namespace)
        if wanted is not self.announced:  # a watch may have stopped and started again
            self.announced = wanted
            for namespace in wanted & self.subscribed - self.unconfirmed:
                self.feed.placed(namespace)  # still subscribed: no confirmation will come
        self.subscribed = set(wanted)
        if not self.in_place and not self.unconfirmed:
            self._in_place()

    def _on(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "pong":
            self.feed.alive()
        elif kind == "psubscribe":  # the server confirmed: from now on changes are published
            namespace = self._namespace_of_pattern(message["channel"])
            self.unconfirmed.discard(namespace)
            if namespace:
                self.feed.placed(namespace)
            if not self.in_place:
                if not self.unconfirmed:
                    self._in_place()
            elif namespace in self.subscribed:
                # A new namespace, or redis-py subscribing again after a reconnect of its own:
                # a restarted server has forgotten CONFIG SET, and what came before is read.
                self.backend._keyspace_events_on(self.client)
                self.feed.changed(namespace, None)
        elif kind == "pmessage":
            namespace = self._namespace_of_pattern(message["pattern"])
            channel = message["channel"].decode(errors="replace")
            start = len(self.events + self.backend._key(namespace, ""))
            self.feed.changed(namespace, [channel[start:]])
        elif kind == "message":  # the namespace's index key: made, deleted, rewritten
            channel = message["channel"].decode(errors="replace")
            prefix = len(self.events + self.backend.prefix)
            self.feed.changed(channel[prefix:], None)

    def _in_place(self) -> None:
        # A restarted server has also forgotten a setting made with CONFIG SET.
        self.backend._keyspace_events_on(self.client)
        self.in_place = True
        self.feed.resync()

    def _pattern(self, namespace: str) -> str:
        return self.events + _glob_escape(self.backend._key(namespace, "")) + "*"

    def _channel(self, namespace: str) -> str:
        return self.events + self.backend._key(namespace)

    def _namespace_of_pattern(self, raw: bytes | str) -> str:
        """The namespace a pattern serves ("" for one unsubscribed meanwhile)."""
        pattern = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        return self.patterns.get(pattern, "")


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a PSUBSCRIBE pattern."""
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


def _raise_conflicts(
    namespace: str, changes: Changes, stored: dict[str, bytes | str | None], document: Any
) -> None:
    """ConflictError unless every configuration read, and the schema ``document`` if the write
    is conditional on it, have the revisions the write expects."""
    conflicts = [
        name
        for name, raw in stored.items()
        if (None if raw is None else _revision(raw)) != changes.expects(name)
    ]
    schemas = changes.check_schemas and (
        (None if document is None else _revision(document)) != changes.schemas_expected
    )
    if conflicts or schemas:
        raise ConflictError(namespace, conflicts, schemas=schemas)


def _document(changes: Changes) -> bytes | None:
    """The schema document a write stores (None: it stores none, or removes it)."""
    return encode_document(changes.schemas) if changes.schemas else None


def _revision(raw: bytes | str) -> Revision:
    """A configuration's revision on Redis: a digest of the bytes stored (see the module doc)."""
    data = raw.encode() if isinstance(raw, str) else raw
    return hashlib.blake2b(data, digest_size=10).hexdigest()


def _index(field: str, names: list[str]) -> str:
    return json.dumps({field: names}, ensure_ascii=False)


def _record_id(stream_id: bytes | str) -> str:
    """A stream id ("1733140800123-0") as a record id that sorts as a string."""
    text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    millis, _, sequence = text.partition("-")
    return f"{int(millis):015d}-{int(sequence or 0):010d}"


def _stream_id(record_id: str) -> str:
    millis, _, sequence = record_id.partition("-")
    if not (millis.isdigit() and sequence.isdigit()):
        return "0-0"  # not one of this backend's ids: nothing is older than it
    return f"{int(millis)}-{int(sequence)}"
