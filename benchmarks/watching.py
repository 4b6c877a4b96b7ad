"""Watch: how fast a change reaches another process, and what staying current costs.

- latency: from ``persist()`` returning in this process to the callback in a watcher process,
  one change at a time (the next persist waits for the callback), p50 and p99;
- staying current on a namespace of 10,000 where 10 change: the live view against ``reload()``;
- idle: CPU and threads of a process watching 10,000 configurations for a few seconds;
- fan-out: N watcher processes on one namespace, the time until all of them saw a change
  (benchmarks/scaling.py, for docs/scaling.md).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from typing import Any

from confo import Confo
from confo.testing import connected

WATCHER = """
import json, os, resource, sys, threading, time
from confo.testing import connected
backend_type, credentials, ns, idle = sys.argv[1:5]
manager = connected(backend_type, json.loads(credentials))
manager.use_namespace(ns)

def report(event):
    if event.value is not None and "seq" in event.value:
        print(json.dumps({"seq": event.value["seq"], "at": time.time()}), flush=True)

with manager.watch(report) as watch:
    while not watch.healthy:
        time.sleep(0.01)
    print(json.dumps({"ready": True}), flush=True)
    if float(idle):
        time.sleep(1)  # the last of the arming (ZooKeeper: pipelined, after the first listing)
        before = resource.getrusage(resource.RUSAGE_SELF)
        time.sleep(float(idle))
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        tasks = len(os.listdir("/proc/self/task"))
        print(json.dumps({"idle_cpu": cpu, "tasks": tasks, "seconds": float(idle)}), flush=True)
    else:
        sys.stdin.read()  # until the parent closes it
"""


def _watcher(name: str, credentials: dict[str, Any], ns: str, idle: float = 0) -> Any:
    process = subprocess.Popen(
        [sys.executable, "-c", WATCHER, name, json.dumps(credentials), ns, str(idle)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert json.loads(process.stdout.readline()) == {"ready": True}
    return process


def _fill(manager: Confo, ns: str, n: int) -> None:
    manager.create_namespace(ns)
    handle = manager.namespace(ns)
    for i in range(n):
        handle.set(f"c{i:05d}", {"host": f"db{i}.internal", "port": 5432, "pad": "x" * 100})
    handle.persist()


def latency(name: str, credentials: dict[str, Any], changes: int) -> dict[str, float]:
    writer = connected(name, credentials)
    writer.create_namespace("latency")
    writer.use_namespace("latency")
    process = _watcher(name, credentials, "latency")
    assert process.stdout is not None
    delays = []
    for seq in range(changes):
        writer.set("probe", {"seq": seq})
        writer.persist()
        returned = time.time()
        while True:  # events of earlier values may come first
            seen = json.loads(process.stdout.readline())
            if seen["seq"] == seq:
                break
        delays.append(max(0.0, seen["at"] - returned))
    process.communicate(timeout=10)
    writer.close()
    delays.sort()
    return {
        "p50": statistics.median(delays),
        "p99": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
        "changes": changes,
    }


def staying_current(name: str, credentials: dict[str, Any], size: int) -> dict[str, float]:
    """10 configurations change in a namespace of ``size``: how long until a watched view has
    them, against one reload() of the whole namespace (what a poller pays per poll)."""
    writer = connected(name, credentials)
    _fill(writer, "current", size)
    reader = connected(name, credentials)
    reader.use_namespace("current")
    started = time.perf_counter()
    reader.reload()
    reload_seconds = time.perf_counter() - started
    changed = [f"c{i:05d}" for i in range(0, size, size // 10)][:10]
    started = time.perf_counter()
    with reader.watch(lambda event: None) as watch:
        while not watch.healthy:  # in place: for ZooKeeper, one watch per configuration
            time.sleep(0.001)
        arm_seconds = time.perf_counter() - started
        time.sleep(1)  # the last configurations' watches, pipelined after the first listing
        handle = writer.namespace("current")
        for config in changed:
            handle.set(config, "port", 6543)
        started = time.perf_counter()
        handle.persist()
        while any(reader.get(config, "port") != 6543 for config in changed):
            time.sleep(0.0005)
        watch_seconds = time.perf_counter() - started
    reader.close()
    writer.close()
    return {"size": size, "watch": watch_seconds, "reload": reload_seconds, "arm": arm_seconds}


def idle(name: str, credentials: dict[str, Any], size: int, seconds: float) -> dict[str, Any]:
    writer = connected(name, credentials)
    if "current" not in writer.get_namespaces()["all_namespaces"]:
        _fill(writer, "current", size)
    writer.close()
    process = _watcher(name, credentials, "current", idle=seconds)
    assert process.stdout is not None
    found: dict[str, Any] = json.loads(process.stdout.readline())
    process.communicate(timeout=30)
    return {**found, "size": size}


def fan_out(writer: Confo, processes: list[Any], rounds: int = 5) -> float:
    """Median seconds from ``writer``'s persist returning until the last of ``processes``
    (watchers started with :func:`_watcher` on the writer's current namespace) saw it."""
    times = []
    for seq in range(rounds):
        writer.set("probe", {"seq": seq})
        writer.persist()
        returned = time.time()
        last = 0.0
        for process in processes:
            while True:
                seen = json.loads(process.stdout.readline())
                if seen["seq"] == seq:
                    last = max(last, seen["at"])
                    break
        times.append(max(0.0, last - returned))
    return statistics.median(times)


def server_rss(pid: int) -> int:
    """Resident bytes of a server process (and its children), from /proc."""
    total = 0
    for task in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{task}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def run(name: str, credentials: dict[str, Any], *, smoke: bool) -> dict[str, Any]:
    size = 200 if smoke else 10_000
    return {
        "latency": latency(name, credentials, 20 if smoke else 1_000),
        "current": staying_current(name, credentials, size),
        "idle": idle(name, credentials, size, 0.5 if smoke else 5.0),
    }
