"""Writing many znodes as ZooKeeper transactions that fit the server's request size limit.

ZooKeeper refuses a request larger than ``jute.maxbuffer`` (1,048,575 bytes by default), and a
transaction is one request. Operations are therefore grouped, in order, into transactions of at
most :data:`MAX_REQUEST_BYTES`; a single znode larger than that fails before anything is written.
Each transaction is all or nothing. When a later one fails, the earlier ones stay applied, and the
error says how many.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from kazoo.client import KazooClient
from kazoo.exceptions import RolledBackError

from confo.errors import BackendUnavailableError, StoreLimitError

MAX_REQUEST_BYTES = 1_000_000
"""Below the default jute.maxbuffer, leaving room for the request's own framing."""

OPERATION_OVERHEAD = 64  # header, ACL and lengths of one operation, generously


OperationKind = Literal["create", "set", "delete"]


@dataclass(frozen=True)
class Operation:
    kind: OperationKind
    path: str
    data: bytes = b""

    @property
    def size(self) -> int:
        return len(self.path.encode()) + len(self.data) + OPERATION_OVERHEAD


def batches(operations: list[Operation]) -> Iterator[list[Operation]]:
    """Consecutive groups of operations, each small enough for one request."""
    batch: list[Operation] = []
    size = 0
    for operation in operations:
        if operation.size > MAX_REQUEST_BYTES:
            raise StoreLimitError(
                f"Cannot write ZooKeeper znode {operation.path!r}: its {len(operation.data):,} "
                f"bytes exceed the {MAX_REQUEST_BYTES:,} a ZooKeeper request may carry. Split the "
                "configuration. Nothing was written."
            )
        if batch and size + operation.size > MAX_REQUEST_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(operation)
        size += operation.size
    if batch:
        yield batch


def apply_in_batches(
    client: KazooClient, operations: list[Operation], wait: Callable[[Any], Any]
) -> None:
    """Apply ``operations`` in order, as few transactions as the size limit allows.

    A failure in the first transaction re-raises kazoo's own error (nothing was written).
    """
    groups = list(batches(operations))  # checks every size before the first write
    applied = 0
    for group in groups:
        transaction = client.transaction()
        for operation in group:
            if operation.kind == "create":
                transaction.create(operation.path, operation.data)
            elif operation.kind == "set":
                transaction.set_data(operation.path, operation.data)
            else:
                transaction.delete(operation.path)
        results = wait(transaction.commit_async())
        failure = _failure(results)
        if failure is not None:
            if applied == 0:
                raise failure
            raise BackendUnavailableError(
                f"A write over ZooKeeper's request size limit was split into {len(groups)} "
                f"transactions; the first {applied} operations were applied, then "
                f"{type(failure).__name__} stopped the rest. Persist again to finish."
            ) from failure
        applied += len(group)


def _failure(results: list[Any]) -> Exception | None:
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, RolledBackError):
            return result
    return None
