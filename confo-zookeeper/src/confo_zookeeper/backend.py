"""The ZooKeeper backend, in the original Confo's layout.

    /confo                        made when a backend is loaded
    /confo/<namespace>            a namespace (its data is not used)
    /confo/<namespace>/<config>   a configuration: UTF-8 JSON (an empty znode reads as {})

Reads pipeline one ``get`` per configuration (kazoo's async calls) instead of a round trip each.
A persist is one ZooKeeper transaction (multi) while it fits the server's request size limit
(``jute.maxbuffer``, 1 MB by default); a larger persist is split into several transactions, each
all or nothing, applied in order (see docs/backends/zookeeper.md).

Conflicts: a configuration's revision is its znode's version. A conditional persist is one multi
of ``create`` (fails if the znode exists), ``set_data`` and ``delete`` with the expected version;
if it fails, the versions are read to name every conflicting configuration. A persist that must
be split checks all versions first, then each part checks its own again. ZooKeeper starts a
re-created znode at version 0 again: an edit based on a configuration that was meanwhile deleted
and re-created with the same number of changes is not told apart (see docs/backends/zookeeper.md).

kazoo queues requests while it reconnects, so a call could wait for ever and a write could land
long after its caller gave up. Every call therefore first waits a short while for a connection,
raises BackendUnavailableError if there is none, and waits for its answer at most
``operation_timeout`` seconds.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import (
    AuthFailedError,
    BadVersionError,
    KazooException,
    NoAuthError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
)

from confo import Backend, hookimpl
from confo.errors import (
    BackendAuthenticationError,
    BackendUnavailableError,
    ConflictError,
    InvalidNameError,
    NamespaceNotFoundError,
    PartialWriteError,
    PermissionDeniedError,
)
from confo.history import ChangeRecord
from confo.model import Capabilities, Changes, Revision, Snapshot, WatchFeed, WriteResult
from confo.names import NameKind
from confo.schemas import decode_document
from confo.values import decode, encode
from confo_zookeeper import records, schemas
from confo_zookeeper.settings import ZookeeperSettings, credentials_from_url
from confo_zookeeper.transactions import (
    MAX_REQUEST_BYTES,
    Operation,
    OperationKind,
    apply_in_batches,
    expectation,
    split_for_requests,
    version_of,
)
from confo_zookeeper.watching import StoreWatcher

ROOT = "/confo"
# ZooKeeper's server (PathUtils.validatePath) refuses these UTF-16 code units: surrogates, the
# private-use area and non-characters. Characters beyond U+FFFF are surrogate pairs in Java, so
# they are refused too (the server answers BadArguments).
_ZK_FORBIDDEN = re.compile("[\ud800-\uf8ff\ufff0-\uffff\U00010000-\U0010ffff]")


class ZookeeperBackend(Backend):
    """Configurations as znodes under ``/confo``; digest ACLs when a user is given."""

    url_schemes = ("zookeeper",)

    def __init__(self) -> None:
        self.client: KazooClient | None = None
        self.settings: ZookeeperSettings | None = None
        self._recorded: set[str] = set()  # namespaces whose history parent is known to exist
        self._last_record: dict[str, int] = {}  # the number of this writer's last record, each
        self._schemas_root = False  # /confo-schemas is known to exist

    def __repr__(self) -> str:
        hosts = self.settings.hosts if self.settings else "not connected"
        user = self.settings.user if self.settings else None
        return f"<ZookeeperBackend {hosts} user={user!r}>"

    @hookimpl
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        settings = self.settings = ZookeeperSettings.from_credentials(credentials, timeout)
        client = KazooClient(**settings.client_arguments())
        # Not client.start(timeout): on a time-out it stops the client itself, which waits
        # for the session timeout when the server accepted and never answered (_stop_now).
        client.start_async().wait(timeout=settings.connect_timeout)
        if not client.connected:
            _stop_now(client)
            raise BackendUnavailableError(
                f"No ZooKeeper server answered at {settings.hosts} within "
                f"{settings.connect_timeout:g}s. Check that it is running and that "
                "zookeeper_host and zookeeper_port are right."
            ) from None
        self.client = client
        # Only where it is missing: an identity that may only read can load too.
        within = settings.connect_timeout
        with self._errors("create the /confo root"):
            if not self._wait(client.exists_async(ROOT), within):
                with suppress(NodeExistsError):  # another client made it meanwhile
                    self._wait(client.create_async(ROOT), within)

    @hookimpl
    def confo_credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        return credentials_from_url(url, password)

    @hookimpl
    def confo_check_name(self, kind: NameKind, name: str) -> None:
        bad = _ZK_FORBIDDEN.search(name)
        if bad:
            raise InvalidNameError(
                f"Invalid {kind} name {name!r} for ZooKeeper: it may not hold the character "
                f"{bad.group()!r} (U+{ord(bad.group()):04X}): it refuses surrogates, private-use "
                "characters, non-characters and characters beyond U+FFFF such as emoji."
            )

    @hookimpl
    def confo_list_namespaces(self) -> list[str]:
        with self._errors("list namespaces"):
            return sorted(self._wait(self._client().get_children_async(ROOT)))

    @hookimpl
    def confo_create_namespace(self, namespace: str) -> None:
        with self._errors(f"create namespace {namespace!r}"), suppress(NodeExistsError):
            self._wait(self._client().create_async(_path(namespace)))

    @hookimpl
    def confo_delete_namespace(self, namespace: str) -> None:
        path = _path(namespace)
        with self._errors(f"delete namespace {namespace!r}"):
            # Its history first: a namespace made again must never inherit it.
            history = records.children(self._client(), namespace, self._wait)
            removals = [Operation("delete", f"{records.parent(namespace)}/{n}") for n in history]
            with suppress(NoNodeError):
                apply_in_batches(
                    self._client(),
                    [*removals, Operation("delete", records.parent(namespace))],
                    self._wait,
                )
            self._recorded.discard(namespace)
            self._last_record.pop(namespace, None)
            children = self._children(namespace)
            operations = [Operation("delete", _path(namespace, child)) for child in children]
            operations.append(Operation("delete", path))
            try:
                apply_in_batches(self._client(), operations, self._wait)
            except NotEmptyError:
                raise BackendUnavailableError(
                    f"Namespace {namespace!r} changed while it was being deleted (another client "
                    "added a configuration). Try again."
                ) from None
            with suppress(NoNodeError):  # only once the namespace is gone: writers obey it
                self._wait(self._client().delete_async(schemas.path(namespace)))

    @hookimpl
    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        client = self._client()
        with self._errors(f"read namespace {namespace!r}"):
            wanted = sorted(self._children(namespace)) if names is None else list(names)
            pending = [client.get_async(_path(namespace, name)) for name in wanted]
            # After the configurations: a value is then never newer than the schemas it is
            # screened by (set_schema checks the values stored when it writes).
            document = client.get_async(schemas.path(namespace))
            snapshot = Snapshot()
            for name, result in zip(wanted, pending, strict=True):
                try:
                    data, stat = self._wait(result)
                except NoNodeError:
                    continue  # deleted by another client since it was listed, or never there
                where = f"ZooKeeper znode {_path(namespace, name)!r}"
                snapshot.configs[name] = decode(data, where, empty={})
                snapshot.revisions[name] = stat.version
            with suppress(NoNodeError):
                data, stat = self._wait(document)
                where = f"ZooKeeper znode {schemas.path(namespace)!r}"
                snapshot.schemas = decode_document(data, where)
                snapshot.schemas_revision = stat.version
            # A configuration read proves its namespace there; only without one is it asked
            # (not before every read: a round trip of its own, a third of update()'s reads).
            proven = names is None or bool(snapshot.configs)
            if not proven and not self._wait(client.exists_async(_path(namespace))):
                raise self._no_namespace(namespace)
        return snapshot

    @hookimpl
    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        encoded = {name: encode(config) for name, config in changes.put.items()}
        paths: list[str] = []
        with self._errors(f"write namespace {namespace!r}"):
            if changes.record is not None and namespace not in self._recorded:
                records.ensure_parent(self._client(), namespace, self._wait)
                self._recorded.add(namespace)
            if changes.check_schemas and not self._schemas_root:
                schemas.ensure_root(self._client(), self._wait)
                self._schemas_root = True
            if changes.force:
                done = self._write_forced(namespace, encoded, changes, paths)
            else:
                done = self._write_conditionally(namespace, encoded, changes, paths)
            ids = [records.record_id(path) for path in paths]
            if changes.record is not None and ids:
                self._prune_if_due(namespace, int(ids[-1]), changes.record.keep)
        schemas_revision = done.pop(schemas.NAME, None)
        revisions = {name: rev for name, rev in done.items() if rev is not None}
        return WriteResult(revisions, ids, schemas_revision)

    def _prune_if_due(self, namespace: str, created: int, keep: int) -> None:
        if records.crossed(self._last_record.get(namespace), created, keep):
            records.prune(self._client(), namespace, keep, self._wait)
        self._last_record[namespace] = created

    def _apply(
        self, namespace: str, operations: list[Operation], changes: Changes, paths: list[str]
    ) -> dict[str, Revision | None]:
        """``operations`` in as few transactions as fit, each with its part of the record."""
        draft = changes.record

        def record(group: list[Operation]) -> Operation:
            assert draft is not None
            return records.operation(namespace, draft, group)

        guard = schemas.guard(namespace, changes)
        return apply_in_batches(
            self._client(),
            operations,
            self._wait,
            record=record if draft else None,
            records=paths,
            guard=guard,
        )

    def _write_conditionally(
        self, namespace: str, encoded: dict[str, bytes], changes: Changes, paths: list[str]
    ) -> dict[str, Revision | None]:
        operations = [
            _conditional(namespace, name, data, changes) for name, data in encoded.items()
        ]
        operations += [_conditional(namespace, name, None, changes) for name in changes.delete]
        operations = schemas.write(namespace, changes) + operations
        for name in changes.only_checked():  # depended on, left as it is
            operations += expectation(_path(namespace, name), changes.expects(name))
        limit = MAX_REQUEST_BYTES // 3 if changes.record is not None else MAX_REQUEST_BYTES
        if sum(op.size for op in operations) > limit:
            self._check_later_parts(namespace, changes, operations)
        try:
            return self._apply(namespace, operations, changes, paths)
        except (BadVersionError, NodeExistsError, NoNodeError):
            self._raise_conflicts(namespace, changes)
        # Every configuration is as expected, so a create failed for want of its parent: the
        # namespace (or /confo, or its history's parent) was deleted behind our back. Create it
        # in the same transaction.
        operations = self._parents(namespace) + operations
        if changes.record is not None:
            records.ensure_parent(self._client(), namespace, self._wait)
        try:
            return self._apply(namespace, operations, changes, paths)
        except (BadVersionError, NodeExistsError, NoNodeError):
            self._raise_conflicts(namespace, changes)
            raise

    def _check_later_parts(
        self, namespace: str, changes: Changes, operations: list[Operation]
    ) -> None:
        """Before a split write, check what the parts after the first will write (the first
        checks its own, all or nothing): transactions of ``check`` operations only (versions,
        no data); the versions are read to name conflicts only if one fails."""
        recorded = changes.record is not None
        first = {op.config for op in split_for_requests(operations, recorded=recorded)[0]}
        names = [name for name in (*changes.put, *changes.delete) if name not in first]
        known = [name for name in names if changes.expects(name) is not None]
        checks = [
            Operation("check", _path(namespace, name), version=version_of(changes.expects(name)))
            for name in known
        ]
        try:
            apply_in_batches(self._client(), checks, self._wait)
        except (BadVersionError, NoNodeError, PartialWriteError):
            self._raise_conflicts(namespace, changes)
        new = [name for name in names if changes.expects(name) is None]
        self._raise_conflicts(namespace, Changes(expected=dict.fromkeys(new)), new)

    def _raise_conflicts(
        self, namespace: str, changes: Changes, only: list[str] | None = None
    ) -> None:
        """Read the versions of every configuration involved (or ``only`` these); raise
        ConflictError naming those that differ from what the write expects."""
        client = self._client()
        names = changes.checked() if only is None else only
        if changes.force:
            names = []
        document = client.exists_async(schemas.path(namespace))
        pending = [client.exists_async(_path(namespace, name)) for name in names]
        conflicts = []
        for name, result in zip(names, pending, strict=True):
            stat = self._wait(result)
            if (None if stat is None else stat.version) != changes.expects(name):
                conflicts.append(name)
        stat = self._wait(document)
        changed = schemas.changed(None if stat is None else stat.version, changes)
        if conflicts or changed:
            raise ConflictError(namespace, conflicts, schemas=changed)

    def _write_forced(
        self, namespace: str, encoded: dict[str, bytes], changes: Changes, paths: list[str]
    ) -> dict[str, Revision | None]:
        for attempt in range(3):
            try:
                operations = self._plan(namespace, encoded, changes.delete)
                return self._apply(namespace, operations, changes, paths)
            except (NodeExistsError, NoNodeError, BadVersionError):
                # Another client created or deleted a znode between our listing and our
                # transaction, which therefore changed nothing: plan again; unless the schema
                # document the write depends on changed.
                self._raise_conflicts(namespace, changes, [])
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _parents(self, namespace: str) -> list[Operation]:
        operations = [Operation("create", _path(namespace))]
        if not self._wait(self._client().exists_async(ROOT)):
            operations.insert(0, Operation("create", ROOT))
        return operations

    def _plan(
        self, namespace: str, encoded: dict[str, bytes], deleted: set[str]
    ) -> list[Operation]:
        """create or set_data for each configuration, by what the namespace holds now."""
        try:
            existing = set(self._children(namespace))
            operations = []
        except NamespaceNotFoundError:
            existing = set()
            operations = self._parents(namespace)
        for name, data in encoded.items():
            kind: OperationKind = "set" if name in existing else "create"
            operations.append(Operation(kind, _path(namespace, name), data, config=name))
        operations += [
            Operation("delete", _path(namespace, name), config=name)
            for name in deleted
            if name in existing
        ]
        return operations

    @hookimpl
    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        StoreWatcher(self._client(), feed, stopping).run()

    @hookimpl
    def confo_capabilities(self) -> Capabilities:
        return Capabilities(
            watch="latest",
            max_transaction_bytes=MAX_REQUEST_BYTES,
            names_outside_bmp=False,
            history=True,
            schemas=True,
        )

    @hookimpl
    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        client = self._client()
        with self._errors(f"read the history of namespace {namespace!r}"):
            exists = client.exists_async(_path(namespace))  # beside the listing: one wait
            listing = records.listing(client, namespace)
            if not self._wait(exists):
                raise self._no_namespace(namespace)
            return records.read(client, namespace, limit, before, listing, self._wait)

    @hookimpl
    def confo_close(self) -> None:
        if self.client is not None:
            self.client.stop()
            self.client.close()
            self.client = None

    # --- plumbing ----------------------------------------------------------------------------

    def _children(self, namespace: str) -> list[str]:
        try:
            children: list[str] = self._wait(self._client().get_children_async(_path(namespace)))
        except NoNodeError:
            raise self._no_namespace(namespace) from None
        return children

    def _no_namespace(self, namespace: str) -> NamespaceNotFoundError:
        return NamespaceNotFoundError(
            f"Namespace {namespace!r} does not exist in ZooKeeper (no znode "
            f"{_path(namespace)!r}). Create it with create_namespace({namespace!r})."
        )

    def _client(self) -> KazooClient:
        """The client, once connected; waits briefly for a reconnect before giving up."""
        client, settings = self.client, self.settings
        if client is None or settings is None:
            raise BackendUnavailableError("This ZooKeeper backend is closed; load it again.")
        deadline = time.monotonic() + settings.reconnect_grace
        while not client.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        if not client.connected:
            raise BackendUnavailableError(
                f"ZooKeeper at {settings.hosts} is not reachable (connection state "
                f"{client.state}); Confo keeps trying to reconnect. Try again later."
            )
        return client

    def _wait(self, result: Any, within: float | None = None) -> Any:
        """The answer of an async kazoo call, within ``operation_timeout`` seconds."""
        assert self.settings is not None
        return result.get(timeout=within or self.settings.operation_timeout)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        hosts = self.settings.hosts if self.settings else "ZooKeeper"
        try:
            yield
        except AuthFailedError:
            raise BackendAuthenticationError(
                f"ZooKeeper at {hosts} refused the credentials while trying to {action}. Check "
                "zookeeper_user and zookeeper_passwd."
            ) from None
        except NoAuthError:
            user = self.settings.user if self.settings else None
            who = f"user {user!r}" if user else "an anonymous client (no zookeeper_user)"
            raise PermissionDeniedError(
                f"ZooKeeper at {hosts} does not let {who} {action}: the znode's ACL does not "
                "grant the right (READ to read; WRITE to change a configuration; CREATE and "
                "DELETE on the namespace to add or remove one). Check zookeeper_user and "
                "zookeeper_passwd, or grant the right in the znodes' ACL."
            ) from None
        except KazooException as exc:
            raise BackendUnavailableError(
                f"Could not {action} on ZooKeeper at {hosts}: {type(exc).__name__} {exc}".strip()
            ) from None
        except Exception as exc:
            if self.client is not None and isinstance(exc, self.client.handler.timeout_exception):
                written = " A write it was sent may still be applied: reload() to see."
                raise BackendUnavailableError(
                    f"ZooKeeper at {hosts} did not answer in time to {action}."
                    + (written if action.startswith("write") else "")
                ) from None
            raise


def _stop_now(client: KazooClient) -> None:
    """Stop a client whose first connection never completed, without waiting for it.

    kazoo's connection thread waits for the server's handshake reply for the whole session
    timeout, and ``stop()`` joins that thread. So ``stop()`` runs on a thread of its own, and
    once it has marked the client stopped, the connection's socket is shut down, which wakes
    the connection thread at once: a server that accepts and never answers costs ``timeout``,
    not the session timeout.
    """
    stopper = threading.Thread(target=client.stop, name="confo-zookeeper-stop", daemon=True)
    stopper.start()
    while stopper.is_alive():
        sock = getattr(getattr(client, "_connection", None), "_socket", None)
        if sock is not None and client._stopped.is_set():
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        stopper.join(0.05)
    client.close()


def _conditional(namespace: str, name: str, data: bytes | None, changes: Changes) -> Operation:
    """The operation that writes (or, ``data`` None, deletes) ``name`` only if its znode still
    has the version the change expects."""
    path, expected = _path(namespace, name), changes.expects(name)
    if expected is None and data is not None:
        return Operation("create", path, data, config=name)
    if not isinstance(expected, int):  # read from another store: it cannot match this one
        raise ConflictError(namespace, [name], f" (revision {expected!r} is no znode version)")
    if data is None:
        return Operation("delete", path, version=expected, config=name)
    return Operation("set", path, data, version=expected, config=name)


def _path(namespace: str, config: str | None = None) -> str:
    return f"{ROOT}/{namespace}" if config is None else f"{ROOT}/{namespace}/{config}"
