"""Typed, live settings: what a binding costs against the plain ways to the same value.

- read: ``binding.value.port`` against the same attribute of a model instance held in a plain
  object (the floor: what any settings object costs), and ``manager.get("db", "port")``;
- latency: from ``persist()`` called in a writer (its own connection) until the new value
  is in ``binding.value`` (the first ``on_change`` callback), against until a plain watch's
  callback gets the event; one change at a time, the two measured in alternate rounds in one
  process so that both see the same machine. From the call, not its return: in one process a
  file backend's watch may hear of a write before ``persist()`` has returned.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from harness import Contender, arrivals, compare
from pydantic import BaseModel

from confo import Confo, WatchEvent
from confo.testing import connected


class Db(BaseModel):
    host: str
    port: int
    pool_size: int = 10
    seq: int = 0


class Holder:
    """What a service without Confo holds its settings in."""

    def __init__(self, value: Db) -> None:
        self.value = value


def reads(manager: Confo) -> dict[str, float]:
    with manager.bind(Db, "db") as binding:
        held = Holder(Db(host="h", port=1))
        return compare(
            [
                Contender("binding.value", lambda: binding.value.port),
                Contender("plain attribute", lambda: held.value.port),
                Contender("manager.get", lambda: manager.get("db", "port")),
            ]
        )


def latency(manager: Confo, writer: Confo, changes: int) -> dict[str, dict[str, float]]:
    def plain(note: Callable[[int], None]) -> Any:
        def callback(event: WatchEvent) -> None:
            if event.config == "db" and event.value is not None:
                note(event.value["seq"])

        return manager.watch(callback)

    def bound(note: Callable[[int], None]) -> Any:
        binding = manager.bind(Db, "db")
        binding.on_change(lambda old, new: note(new.seq))
        return binding

    found: dict[str, list[float]] = {"watch": [], "binding": []}
    rounds = 4
    seq = 1
    for _ in range(rounds):
        for name, start in (("watch", plain), ("binding", bound)):
            found[name] += arrivals(writer, start, changes // rounds, seq)
            seq += changes // rounds
    return {name: _percentiles(delays) for name, delays in found.items()}


def _percentiles(delays: list[float]) -> dict[str, float]:
    delays.sort()
    return {
        "p50": statistics.median(delays),
        "p99": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
    }


def run(name: str, credentials: dict[str, Any], *, smoke: bool) -> dict[str, Any]:
    manager = connected(name, credentials)
    writer = connected(name, credentials)
    try:
        manager.create_namespace("typed")
        manager.use_namespace("typed")
        manager.set("db", {"host": "h", "port": 1, "seq": 0})
        manager.persist()
        writer.use_namespace("typed")
        return {
            "read": reads(manager),
            "latency": latency(manager, writer, 8 if smoke else 400),
        }
    finally:
        writer.close()
        manager.close()
