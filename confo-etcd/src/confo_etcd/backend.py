"""The etcd backend, in the original Confo's layout.

    /confo/<namespace>            marks a namespace (an empty value)
    /confo/<namespace>/<config>   a configuration's JSON

A namespace that has configurations but no marker (keys put with ``etcdctl``) exists too.
Reading a namespace is one transaction of two range reads (the marker and the configurations, at
one revision); listing namespaces reads keys only. A persist is one transaction while it fits
etcd's limits (128 operations and 1.5 MiB by default); a larger one is split, in order, into
transactions that do (see docs/backends/etcd.md).

Conflicts: a configuration's revision is its key's mod_revision. A conditional persist is one
transaction that compares every key it writes or deletes (mod_revision equal to what was read, or
create_revision 0 for a new one); when a compare fails, the transaction's failure branch reads
those keys, so the error names every conflicting configuration in the same round trip. A persist
split over several transactions first reads and checks every key, then each part compares its
own keys again: a part can only fail if another writer changed one of its keys between the parts,
and then the earlier parts stay applied (PartialWriteError says which).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from confo import Backend, hookimpl
from confo.batching import apply_in_order, split
from confo.errors import BackendUnavailableError, ConflictError, NamespaceNotFoundError
from confo.history import ChangeRecord, decode_record
from confo.model import Capabilities, Changes, Revision, Snapshot, WatchFeed, WriteResult
from confo.names import is_valid
from confo.schemas import decode_document, encode_document
from confo.values import decode, encode
from confo_etcd.client import (
    Count,
    Delete,
    EtcdClient,
    Expect,
    Get,
    KeyValue,
    Operation,
    Put,
    TxnSpec,
    prefix_end,
)
from confo_etcd.settings import EtcdSettings, credentials_from_url

ROOT = "/confo"
HISTORY = "/confo-history"  # change records: <HISTORY>/<namespace>/<persist id>.<part>...
SCHEMAS = "/confo-schemas"  # schema documents: <SCHEMAS>/<namespace>
SCHEMAS_NAME = ""  # the schema document among a write's names: no configuration is named so
ID_DIGITS = 20  # a record's id: its key's mod_revision, zero-padded to sort as a string
KEY_OVERHEAD = 32  # bytes of framing per operation in a transaction request, generously


class EtcdBackend(Backend):
    """Configurations as etcd keys under ``/confo``."""

    url_schemes = ("etcd", "etcds")

    def __init__(self) -> None:
        self.client: EtcdClient | None = None
        self.settings: EtcdSettings | None = None

    def __repr__(self) -> str:
        where = self.settings.describe() if self.settings else "not connected"
        user = self.settings.user if self.settings else None
        return f"<EtcdBackend {where} user={user!r}>"

    @hookimpl
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        self.settings = EtcdSettings.from_credentials(credentials, timeout)
        self.client = EtcdClient(self.settings)

    @hookimpl
    def confo_credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        return credentials_from_url(url, password)

    @hookimpl
    def confo_list_namespaces(self) -> list[str]:
        names = {key[len(ROOT) + 1 :].split("/", 1)[0] for key in self._etcd().keys(f"{ROOT}/")}
        return sorted(name for name in names if is_valid(name))

    @hookimpl
    def confo_create_namespace(self, namespace: str) -> None:
        # Only where the marker is missing: rewriting it would tell every watcher that the
        # namespace was made again, and each would read all of it (`confo set` creates first).
        marker = _key(namespace)
        self._etcd().transaction([Put(marker, b"")], [Expect(marker, None)])

    @hookimpl
    def confo_delete_namespace(self, namespace: str) -> None:
        prefix = _key(namespace) + "/"
        records = _history_prefix(namespace)
        result = self._etcd().transaction(
            [
                Delete(_key(namespace)),
                Delete(prefix, prefix_end(prefix)),
                Delete(records, prefix_end(records)),  # a namespace made again starts afresh
                Delete(_schemas_key(namespace)),
            ]
        )
        marker, configs, *_ = result.responses
        if marker.response_delete_range.deleted + configs.response_delete_range.deleted == 0:
            raise NamespaceNotFoundError(f"Namespace {namespace!r} does not exist in etcd.")

    @hookimpl
    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        prefix = _key(namespace) + "/"
        wanted = None if names is None else list(names)
        if wanted is None or len(wanted) >= self._settings().max_txn_ops:
            # More keys than one transaction may name: the whole prefix in one range, filtered.
            reads = [Get(prefix, prefix_end(prefix))]
        else:
            reads = [Get(_key(namespace, name)) for name in wanted]
        schemas_key = _schemas_key(namespace)
        marker, document, *found = (
            self._etcd().transaction([Get(_key(namespace)), Get(schemas_key), *reads]).responses
        )
        items: list[KeyValue] = [item for response in found for item in response]
        if not marker and not items and not self._has_keys(prefix):
            raise NamespaceNotFoundError(
                f"Namespace {namespace!r} does not exist in etcd (no key {_key(namespace)!r}). "
                f"Create it with create_namespace({namespace!r})."
            )
        snapshot = Snapshot()
        start = len(prefix)
        for key, value, mod_revision in items:
            name = key[start:]
            # A deeper key (a/b) or a bare prefix was put by another tool: not a configuration.
            if "/" not in name and name:
                snapshot.configs[name] = decode(value, f"etcd key {key!r}")
                snapshot.revisions[name] = mod_revision
        if wanted is not None and len(snapshot.configs) > len(wanted):
            keep = set(wanted)
            snapshot = Snapshot(
                {n: c for n, c in snapshot.configs.items() if n in keep},
                {n: r for n, r in snapshot.revisions.items() if n in keep},
            )
        for kv in document:
            snapshot.schemas = decode_document(kv.value, f"etcd key {schemas_key!r}")
            snapshot.schemas_revision = kv.mod_revision
        return snapshot

    def _has_keys(self, prefix: str) -> bool:
        return bool(self._etcd().keys(prefix, limit=1))

    @hookimpl
    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        writes: list[Operation] = [
            Put(_key(namespace, n), encode(c)) for n, c in changes.put.items()
        ]
        writes += [Delete(_key(namespace, name)) for name in changes.delete]
        if changes.schemas is not None:  # first: a schema change is never split from its part
            document = _schemas_key(namespace)
            stored = Put(document, encode_document(changes.schemas))
            writes.insert(0, stored if changes.schemas else Delete(document))
        settings = self._settings()
        # A record travels with each part, holding its values twice (before and after): the
        # parts leave room for it, and for its Put and the Count that says when to prune.
        recorded = changes.record is not None
        # The marker goes first, alone in the first part if the write is split; only where the
        # write may create the namespace. Replacing configurations that exist needs none: their
        # compares fail if the namespace was deleted, and a rewritten marker would be one more
        # operation, and one more event for every watcher.
        replaces_only = not changes.force and all(
            changes.expects(name) is not None for name in (*changes.put, *changes.delete)
        )
        marker = [] if replaces_only else [Put(_key(namespace), b"")]
        groups = split(
            [*marker, *writes],
            _size,
            settings.max_request_bytes // 3 if recorded else settings.max_request_bytes,
            # etcd limits compares and operations alike: the record's two operations, and
            # the compare of the schema document
            settings.max_txn_ops - (2 if recorded else int(changes.check_schemas)),
            name=lambda op: f"etcd key {op.key!r}",
        )
        split_up = len(groups) > 1
        if split_up and not changes.force:
            self._check_all(namespace, changes)
        records: list[str] = []

        def apply(group: list[Operation]) -> dict[str, Revision | None]:
            done, record_id = self._apply(namespace, group, changes, read_on_failure=not split_up)
            if record_id is not None:
                records.append(record_id)
            return done

        done = apply_in_order(groups, apply, "etcd")
        schemas_revision = done.pop(SCHEMAS_NAME, None)
        revisions = {name: rev for name, rev in done.items() if rev is not None}
        return WriteResult(revisions, records, schemas_revision)

    def _apply(
        self, namespace: str, group: list[Operation], changes: Changes, *, read_on_failure: bool
    ) -> tuple[dict[str, Revision | None], str | None]:
        """One transaction: ``group``, if its keys still have the revisions ``changes`` expects,
        with its part of the change record; returns the revisions written and the record's id.

        With ``read_on_failure`` (a persist in one transaction) a failed compare reads the keys
        in the same round trip, to name the conflicts; the parts of a split persist, checked
        beforehand, carry no such reads (a thousand of them cost as much as the writes).
        """
        names = {op.key: op.key[len(_key(namespace)) + 1 :] for op in group}
        names.pop(_key(namespace), None)
        schemas_key = _schemas_key(namespace)
        names.pop(schemas_key, None)
        names.update({_key(namespace, name): name for name in changes.only_checked()})
        expect = (
            [] if changes.force else [Expect(k, _expected(changes, n)) for k, n in names.items()]
        )
        reads = [Get(key) for key in names] if read_on_failure else []
        if changes.check_schemas:  # force or not: a write obeys the schemas it was checked by
            expect.append(Expect(schemas_key, _revision(changes.schemas_expected)))
            reads.append(Get(schemas_key))
        record = changes.record
        history = _history_prefix(namespace)
        extra: list[Operation] = []
        if record is not None:  # the part's record, in the part's own transaction
            part = record.part(names.values())
            extra = [
                Put(f"{history}{part.persist_id}.{uuid.uuid4().hex[:8]}", part.encode()),
                Count(history, prefix_end(history)),
            ]
        result = self._etcd().transaction([*group, *extra], expect, reads)
        if not result.succeeded:
            self._refuse(namespace, names, changes, result.responses if read_on_failure else None)
        done: dict[str, Revision | None] = {
            name: result.revision if isinstance(op, Put) else None
            for op in group
            if (name := names.get(op.key)) is not None
        }
        if any(op.key == schemas_key for op in group):
            done[SCHEMAS_NAME] = result.revision if changes.schemas else None
        if record is None:
            return done, None
        count = result.responses[-1]
        if count > 2 * record.keep:
            self._prune(history, count - record.keep)
        return done, f"{result.revision:0{ID_DIGITS}d}"

    def _prune(self, history: str, surplus: int) -> None:
        """Delete the ``surplus`` oldest records under ``history`` (a write found too many)."""
        oldest = (
            self._etcd()
            .transaction(
                [Get(history, prefix_end(history), limit=surplus, order="oldest", keys_only=True)]
            )
            .responses[0]
        )
        step = self._settings().max_txn_ops
        for start in range(0, len(oldest), step):
            self._etcd().transaction([Delete(kv.key) for kv in oldest[start : start + step]])

    @hookimpl
    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        history = _history_prefix(namespace)
        older = int(before) - 1 if before is not None and before.isdigit() else 0
        if before is not None and older <= 0:
            return []  # nothing is older than the first revision (or than a foreign id)
        marker, found = (
            self._etcd()
            .transaction(
                [
                    Get(_key(namespace)),
                    Get(
                        history,
                        prefix_end(history),
                        limit=limit,
                        order="newest",
                        max_mod_revision=older,
                    ),
                ]
            )
            .responses
        )
        if not marker and not found and not self._has_keys(_key(namespace) + "/"):
            raise NamespaceNotFoundError(f"Namespace {namespace!r} does not exist in etcd.")
        return [
            decode_record(f"{kv.mod_revision:0{ID_DIGITS}d}", kv.value, f"etcd key {kv.key!r}")
            for kv in found
        ]

    def _check_all(self, namespace: str, changes: Changes) -> None:
        """Before a split write: every key as expected, or ConflictError and nothing written.

        Transactions of compares only (as many as the operation limit allows each), sent at
        once: no values travel, one round trip's wait; the keys are read (to name the
        conflicts) only where a compare fails.
        """
        names = changes.checked()
        step = self._settings().max_txn_ops
        chunks = [
            {_key(namespace, name): name for name in names[start : start + step]}
            for start in range(0, len(names), step)
        ]
        specs: list[TxnSpec] = [
            ([], [Expect(key, _expected(changes, name)) for key, name in chunk.items()], [])
            for chunk in chunks
        ]
        if changes.check_schemas:
            specs.append(
                ([], [Expect(_schemas_key(namespace), _revision(changes.schemas_expected))], [])
            )
        results = self._etcd().transactions(specs)
        if not all(result.succeeded for result in results):
            self._refuse(namespace, {k: n for chunk in chunks for k, n in chunk.items()}, changes)

    def _refuse(
        self, namespace: str, names: dict[str, str], changes: Changes, responses: Any = None
    ) -> NoReturn:
        """Raise the ConflictError of a failed compare: which of ``names`` (by key) do not have
        the revision ``changes`` expects, and whether the schema document changed; from the
        ``responses`` of a failure branch that read them (the document last), or read now."""
        schemas_key = _schemas_key(namespace)
        if not responses:
            keys = [*names, schemas_key] if changes.check_schemas else list(names)
            step = self._settings().max_txn_ops
            specs: list[TxnSpec] = [
                ([Get(key) for key in keys[start : start + step]], [], [])
                for start in range(0, len(keys), step)
            ]
            results = self._etcd().transactions(specs)
            responses = [response for result in results for response in result.responses]
        current = {kv.key: kv.mod_revision for response in responses for kv in response}
        conflicts = (
            []
            if changes.force
            else [n for k, n in names.items() if current.get(k) != changes.expects(n)]
        )
        schemas = changes.check_schemas and current.get(schemas_key) != changes.schemas_expected
        raise ConflictError(namespace, conflicts, schemas=schemas)

    @hookimpl
    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        # One stream over every namespace (Confo's whole prefix): one listener serves them all.
        self._etcd().watch(ROOT + "/", feed, stopping)

    @hookimpl
    def confo_capabilities(self) -> Capabilities:
        settings = self._settings()
        return Capabilities(
            watch="latest",
            max_transaction_ops=settings.max_txn_ops,
            max_transaction_bytes=settings.max_request_bytes,
            history=True,
            schemas=True,
        )

    @hookimpl
    def confo_close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _etcd(self) -> EtcdClient:
        if self.client is None:
            raise BackendUnavailableError("This etcd backend is closed; load it again.")
        return self.client

    def _settings(self) -> EtcdSettings:
        assert self.settings is not None
        return self.settings


def _history_prefix(namespace: str) -> str:
    """Where the namespace's change records are: beside Confo's prefix, never under it, so
    neither a namespace listing nor a watch of ROOT sees them."""
    return f"{HISTORY}/{namespace}/"


def _key(namespace: str, config: str | None = None) -> str:
    return f"{ROOT}/{namespace}" if config is None else f"{ROOT}/{namespace}/{config}"


def _schemas_key(namespace: str) -> str:
    """Where the namespace's schema document is: beside Confo's prefix, as history is."""
    return f"{SCHEMAS}/{namespace}"


def _expected(changes: Changes, name: str) -> int | None:
    return _revision(changes.expects(name))


def _revision(expected: Revision | None) -> int | None:
    if expected is not None and not isinstance(expected, int):
        return -1  # not an etcd revision (read from another store): can only conflict
    return expected


def _size(operation: Operation) -> int:
    value = operation.value if isinstance(operation, Put) else b""
    return len(operation.key.encode()) + len(value) + KEY_OVERHEAD
