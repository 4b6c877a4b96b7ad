"""The ZooKeeper backend's change records: sequential znodes ``/confo-history/<namespace>/r-N``.

Beside ``/confo``, never under it: no namespace listing and no watch of ``/confo`` sees them.
Each record is created in the multi of the change it records, as a sequential znode: ZooKeeper
numbers it (the parent's counter, ten digits, zero-padded), so ids sort in the order the writes
were applied and no two writers ever conflict over one. Pruning: the writer whose record is the
first at or past a multiple of ``keep`` (it sees its number cross one) deletes the oldest down
to ``keep``, in one multi; between two prunes fewer than ``keep`` records are created, so at
most twice ``keep`` are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError

from confo.history import ChangeRecord, RecordDraft, decode_record
from confo_zookeeper.transactions import Operation

ROOT = "/confo-history"
PREFIX = "r-"
PRUNE_BATCH = 1_000  # deletes per multi: about 60 KB of request, far below the 1 MB limit


def parent(namespace: str) -> str:
    return f"{ROOT}/{namespace}"


def operation(namespace: str, record: RecordDraft, group: list[Operation]) -> Operation:
    """The sequential create of ``group``'s part of ``record``."""
    names = [op.config for op in group if op.config is not None]
    return Operation("sequential", f"{parent(namespace)}/{PREFIX}", record.part(names).encode())


def record_id(path: str) -> str:
    """The id in a record znode's path (``.../r-0000000042`` -> ``0000000042``)."""
    return path.rsplit("/", 1)[-1].removeprefix(PREFIX)


def ensure_parent(client: KazooClient, namespace: str, wait: Callable[[Any], Any]) -> None:
    """Create ``/confo-history/<namespace>`` (and its root) if missing."""
    for path in (ROOT, parent(namespace)):
        with suppress(NodeExistsError):
            wait(client.create_async(path))


def listing(client: KazooClient, namespace: str) -> Any:
    """The request for the record znodes' names (see :func:`children`), sent now."""
    return client.get_children_async(parent(namespace))


def children(
    client: KazooClient, namespace: str, wait: Callable[[Any], Any], pending: Any = None
) -> list[str]:
    """The record znodes' names, oldest first; [] without any. ``pending``: a
    :func:`listing` already sent."""
    try:
        names: list[str] = wait(pending or listing(client, namespace))
    except NoNodeError:
        return []
    return sorted(name for name in names if name.startswith(PREFIX))


def prune(client: KazooClient, namespace: str, keep: int, wait: Callable[[Any], Any]) -> None:
    """Delete the oldest records beyond ``keep``, :data:`PRUNE_BATCH` to a multi. A multi is one
    transaction for the server, where pipelined single deletes are one each: they made the
    persists around a prune 1.6x slower (measured, a raw client's). A batch that fails, as
    another writer pruned some of it meanwhile, goes again one by one."""
    doomed = [f"{parent(namespace)}/{name}" for name in children(client, namespace, wait)[:-keep]]
    for start in range(0, len(doomed), PRUNE_BATCH):
        batch = doomed[start : start + PRUNE_BATCH]
        transaction = client.transaction()
        for path in batch:
            transaction.delete(path)
        if not any(isinstance(result, Exception) for result in wait(transaction.commit_async())):
            continue
        for result in [client.delete_async(path) for path in batch]:
            with suppress(NoNodeError):
                wait(result)


def crossed(previous: int | None, created: int, keep: int) -> bool:
    """Whether a record numbered ``created`` is the first at or past a multiple of ``keep``
    this writer saw (``previous``: its last record's number, None if it has none yet)."""
    return previous is None or created // keep > previous // keep


def read(  # noqa: PLR0917 (the backend's one call, in order)
    client: KazooClient,
    namespace: str,
    limit: int,
    before: str | None,
    pending: Any,
    wait: Callable[[Any], Any],
) -> list[ChangeRecord]:
    """The newest ``limit`` records older than ``before``: the ``pending`` :func:`listing`,
    then pipelined reads."""
    names = [
        name
        for name in reversed(children(client, namespace, wait, pending))
        if before is None or name.removeprefix(PREFIX) < before
    ][:limit]
    pending = [client.get_async(f"{parent(namespace)}/{name}") for name in names]
    records = []
    for name, result in zip(names, pending, strict=True):
        try:
            data, _stat = wait(result)
        except NoNodeError:  # pruned meanwhile: it was among the oldest
            continue
        where = f"ZooKeeper znode {parent(namespace)}/{name!r}"
        records.append(decode_record(name.removeprefix(PREFIX), data, where))
    return records
