"""The command line: ``confo export`` and ``confo cp`` of 10,000 configurations (10 namespaces of
1,000), as whole processes, against a process doing the same with the raw clients: bulk reads
of the source (and ``json.dumps`` of the result, for export), bulk writes to the destination.

Both sides pay an interpreter start and their client libraries' imports, as a user's shell
does. cp runs each store once as source and once as destination (files -> Redis ->
ZooKeeper -> etcd -> files); the destination holds older values of the same configurations, put back
before every sample, so both sides write all 10,000.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from confo.testing import connected

HERE = Path(__file__).resolve().parent
CONFO = str(Path(sys.executable).parent / "confo")
NAMESPACES, PER_NAMESPACE = 10, 1_000

FLOOR = """
import json, sys
from pathlib import Path
sys.path.insert(0, {here!r})
import baselines

def connect(kind, where):
    if kind == "file":
        return baselines.FileBaseline(Path(where))
    if kind == "zookeeper":
        return baselines.ZookeeperBaseline(where)
    return {{"redis": baselines.RedisBaseline, "etcd": baselines.EtcdBaseline}}[kind](int(where))

op, namespaces = sys.argv[1], sys.argv[2].split(",")
source = connect(sys.argv[3], sys.argv[4])
dump = {{ns: source.read(ns) for ns in namespaces}}
if op == "export":
    sys.stdout.write(json.dumps(dump, indent=2))
else:
    target = connect(sys.argv[5], sys.argv[6])
    for ns, configs in dump.items():
        target.write(ns, configs)
"""


def address(store: Any) -> tuple[str, str]:
    """The store's URL for confo, and what the floor connects with."""
    c = store.credentials
    if store.name == "file":
        return f"file:{c['config_path']}", c["config_path"]
    if store.name == "redis":
        return f"redis://{c['redis_host']}:{c['redis_port']}/0", str(c["redis_port"])
    if store.name == "zookeeper":
        hosts = f"{c['zookeeper_host']}:{c['zookeeper_port']}"
        return f"zookeeper://{hosts}", hosts
    return f"etcd://{c['host']}:{c['port']}", str(c["port"])


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _config(i: int, version: int) -> dict[str, Any]:
    return {"host": f"db-{i:05d}.internal.example.com", "port": 5432 + i % 100, "v": version}


def _fill(store: Any, names: list[str], version: int, per: int) -> None:
    for ns in names:
        store.baseline.write(ns, {f"c{i:05d}": _config(i, version) for i in range(per)})


def run(stores: list[Any], *, smoke: bool = False) -> dict[str, Any]:
    per, rounds = (20, 1) if smoke else (PER_NAMESPACE, 5)
    names = [f"cli_{n}" for n in range(NAMESPACES)]
    floor = FLOOR.format(here=str(HERE))
    for store in stores:  # every store holds the configurations: the floor only replaces
        with connected(store.name, store.credentials) as manager:
            for ns in names:
                manager.create_namespace(ns)
                handle = manager.namespace(ns)
                for i in range(per):
                    handle.set(f"c{i:05d}", _config(i, 0))
                handle.persist(force=True)
    results: dict[str, Any] = {"configs": per * NAMESPACES, "export": {}, "cp": {}}
    for store in stores:
        url, where = address(store)
        _fill(store, names, 1, per)
        confo = [CONFO, "export", url, *names]
        raw = [sys.executable, "-c", floor, "export", ",".join(names), store.name, where]
        results["export"][store.name] = _alternate(confo, raw, rounds)
    for source, target in zip(stores, stores[1:] + stores[:1], strict=True):
        (src_url, src), (dst_url, dst) = address(source), address(target)
        confo = [CONFO, "cp", src_url, dst_url, *names]
        raw = [sys.executable, "-c", floor, "cp", ",".join(names), source.name, src]
        raw += [target.name, dst]
        reset = partial(_fill, target, names, 0, per)
        results["cp"][f"{source.name} -> {target.name}"] = _alternate(confo, raw, rounds, reset)
    return results


def _alternate(
    confo: list[str], raw: list[str], rounds: int, reset: Callable[[], None] | None = None
) -> dict[str, float]:
    """Median seconds of each, run alternately so that both see the same machine."""
    times: dict[str, list[float]] = {"confo": [], "raw": []}
    for _ in range(rounds):
        for side, command in (("confo", confo), ("raw", raw)):
            if reset is not None:
                reset()
            times[side].append(_seconds(command))
    return {side: statistics.median(values) for side, values in times.items()}
