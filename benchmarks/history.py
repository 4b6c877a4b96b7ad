"""The price of safe change: history, measured against the same work without it.

- persist of 1, 100 and 1,000 changed configurations (a namespace of 1,000) with history (the
  default, ``history_limit`` 100) against the same persist with ``history_limit=0``: the record
  holds each value twice (before and after), in the same transaction;
- ``history(limit=50)`` against one raw read of a namespace of 50 keys (the floor's bulk read).

The other benchmarks run with ``history_limit=0``, so that they compare Confo with a floor that
keeps the same guarantees; this one says what history adds.
"""

from __future__ import annotations

from typing import Any

from baselines import Baseline
from harness import Contender, compare

from confo import Namespace
from confo.testing import connected

PRICE_SIZES = (1, 100, 1_000)
RECORDS = 60


def _config(i: int, version: int = 0) -> dict[str, Any]:
    return {"host": f"db{i}.internal", "port": 5432 + i % 100, "pool": 10, "version": version}


def _filled(manager: Any, ns: str, n: int) -> Namespace:
    manager.create_namespace(ns)
    handle: Namespace = manager.namespace(ns)
    for i in range(n):
        handle.set(f"c{i:05d}", _config(i))
    handle.persist()
    return handle


def bench_price(
    name: str, credentials: dict[str, Any], sizes: tuple[int, ...]
) -> dict[int, dict[str, float]]:
    """Persist of ``k`` changed configurations, with history and without."""
    recording = connected(name, {**credentials, "history_limit": 100})
    plain = connected(name, {**credentials, "history_limit": 0})
    total = max(sizes)
    handles = {
        "with history": _filled(recording, "price_history", total),
        "without": _filled(plain, "price_plain", total),
    }
    version = iter(range(1, 1_000_000))  # every persist changes what it writes
    results = {}
    for k in sizes:

        def edit(handle: Namespace, k: int = k) -> None:
            v = next(version)
            for i in range(k):
                handle.set(f"c{i:05d}", _config(i, v))

        results[k] = compare(
            [
                Contender(label, handle.persist, prepare=lambda h=handle: edit(h))
                for label, handle in handles.items()
            ]
        )
    recording.close()
    plain.close()
    return results


def bench_read(name: str, credentials: dict[str, Any], raw: Baseline) -> dict[str, float]:
    """``history(limit=50)`` of a namespace with 60 records, against a raw read of 50 keys."""
    manager = connected(name, {**credentials, "history_limit": 100})
    handle = _filled(manager, "read_history", 1)
    for v in range(RECORDS):
        handle.set("c00000", _config(0, v))
        handle.persist()
    _filled(manager, "read_raw50", 50)  # what the raw client reads: 50 keys in Confo's layout
    timings = compare(
        [
            Contender("history", lambda: handle.history(limit=50)),
            Contender("raw", lambda: raw.read("read_raw50")),
        ]
    )
    manager.close()
    return timings


def run(name: str, credentials: dict[str, Any], raw: Baseline, *, smoke: bool) -> dict[str, Any]:
    sizes = (1, 5) if smoke else PRICE_SIZES
    return {
        "price": bench_price(name, credentials, sizes),
        "read": bench_read(name, credentials, raw),
    }
