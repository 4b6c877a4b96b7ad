"""The price of safe change: history, measured against the same work without it.

- persist of 1, 100 and 1,000 changed configurations (a namespace of 1,000) with history (the
  default, ``history_limit`` 100) against the same persist with ``history_limit=0``: the record
  holds each value twice (before and after), in the same transaction; and beside them the raw
  client's compare-and-set with a record in its transaction and without, so that Confo's price
  is judged against the store's own (a file's record costs a device flush of its own);
- ``history(limit=50)`` against one raw read of a namespace of 50 keys (the floor's bulk read).

The other benchmarks run with ``history_limit=0``, so that they compare Confo with a floor that
keeps the same guarantees; this one says what history adds.
"""

from __future__ import annotations

from typing import Any

from baselines import Baseline, Configs, dumps
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


class _RawWriter:
    """The raw client's compare-and-set persist of ``ns``, with a change record beside (the
    store's own price of one) or without: the floor that Confo's price is judged against."""

    def __init__(self, raw: Baseline, ns: str, stored: Configs, *, recorded: bool) -> None:
        self.raw, self.ns, self.stored = raw, ns, dict(stored)
        self.revisions = raw.revisions(ns)
        self.recorded = recorded
        self.pending: Configs = {}

    def edit(self, configs: Configs) -> None:
        self.pending = configs

    def persist(self) -> None:
        record = self._record if self.recorded else None
        self.revisions.update(self.raw.write_if(self.ns, self.pending, self.revisions, record))
        self.stored.update(self.pending)

    def _record(self, names: list[str]) -> bytes:
        changes = {n: {"before": self.stored.get(n), "after": self.pending[n]} for n in names}
        return dumps({"author": "bench", "changes": changes})


def bench_price(
    name: str, credentials: dict[str, Any], raw: Baseline, sizes: tuple[int, ...]
) -> dict[int, dict[str, float]]:
    """Persist of ``k`` changed configurations, with history and without; the raw client's
    compare-and-set with a record in its transaction and without."""
    recording = connected(name, {**credentials, "history_limit": 100})
    plain = connected(name, {**credentials, "history_limit": 0})
    total = max(sizes)
    handles = {
        "with history": _filled(recording, "price_history", total),
        "without": _filled(plain, "price_plain", total),
    }
    start = {f"c{i:05d}": _config(i) for i in range(total)}
    floors = {
        "raw with a record": _RawWriter(
            raw, _filled(plain, "price_raw_rec", total).name, start, recorded=True
        ),
        "raw": _RawWriter(raw, _filled(plain, "price_raw", total).name, start, recorded=False),
    }
    version = iter(range(1, 1_000_000))  # every persist changes what it writes
    results = {}
    for k in sizes:

        def edit(handle: Namespace, k: int = k) -> None:
            v = next(version)
            for i in range(k):
                handle.set(f"c{i:05d}", _config(i, v))

        def edit_raw(writer: _RawWriter, k: int = k) -> None:
            v = next(version)
            writer.edit({f"c{i:05d}": _config(i, v) for i in range(k)})

        results[k] = compare(
            [
                *(
                    Contender(label, handle.persist, prepare=lambda h=handle: edit(h))
                    for label, handle in handles.items()
                ),
                *(
                    Contender(label, writer.persist, prepare=lambda w=writer: edit_raw(w))
                    for label, writer in floors.items()
                ),
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
        "price": bench_price(name, credentials, raw, sizes),
        "read": bench_read(name, credentials, raw),
    }
