"""Splitting one write into the fewest transactions a store's limits allow.

ZooKeeper caps the bytes of a request, etcd the operations and bytes of a transaction. A persist
larger than that is applied as consecutive transactions, in order, each all or nothing. If a later
one fails, the earlier ones stay applied, and the error (PartialWriteError) says which.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from confo.errors import PartialWriteError, StoreLimitError
from confo.model import Revision

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


def apply_in_order(
    groups: list[list[T]],
    apply: Callable[[list[T]], Mapping[str, Revision | None]],
    store: str,
) -> dict[str, Revision | None]:
    """Apply each group as one transaction; ``apply`` answers with what its group left: the new
    revision of each configuration put, None for each deleted. Returns all of it.

    A failure of the first group re-raises as it is (nothing was written); a later one raises
    :class:`~confo.errors.PartialWriteError` carrying what the earlier groups wrote.
    """
    done: dict[str, Revision | None] = {}
    for number, group in enumerate(groups):
        try:
            done.update(apply(group))
        except Exception as exc:
            if number == 0:
                raise
            raise PartialWriteError(
                f"A write larger than one {store} transaction was split into {len(groups)} "
                f"parts; the first {number} were applied ({len(done)} configurations), then "
                f"this stopped the rest: {exc}. The rest is still pending: persist again to "
                "finish.",
                {name: rev for name, rev in done.items() if rev is not None},
                [name for name, rev in done.items() if rev is None],
            ) from exc
    return done
