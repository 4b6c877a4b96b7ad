"""Writing many znodes as ZooKeeper transactions that fit the server's request size limit.

ZooKeeper refuses a request larger than ``jute.maxbuffer`` (1,048,575 bytes by default), and a
transaction is one request. Operations are grouped, in order, into transactions of at most
:data:`MAX_REQUEST_BYTES` by :mod:`confo.batching`; a single znode larger than that fails before
anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kazoo.client import KazooClient
from kazoo.exceptions import RolledBackError

from confo.batching import apply_in_order, split

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


def apply_in_batches(
    client: KazooClient, operations: list[Operation], wait: Callable[[Any], Any]
) -> None:
    """Apply ``operations`` in order, in as few transactions as the size limit allows.

    A failure in the first transaction re-raises kazoo's own error (nothing was written).
    """

    def commit(group: list[Operation]) -> None:
        transaction = client.transaction()
        for operation in group:
            if operation.kind == "create":
                transaction.create(operation.path, operation.data)
            elif operation.kind == "set":
                transaction.set_data(operation.path, operation.data)
            else:
                transaction.delete(operation.path)
        for result in wait(transaction.commit_async()):
            if isinstance(result, Exception) and not isinstance(result, RolledBackError):
                raise result

    groups = split(
        operations,
        lambda op: op.size,
        MAX_REQUEST_BYTES,
        name=lambda op: f"ZooKeeper znode {op.path!r}",
    )
    apply_in_order(groups, commit, "ZooKeeper")
