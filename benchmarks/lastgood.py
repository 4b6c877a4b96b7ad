"""Last known good: what the cache costs the caller, and how soon an offline start serves.

- ``reload()`` of 1,000 configurations with ``cache_dir`` against the same reload without: the
  save runs on the cache's own thread, so the caller pays for queuing it (and for sharing the
  machine's two cores with it);
- an offline start: the store cut off behind a TCP proxy, the time from ``load_backend``
  returning to the first ``get()`` (``use_namespace`` from the cache included), against the
  same ``use_namespace`` and ``get()`` on a connected backend. The file backend never starts
  offline (docs/last-known-good.md), so it has no such row.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from harness import Contender, compare

from confo.manager import Confo
from confo.testing import TCPProxy, connected

SIZE = 1_000
STARTS = 15


def run(name: str, credentials: dict[str, Any], *, smoke: bool) -> dict[str, Any]:
    n = 5 if smoke else SIZE
    folder = tempfile.mkdtemp(prefix="confo-bench-cache-")
    plain = connected(name, credentials)
    cached = connected(name, {**credentials, "cache_dir": folder})
    plain.create_namespace("lkg")
    handle = plain.namespace("lkg")
    for i in range(n):
        handle.set(f"c{i:05d}", {"host": f"db{i}.internal", "port": 5432, "pool": 10})
    handle.persist()
    reload = compare(
        [
            Contender("with cache", cached.namespace("lkg").reload),
            Contender("without", handle.reload),
        ]
    )
    plain.close()
    cached.close()
    found: dict[str, Any] = {"n": n, "reload": reload}
    if name != "file":
        found["offline"] = _offline_start(name, credentials, 3 if smoke else STARTS)
    return found


def _offline_start(name: str, credentials: dict[str, Any], starts: int) -> dict[str, float]:
    """Median seconds from ``load_backend`` returning to the first ``get()``: offline, from the
    cache, and connected (the floor)."""
    key = next(key for key in credentials if key.endswith("port"))
    folder = tempfile.mkdtemp(prefix="confo-bench-offline-")
    with TCPProxy(int(credentials[key])) as proxy:
        through = {**credentials, key: proxy.port, "cache_dir": folder, "timeout": 2}
        primer = connected(name, through)
        primer.use_namespace("lkg")
        primer.close()  # its save is on the disk
        proxy.cut()
        offline = [_first_get(name, through) for _ in range(starts)]
    online = [_first_get(name, credentials) for _ in range(starts)]
    return {"offline": statistics.median(offline), "connected": statistics.median(online)}


def _first_get(name: str, credentials: dict[str, Any]) -> float:
    manager = Confo()
    manager.load_backend(credentials, "b", name)
    started = time.perf_counter()
    manager.activate_backend("b")
    manager.use_namespace("lkg")
    manager.get("c00000", "port")
    took = time.perf_counter() - started
    manager.close()
    return took
