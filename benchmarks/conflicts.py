"""Conflict-safe writes: Confo against each raw client's own compare-and-set.

- conditional persist of 1, 100 and 1,000 configurations of a namespace of 1,000, against the raw
  client's conditional write of the same (etcd txn with compares, ZooKeeper multi with versions,
  Redis WATCH + MULTI/EXEC, files with flock + rename);
- ``update()`` of one configuration against the raw client's own read + compare-and-set loop;
- a write of one configuration in a namespace of 100 and of 20,000: it must cost the same;
- the contended case: several processes updating one counter, in updates per second.

Confo and the raw client write different namespaces of the same store, so neither makes the
other's revisions stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from baselines import Baseline
from harness import Contender, compare

from confo import Confo, Namespace
from confo.testing import connected

PERSIST_SIZES = (1, 100, 1_000)
FLAT_SIZES = (100, 20_000)

CONTENDER = """
import json, sys, time
from confo.testing import connected
backend_type, credentials, ns, rounds, start = sys.argv[1:6]
manager = connected(backend_type, json.loads(credentials))
time.sleep(max(0.0, float(start) - time.time()))  # everyone starts together
for _ in range(int(rounds)):
    manager.update("counter", lambda c: {**c, "n": c.get("n", 0) + 1}, namespace=ns)
print(time.time())
manager.close()
"""


def _config(i: int, version: int = 0) -> dict[str, Any]:
    return {"host": f"db{i}.internal", "port": 5432 + i % 100, "pool": 10, "version": version}


def _fill(manager: Confo, ns: str, n: int) -> None:
    manager.create_namespace(ns)
    handle = manager.namespace(ns)
    for i in range(n):
        handle.set(f"c{i:05d}", _config(i))
    handle.persist()


def bench_conditional_persist(
    name: str, credentials: dict[str, Any], raw: Baseline, sizes: tuple[int, ...]
) -> dict[int, dict[str, float]]:
    manager = connected(name, credentials)
    total = max(sizes)
    _fill(manager, "cas_confo", total)
    _fill(manager, "cas_raw", total)
    handle = manager.namespace("cas_confo")
    results = {k: compare(_persist_contenders(handle, raw, k)) for k in sizes}
    manager.close()
    return results


def _persist_contenders(handle: Namespace, raw: Baseline, k: int) -> list[Contender]:
    """Change the first ``k`` configurations (untimed), then write them conditionally."""
    names = [f"c{i:05d}" for i in range(k)]
    revisions = {n: raw.read_one("cas_raw", n)[1] for n in names}
    version = iter(range(1, 1_000_000))
    pending: dict[str, dict[str, Any]] = {}

    def edit_confo() -> None:
        v = next(version)
        for i, n in enumerate(names):
            handle.set(n, _config(i, v))

    def edit_raw() -> None:
        v = next(version)
        pending.clear()
        pending.update({n: _config(i, v) for i, n in enumerate(names)})

    def write_raw() -> None:
        revisions.update(raw.write_if("cas_raw", pending, revisions))

    return [
        Contender("confo", handle.persist, prepare=edit_confo),
        Contender("raw", write_raw, prepare=edit_raw),
    ]


def bench_update(name: str, credentials: dict[str, Any], raw: Baseline) -> dict[str, float]:
    manager = connected(name, credentials)
    for ns in ("update_confo", "update_raw"):
        manager.create_namespace(ns)
        manager.namespace(ns).set("counter", {"n": 0})
        manager.namespace(ns).persist()

    def bump(config: dict[str, Any]) -> dict[str, Any]:
        return {**config, "n": config["n"] + 1}

    timings = compare(
        [
            Contender("confo", lambda: manager.update("counter", bump, namespace="update_confo")),
            Contender("raw", lambda: raw.update("update_raw", "counter", bump)),
        ]
    )
    manager.close()
    return timings


def bench_flat_write(
    name: str, credentials: dict[str, Any], sizes: tuple[int, ...]
) -> dict[int, float]:
    """A persist of one configuration, in namespaces of different sizes."""
    manager = connected(name, credentials)
    contenders = []
    for n in sizes:
        ns = f"flat_{n}"
        _fill(manager, ns, n)
        handle = manager.namespace(ns)
        counter = iter(range(1_000_000))

        def edit(handle: Any = handle, counter: Any = counter) -> None:
            handle.set("c00007", "version", next(counter))

        def write(handle: Any = handle) -> None:
            handle.persist("c00007")

        contenders.append(Contender(str(n), write, prepare=edit))
    timings = compare(contenders)
    manager.close()
    return {int(n): seconds for n, seconds in timings.items()}


def bench_contended(
    name: str, credentials: dict[str, Any], processes: int, rounds: int
) -> dict[str, float]:
    """Updates per second of one counter, with ``processes`` real processes racing."""
    manager = connected(name, credentials)
    manager.create_namespace("contended")
    manager.close()
    start = time.time() + 2.0  # after every process has connected
    argv = [name, json.dumps(credentials), "contended", str(rounds), str(start)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    finished = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        if worker.returncode != 0:
            raise RuntimeError(f"{name}: a contending process failed:\n{err[-2000:]}")
        finished.append(float(out))
    elapsed = max(finished) - start
    checker = connected(name, credentials)
    total = checker.update("counter", lambda c: c, namespace="contended")["n"]
    checker.close()
    assert total == processes * rounds, f"{name}: lost updates ({total})"
    return {"processes": processes, "rounds": rounds, "per_second": total / elapsed}


def run(name: str, credentials: dict[str, Any], raw: Baseline, *, smoke: bool) -> dict[str, Any]:
    """Every conflict benchmark of one store."""
    persist_sizes = (1, 5) if smoke else PERSIST_SIZES
    flat_sizes = (10, 50) if smoke else FLAT_SIZES
    processes, rounds = (2, 10) if smoke else (4, 250)
    return {
        "persist": bench_conditional_persist(name, credentials, raw, persist_sizes),
        "update": bench_update(name, credentials, raw),
        "flat": bench_flat_write(name, credentials, flat_sizes),
        "contended": bench_contended(name, credentials, processes, rounds),
    }
