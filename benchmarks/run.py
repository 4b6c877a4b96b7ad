"""``make bench``: Confo against the floor, the naive loop and dynaconf, on every backend.

Starts real servers as the tests do, measures, and writes ``docs/benchmarks.md`` and
``docs/benchmarks.png``. A rerun replaces both. ``--quick`` runs smaller sizes, to try changes.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio
import cli
import conflicts
import console
import harness
import history
import lastgood
import schemas
import typed
import watching
from baselines import (
    Baseline,
    Configs,
    DynaconfPeer,
    EtcdBaseline,
    FileBaseline,
    RedisBaseline,
    ZookeeperBaseline,
)
from harness import Contender, compare, compare_without_gc, peak_memory
from report import write_report

from confo import Confo
from confo.testing import connected

ROOT = Path(__file__).resolve().parents[1]
SIZES = [10, 100, 1_000, 10_000]


def small_config(i: int) -> dict[str, Any]:
    """About 200 bytes of JSON, shaped like a real connection setting."""
    return {
        "host": f"db-{i:05d}.internal.example.com",
        "port": 5432 + i % 100,
        "user": f"svc_{i:05d}",
        "pool": {"min": 2, "max": 20, "timeout_s": 30.5},
        "tls": True,
        "replicas": [f"db-{i:05d}-r1", f"db-{i:05d}-r2"],
        "tags": ["billing", "eu-west"],
    }


def large_config(i: int) -> dict[str, Any]:
    """About 10 KB of JSON."""
    return {**small_config(i), "certificate": "M" * 9_700}


def namespace_of(n: int, make: Callable[[int], dict[str, Any]]) -> Configs:
    return {f"c{i:05d}": make(i) for i in range(n)}


@dataclass
class Backend:
    """One store under test: how Confo connects, its raw baseline, and dynaconf if it applies."""

    name: str
    credentials: dict[str, Any]
    connect_raw: Callable[[], Baseline]
    peer: Callable[[str], DynaconfPeer] | None = None
    results: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.baseline = self.connect_raw()
        # The floor keeps no history: compare like with like (benchmarks/history.py measures
        # what history adds).
        self.credentials = {**self.credentials, "history_limit": 0}


# --- the scenarios ---------------------------------------------------------------------------


def bench_namespaces(backend: Backend, count: int) -> None:
    manager = connected(backend.name, backend.credentials)
    for i in range(count):
        manager.create_namespace(f"list_{i:04d}")
    timings = compare(
        [
            Contender("confo", manager.get_namespaces),
            Contender("floor", backend.baseline.list_namespaces),
        ]
    )
    backend.results["get_namespaces"] = {"n": count, **timings}
    manager.close()


def bench_namespace_size(
    backend: Backend,
    label: str,
    n: int,
    make: Callable[[int], dict[str, Any]],
    *,
    gc_paused_too: bool = False,
) -> None:
    """reload() and persist() of one namespace of n configurations."""
    ns = f"bench_{label}_{n}"
    configs = namespace_of(n, make)
    manager = connected(backend.name, backend.credentials)
    manager.create_namespace(ns)
    handle = manager.namespace(ns)
    for name, config in configs.items():
        handle.set(name, config)
    handle.persist()
    raw = backend.baseline
    # The floor writes as Confo does, conditionally (the raw client's own compare-and-set), to
    # a namespace of its own so that neither makes the other's revisions stale.
    floor_ns = f"{ns}_floor"
    manager.create_namespace(floor_ns)
    floor_handle = manager.namespace(floor_ns)
    for name, config in configs.items():
        floor_handle.set(name, config)
    floor_handle.persist()
    floor_revisions = raw.revisions(floor_ns)

    def dirty_all() -> None:  # what a persist of n changed configurations starts from
        handle.reload()  # the naive loop and dynaconf wrote the same keys: a conditional
        for name, config in configs.items():  # persist of stale revisions would conflict
            handle.set(name, config)

    def floor_write() -> None:
        floor_revisions.update(raw.write_if(floor_ns, configs, floor_revisions))

    reads = [
        Contender("confo", handle.reload),
        Contender("floor", lambda: raw.read(ns)),
        Contender("naive", lambda: raw.read_naive(ns)),
    ]
    writes = [
        Contender("confo", handle.persist, prepare=dirty_all),
        Contender("floor", floor_write),
        Contender("naive", lambda: raw.write_naive(ns, configs)),
    ]
    if backend.peer is not None and n <= 1_000:
        peer = backend.peer(ns)
        peer.write(configs)
        reads.append(Contender("dynaconf", peer.read))
        writes.append(Contender("dynaconf", lambda: peer.write(configs)))
    backend.results.setdefault(f"reload_{label}", {})[n] = compare(reads)
    if gc_paused_too:
        backend.results.setdefault("reload_gc_paused", {})[n] = compare_without_gc(reads[:2])
    backend.results.setdefault(f"persist_{label}", {})[n] = compare(writes)
    manager.close()


def bench_first_load(backend: Backend, ns: str) -> None:
    def confo_first_load() -> None:
        manager = Confo(shared=False)
        manager.load_backend(backend.credentials, "b", backend.name)
        manager.activate_backend("b")
        manager.use_namespace(ns)
        manager.close()

    def floor_first_load() -> None:
        raw = backend.connect_raw()
        raw.read(ns)
        raw.close()

    backend.results["first_load"] = compare(
        [Contender("confo", confo_first_load), Contender("floor", floor_first_load)], rounds=5
    )


def bench_hot_path(backend: Backend, ns: str) -> None:
    from dynaconf import Dynaconf

    manager = connected(backend.name, backend.credentials)
    manager.use_namespace(ns)
    everything = manager.get_all()
    settings = Dynaconf(environments=False)
    settings.update(everything)
    plain = everything
    backend.results["get"] = compare(
        [
            Contender("confo", lambda: manager.get("c00007", "host")),
            Contender("dict", lambda: plain["c00007"]["host"]),
            Contender("dynaconf", lambda: settings.get("c00007.host")),
        ]
    )
    backend.results["get_all"] = compare(
        [
            Contender("confo", manager.get_all),
            Contender("dynaconf", settings.as_dict),
        ],
        rounds=5,
    )
    manager.close()


def bench_memory(backend: Backend, ns: str) -> None:
    manager = connected(backend.name, backend.credentials)
    confo = peak_memory(lambda: manager.namespace(ns))
    floor = peak_memory(lambda: backend.baseline.read(ns))
    backend.results["memory"] = {"confo": confo, "floor": floor}
    manager.close()


# --- stores ----------------------------------------------------------------------------------


@contextmanager
def backends(quick: bool) -> Iterator[list[Backend]]:
    from confo_etcd.testing import EtcdServer
    from confo_redis.testing import RedisServer
    from confo_zookeeper.testing import ZookeeperServer

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="confo-bench-")))
        (folder / "files").mkdir()
        redis = RedisServer().start()
        stack.callback(redis.cleanup)
        zookeeper = ZookeeperServer().start()
        stack.callback(zookeeper.cleanup)
        etcd = EtcdServer().start()
        stack.callback(etcd.cleanup)

        def file_peer(ns: str) -> DynaconfPeer:
            (folder / "dynaconf" / ns).mkdir(parents=True)
            return DynaconfPeer("file", str(folder / "dynaconf" / ns))

        stores = [
            Backend(
                "file",
                {"config_path": str(folder / "files")},
                lambda: FileBaseline(folder / "files"),
                file_peer,
            ),
            Backend(
                "redis",
                redis.credentials(),
                lambda: RedisBaseline(redis.port),
                lambda ns: DynaconfPeer("redis", redis.port),
            ),
            Backend(
                "zookeeper", zookeeper.credentials(), lambda: ZookeeperBaseline(zookeeper.hosts)
            ),
            Backend("etcd", etcd.credentials(), lambda: EtcdBaseline(etcd.port)),
        ]
        yield stores
        for store in stores:
            store.baseline.close()


def _process_seconds(code: str, runs: int = 15) -> float:
    """Median wall time of a whole ``python -c code`` process."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_cost() -> dict[str, Any]:
    """``import confo`` as whole processes against a bare interpreter start, and the time of
    importing confo plus loading the file backend, with the client modules it imported (none
    may be)."""
    code = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "import confo\n"
        "from confo import Confo\n"
        "Confo(shared=False).load_backend({'config_path': '.'}, 'f', 'file')\n"
        "elapsed = time.perf_counter() - start\n"
        "clients = {'grpc', 'kazoo', 'redis', 'pyetcd', 'google'}\n"
        "print(elapsed, sorted(m for m in sys.modules if m.split('.')[0] in clients))\n"
    )
    runs = []
    for _ in range(7):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        seconds, modules = out.split(" ", 1)
        runs.append(float(seconds))
    runs.sort()
    return {
        "seconds": runs[len(runs) // 2],
        "client_modules": modules.strip(),
        "bare_process": _process_seconds("pass"),
        "import_process": _process_seconds("import confo"),
        "seed_import_process": _process_seconds("from confo.Confo import Confo; Confo"),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(__import__("os").sched_getaffinity(0))
    return f"{platform.node()}: {cpu}, {cores} cores, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 1,000 only")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one sample: a check")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where to write")
    args = parser.parse_args()
    sizes = SIZES[:3] if args.quick else SIZES
    namespaces = 1_000
    if args.smoke:
        harness.smoke()
        sizes, namespaces = [10, 20], 10
    started = time.time()
    with backends(args.quick) as stores:
        for backend in stores:
            print(f"== {backend.name}", flush=True)
            bench_namespaces(backend, namespaces)
            for n in sizes:
                print(f"   {n} configurations", flush=True)
                paused = n in (1_000, sizes[-1]) and len(sizes) > 1
                bench_namespace_size(backend, "small", n, small_config, gc_paused_too=paused)
            bench_namespace_size(backend, "large", 100, large_config)
            probe = f"bench_small_{100 if 100 in sizes else sizes[-1]}"
            bench_first_load(backend, probe)
            bench_hot_path(backend, probe)
            bench_memory(backend, f"bench_small_{sizes[-1]}")
            print("   conflicts", flush=True)
            backend.results["conflicts"] = conflicts.run(
                backend.name, backend.credentials, backend.baseline, smoke=args.smoke
            )
            print("   history", flush=True)
            backend.results["history"] = history.run(
                backend.name, backend.credentials, backend.baseline, smoke=args.smoke
            )
            print("   schemas", flush=True)
            backend.results["schemas"] = schemas.run(
                backend.name, backend.credentials, smoke=args.smoke
            )
            print("   typed settings", flush=True)
            backend.results["typed"] = typed.run(
                backend.name, backend.credentials, smoke=args.smoke
            )
            print("   last known good", flush=True)
            backend.results["lastgood"] = lastgood.run(
                backend.name, backend.credentials, smoke=args.smoke
            )
            print("   asyncio", flush=True)
            backend.results["aio"] = aio.run(backend.name, backend.credentials, smoke=args.smoke)
            print("   watch", flush=True)
            backend.results["watch"] = watching.run(
                backend.name, backend.credentials, smoke=args.smoke
            )
        print("== console", flush=True)
        web = console.run(smoke=args.smoke)
        print("== command line", flush=True)
        command_line = cli.run(stores, smoke=args.smoke)
    write_report(
        validators=schemas.validators(),
        stores=stores,
        imports=import_cost(),
        command_line=command_line,
        web=web,
        machine=machine(),
        sizes=sizes,
        markdown=args.out / "benchmarks.md",
        plot=args.out / "benchmarks.png",
        elapsed=time.time() - started,
    )
    print(f"wrote {args.out}/benchmarks.md and .png in {time.time() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
