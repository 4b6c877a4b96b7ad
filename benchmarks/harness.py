"""Timing and memory measurement that keeps ratios honest on a shared, noisy machine.

Every contender of one comparison (Confo, the floor, the naive loop, the peer) runs once per
round, in an order shuffled each round, so a burst of noise hits them alike. (Rotating the order
is not enough: it keeps who-follows-whom, and a contender that leaves dirty pages behind, like a
write without fsync, slows the fsyncs of whoever always comes next.) Before each sample the
page cache is flushed and the garbage collector run (untimed), for the same reason: contenders
share a process, and a full collection walks every container in it, whoever triggers it.
Each sample repeats the operation until it has run for at least ``MIN_SAMPLE`` seconds; the
result is the median sample, per operation.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from confo.manager import Confo

MIN_SAMPLE = 0.05  # seconds per sample: enough to drown the timer's and the scheduler's noise
SLOW_OPERATION = 1.0  # seconds: above this, fewer rounds
ROUNDS = 9


def smoke() -> None:
    """One short sample per contender: to check that the benchmarks run, not to measure."""
    global MIN_SAMPLE, ROUNDS
    MIN_SAMPLE, ROUNDS = 0.0, 1


@dataclass
class Contender:
    """One way of doing the job: ``run`` is timed, ``prepare`` (before each run) is not."""

    name: str
    run: Callable[[], Any]
    prepare: Callable[[], Any] = field(default=lambda: None)


def _once(contender: Contender) -> float:
    contender.prepare()
    start = time.perf_counter()
    contender.run()
    return time.perf_counter() - start


def _sample(contender: Contender, repeats: int) -> float:
    """Seconds per operation over ``repeats`` runs, from a settled start."""
    os.sync()  # nobody pays for another contender's unflushed writes...
    gc.collect()  # ...nor for a collection another contender's garbage made due
    return sum(_once(contender) for _ in range(repeats)) / repeats


def compare(contenders: list[Contender], rounds: int | None = None) -> dict[str, float]:
    """Median seconds per operation of each contender, measured alternately."""
    rounds = min(rounds or ROUNDS, ROUNDS)
    first = {c.name: _once(c) for c in contenders}  # warm-up, and a first estimate
    repeats = {name: max(1, int(MIN_SAMPLE / max(t, 1e-9))) for name, t in first.items()}
    if max(first.values()) > SLOW_OPERATION:
        rounds = min(rounds, 3)
    samples: dict[str, list[float]] = {c.name: [] for c in contenders}
    gc.collect()
    order = random.Random(len(contenders))  # seeded: a rerun shuffles alike
    for _ in range(rounds):
        for contender in order.sample(contenders, len(contenders)):
            samples[contender.name].append(_sample(contender, repeats[contender.name]))
    return {name: statistics.median(values) for name, values in samples.items()}


def compare_without_gc(contenders: list[Contender]) -> dict[str, float]:
    """Like :func:`compare`, with CPython's cyclic garbage collector paused: what the code
    itself costs, apart from the collector walking every container the process holds."""
    gc.collect()
    gc.disable()
    try:
        return compare(contenders)
    finally:
        gc.enable()


def peak_memory(load: Callable[[], Any]) -> int:
    """Peak bytes Python allocated while ``load`` ran, with its result still alive."""
    gc.collect()
    tracemalloc.start()
    try:
        result = load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def arrivals(
    writer: Confo, start: Callable[[Callable[[int], None]], Any], changes: int, first: int
) -> list[float]:
    """Seconds from each persist of ``writer`` (``db`` with a new ``seq``) called until the
    subscription ``start(note)`` makes (a context manager) has called ``note(seq)``: the
    latency benchmarks' one measuring loop."""
    arrived: dict[int, float] = {}
    seen = threading.Condition()

    def note(seq: int) -> None:
        with seen:
            arrived.setdefault(seq, time.perf_counter())
            seen.notify_all()

    delays = []
    with start(note):
        for seq in range(first, first + changes):
            writer.set("db", {"host": "h", "port": 1, "seq": seq})
            called = time.perf_counter()
            writer.persist()
            with seen:
                if not seen.wait_for(lambda: seq in arrived, timeout=30):  # noqa: B023
                    raise TimeoutError(f"change {seq} never arrived")
            delays.append(arrived[seq] - called)
    return delays
