"""Splitting one write into the fewest transactions a store's limits allow.

ZooKeeper caps the bytes of a request, etcd the operations and bytes of a transaction. A persist
larger than that is applied as consecutive transactions, in order, each all or nothing. If a later
one fails, the earlier ones stay applied, and the error says how many operations were.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from confo.errors import BackendUnavailableError, StoreLimitError

T = TypeVar("T")


def split(
    items: Sequence[T],
    size: Callable[[T], int],
    max_bytes: int,
    max_items: int | None = None,
    *,
    name: Callable[[T], str],
) -> list[list[T]]:
    """Consecutive groups of ``items``, each within ``max_bytes`` and ``max_items``.

    :raises StoreLimitError: one item alone is larger than ``max_bytes``; nothing is written.
    """
    groups: list[list[T]] = []
    group: list[T] = []
    total = 0
    for item in items:
        item_size = size(item)
        if item_size > max_bytes:
            raise StoreLimitError(
                f"Cannot write {name(item)}: its {item_size:,} bytes exceed the {max_bytes:,} one "
                "transaction of this store may carry. Split the configuration. Nothing was written."
            )
        full = max_items is not None and len(group) >= max_items
        if group and (full or total + item_size > max_bytes):
            groups.append(group)
            group, total = [], 0
        group.append(item)
        total += item_size
    if group:
        groups.append(group)
    return groups


def apply_in_order(groups: list[list[T]], apply: Callable[[list[T]], object], store: str) -> None:
    """Apply each group as one transaction. A failure of the first re-raises as it is."""
    applied = 0
    for group in groups:
        try:
            apply(group)
        except Exception as exc:
            if applied == 0:
                raise
            raise BackendUnavailableError(
                f"A write larger than one {store} transaction was split into {len(groups)}; the "
                f"first {applied} operations were applied, then this stopped the rest: {exc!r}. "
                "Persist again to finish."
            ) from exc
        applied += len(group)
