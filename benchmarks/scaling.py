"""docs/scaling.md: what a fleet of watching services costs each store, measured with real
watcher processes on this machine and extrapolated.

    .venv/bin/python benchmarks/scaling.py [--watchers 50] [--configs 100]

For each store: a namespace of ``--configs`` configurations, ``--watchers`` processes watching
it, then five changes. Measured: the store's established connections and its resident memory
before and after, its server-side watch count where it reports one, one watcher process's
memory and threads, and the fan-out time (persist returning until the last watcher's callback).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import watching

from confo.testing import connected

ROOT = Path(__file__).resolve().parents[1]


def established(port: int) -> int:
    """TCP connections established to ``port`` (from /proc/net/tcp and tcp6: Java listens on
    IPv6 sockets even for 127.0.0.1)."""
    count = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as table:
            next(table)
            for line in table:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":
                    count += 1
    return count


def server_watches(kind: str, server: Any) -> int | None:
    if kind == "zookeeper":
        with socket.create_connection((server.host, server.port), timeout=2) as raw:
            raw.sendall(b"mntr")
            text = raw.makefile().read()
        lines = text.splitlines()
        return int(next(line.split()[1] for line in lines if line.startswith("zk_watch_count")))
    if kind == "etcd":
        with urllib.request.urlopen(f"http://{server.host}:{server.port}/metrics") as page:
            for line in page.read().decode().splitlines():
                if line.startswith("etcd_debugging_mvcc_watcher_total"):
                    return int(float(line.split()[1]))
    if kind == "redis":
        import redis

        client = redis.Redis(host=server.host, port=server.port)
        patterns: int = client.pubsub_numpat()
        client.close()
        return patterns
    return None


def process_rss(pid: int) -> int:
    return watching.server_rss(pid)


def measure(kind: str, server: Any, credentials: dict[str, Any], args: Any) -> dict[str, Any]:
    writer = connected(kind, credentials)
    watching._fill(writer, "fleet", args.configs)
    writer.use_namespace("fleet")
    pid = server.process.pid
    before = {
        "connections": established(server.port),
        "rss": process_rss(pid),
        "watches": server_watches(kind, server),
    }
    started = time.monotonic()
    processes = [watching._watcher(kind, credentials, "fleet") for _ in range(args.watchers)]
    startup = time.monotonic() - started
    time.sleep(3)  # every watch set up
    after = {
        "connections": established(server.port),
        "rss": process_rss(pid),
        "watches": server_watches(kind, server),
    }
    client_rss = statistics.median(process_rss(p.pid) for p in processes)
    client_tasks = statistics.median(
        len(list(Path(f"/proc/{p.pid}/task").iterdir())) for p in processes
    )
    fan_out = watching.fan_out(writer, processes)
    for process in processes:
        process.stdin.close()
    for process in processes:
        process.wait(timeout=60)
    writer.close()
    return {
        "store": kind,
        "watchers": args.watchers,
        "configs": args.configs,
        "before": before,
        "after": after,
        "client_rss": client_rss,
        "client_tasks": client_tasks,
        "fan_out": fan_out,
        "startup": startup,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--configs", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scaling.json")
    args = parser.parse_args()
    from confo_etcd.testing import EtcdServer
    from confo_redis.testing import RedisServer
    from confo_zookeeper.testing import ZookeeperServer

    results = []
    servers = {
        "redis": RedisServer,
        # ZooKeeper refuses more than 60 connections from one address by default
        # (maxClientCnxns); every watcher here comes from 127.0.0.1 with two.
        "zookeeper": lambda: ZookeeperServer(settings=("maxClientCnxns=0",)),
        "etcd": EtcdServer,
    }
    for kind, make in servers.items():
        with ExitStack() as stack:
            server = stack.enter_context(make())
            print(f"== {kind}", flush=True)
            results.append(measure(kind, server, server.credentials(), args))
            print(json.dumps(results[-1]), flush=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
