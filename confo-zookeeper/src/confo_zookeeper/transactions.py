"""Writing many znodes as ZooKeeper transactions that fit the server's request size limit.

ZooKeeper refuses a request larger than ``jute.maxbuffer`` (1,048,575 bytes by default), and a
transaction is one request. Operations are grouped, in order, into transactions of at most
:data:`MAX_REQUEST_BYTES` by :mod:`confo.batching`; a single znode larger than that fails before
anything is written.

An operation may carry the znode version it expects (``set_data`` and ``delete`` with a version,
``create`` failing if the znode exists): that is how a persist is conditional.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kazoo.client import KazooClient
from kazoo.exceptions import RolledBackError, RuntimeInconsistency

from confo.batching import apply_in_order, split
from confo.model import Revision

MAX_REQUEST_BYTES = 1_000_000
"""Below the default jute.maxbuffer, leaving room for the request's own framing."""

OPERATION_OVERHEAD = 64  # header, ACL and lengths of one operation, generously

OperationKind = Literal["create", "set", "delete", "check", "sequential"]
ANY_VERSION = -1


@dataclass(frozen=True)
class Operation:
    kind: OperationKind
    path: str
    data: bytes = b""
    version: int = ANY_VERSION  # for set and delete: the version the znode must have
    config: str | None = None  # the configuration it writes, if any

    @property
    def size(self) -> int:
        return len(self.path.encode()) + len(self.data) + OPERATION_OVERHEAD


def version_of(revision: Revision | None) -> int:
    """A revision as a znode version (one from another store can only conflict)."""
    return revision if isinstance(revision, int) else -2


def expectation(path: str, expected: Revision | None) -> list[Operation]:
    """The operations that fail a multi unless the znode at ``path`` has version ``expected``
    (None: that it does not exist, as a create and a delete of it: the one way a multi can
    require a znode to be absent). They leave it as it was."""
    if expected is None:
        return [Operation("create", path), Operation("delete", path)]
    return [Operation("check", path, version=version_of(expected))]


def apply_in_batches(
    client: KazooClient,
    operations: list[Operation],
    wait: Callable[[Any], Any],
    *,
    record: Callable[[list[Operation]], Operation] | None = None,
    records: list[str] | None = None,
    guard: Sequence[Operation] = (),
) -> dict[str, Revision | None]:
    """Apply ``operations`` in order, in as few transactions as the size limit allows.

    Returns the new version of each configuration written (None for each deleted). A failure in
    the first transaction re-raises kazoo's own error for the operation that failed (nothing
    was written). With ``record``, each transaction also carries ``record(its operations)``
    (a sequential znode: the part's change record), whose path goes into ``records``; the parts
    then leave room for it (it holds their values twice). ``guard`` goes into each
    transaction: operations that fail it unless the store is as the write expects.
    """

    def commit(group: list[Operation]) -> dict[str, Revision | None]:
        transaction = client.transaction()
        extra = [] if record is None else [record(group)]
        for operation in [*group, *guard, *extra]:
            if operation.kind == "sequential":
                transaction.create(operation.path, operation.data, sequence=True)
            elif operation.kind == "create":
                transaction.create(operation.path, operation.data)
            elif operation.kind == "set":
                transaction.set_data(operation.path, operation.data, operation.version)
            elif operation.kind == "check":
                transaction.check(operation.path, operation.version)
            else:
                transaction.delete(operation.path, operation.version)
        results = wait(transaction.commit_async())
        for result in results:
            if isinstance(result, Exception) and not isinstance(
                result, (RolledBackError, RuntimeInconsistency)
            ):
                raise result
        if extra and records is not None:
            records.append(results[-1])  # the sequential znode's path, as created
        return {
            operation.config: _revision(operation, result)
            for operation, result in zip(group, results[: len(group)], strict=True)
            if operation.config is not None
        }

    groups = split_for_requests(operations, recorded=record is not None)
    return apply_in_order(groups, commit, "ZooKeeper")


def split_for_requests(
    operations: list[Operation], *, recorded: bool = False
) -> list[list[Operation]]:
    """The transactions ``operations`` are applied in, each within the request size limit (a
    third of it with a change record beside, which holds each value twice)."""
    return split(
        operations,
        lambda op: op.size,
        MAX_REQUEST_BYTES // 3 if recorded else MAX_REQUEST_BYTES,
        name=lambda op: f"ZooKeeper znode {op.path!r}",
    )


def _revision(operation: Operation, result: Any) -> Revision | None:
    if operation.kind in ("delete", "check"):
        return None
    if operation.kind == "create":
        return 0  # a new znode's version
    version: int = result.version  # set_data answers with the znode's new Stat
    return version
