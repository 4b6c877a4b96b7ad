"""asyncio (confo.aio.AsyncConfo) against the sync manager doing the same work.

- ``await persist()`` of 100 changed configurations and ``await reload()`` of 1,000, each run
  to completion by the event loop, against the sync calls (the same manager's state, so the
  difference is the hand-off to the pool's thread and back);
- watch latency: from ``persist()`` called in a writer until an ``async for`` over
  ``AsyncConfo.watch()`` (its loop on a thread of its own) has the event, against a sync
  watch's callback, in alternate rounds;
- the loop's longest gap: a 5 ms ticker runs while a persist of 2,000 configurations and a
  reload of them are awaited; its longest wait between two ticks.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from harness import Contender, arrivals, compare

from confo import WatchEvent
from confo.aio import AsyncConfo
from confo.testing import connected

CHANGED = 100
LOADED = 1_000
LARGE = 2_000


def _setup(config: AsyncConfo, loop: asyncio.AbstractEventLoop, n: int) -> None:
    for i in range(n):
        config.set(f"c{i:05d}", {"host": f"db{i}.internal", "port": 5432, "pool": 10})
    loop.run_until_complete(config.persist())


def calls(name: str, credentials: dict[str, Any], n: int) -> dict[str, dict[str, float]]:
    loop = asyncio.new_event_loop()
    config = AsyncConfo()
    loop.run_until_complete(config.load_backend(credentials, "b", name))
    config.activate_backend("b")
    loop.run_until_complete(config.create_namespace("aio_calls"))
    loop.run_until_complete(config.use_namespace("aio_calls"))
    _setup(config, loop, n)
    counter = iter(range(10**9))

    def dirty() -> None:
        seq = next(counter)
        for i in range(min(CHANGED, n)):
            config.set(f"c{i:05d}", "pool", seq)

    persist = compare(
        [
            Contender("awaited", lambda: loop.run_until_complete(config.persist()), dirty),
            Contender("sync", config.sync.persist, dirty),
        ]
    )
    reload = compare(
        [
            Contender("awaited", lambda: loop.run_until_complete(config.reload())),
            Contender("sync", config.sync.reload),
        ]
    )
    loop.run_until_complete(config.close())
    loop.close()
    return {"persist": persist, "reload": reload}


def longest_gap(name: str, credentials: dict[str, Any], n: int) -> float:
    """Seconds: the longest wait of a 5 ms ticker while a large persist and reload run."""

    async def measure() -> float:
        async with AsyncConfo() as config:
            await config.load_backend(credentials, "b", name)
            config.activate_backend("b")
            await config.create_namespace("aio_gaps")
            await config.use_namespace("aio_gaps")
            for i in range(n):
                config.set(f"c{i:05d}", {"host": f"db{i}.internal", "pad": "x" * 100})
            gaps: list[float] = []
            running = True

            async def ticker() -> None:
                last = time.perf_counter()
                while running:
                    await asyncio.sleep(0.005)
                    now = time.perf_counter()
                    gaps.append(now - last)
                    last = now

            ticking = asyncio.ensure_future(ticker())
            await asyncio.sleep(0.05)
            await config.persist()
            await config.reload()
            running = False
            await ticking
            return max(gaps)

    return asyncio.run(measure())


def latency(name: str, credentials: dict[str, Any], changes: int) -> dict[str, float]:
    """Median seconds from persist() called to the event in hand, async and sync watches."""
    writer = connected(name, credentials)
    writer.create_namespace("aio_watch")
    writer.use_namespace("aio_watch")
    writer.set("db", {"seq": 0})
    writer.persist()

    def of(watching: Any) -> Callable[[Callable[[int], None]], Any]:
        def start(note: Callable[[int], None]) -> Any:
            def seen(event: WatchEvent) -> None:
                if event.config == "db" and event.value is not None:
                    note(event.value["seq"])

            return watching(name, credentials, seen)

        return start

    found: dict[str, list[float]] = {"async": [], "sync": []}
    seq = 1
    for _ in range(4):
        for kind, watching in (("async", _async_watch), ("sync", _sync_watch)):
            found[kind] += arrivals(writer, of(watching), changes // 4, seq)
            seq += changes // 4
    writer.close()
    return {kind: statistics.median(delays) for kind, delays in found.items()}


class _sync_watch:
    def __init__(self, name: str, credentials: dict[str, Any], note: Callable[..., None]):
        self.manager = connected(name, credentials)
        self.manager.use_namespace("aio_watch")
        self.watch = self.manager.watch(note)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.watch.stop()
        self.manager.close()


class _async_watch:
    """An event loop on a thread of its own, iterating AsyncConfo.watch()."""

    def __init__(self, name: str, credentials: dict[str, Any], note: Callable[..., None]):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        started = threading.Event()

        async def consume() -> None:
            async with AsyncConfo() as config:
                await config.load_backend(credentials, "b", name)
                config.activate_backend("b")
                await config.use_namespace("aio_watch")
                async with config.watch() as events:
                    started.set()
                    async for event in events:
                        note(event)

        async def begin() -> asyncio.Task[None]:
            return asyncio.ensure_future(consume())

        self.consumer = asyncio.run_coroutine_threadsafe(begin(), self.loop).result(30)
        started.wait(30)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        async def end() -> None:  # cancelled, the consumer closes its watch and manager
            self.consumer.cancel()
            with suppress(asyncio.CancelledError):
                await self.consumer

        asyncio.run_coroutine_threadsafe(end(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


def run(name: str, credentials: dict[str, Any], *, smoke: bool) -> dict[str, Any]:
    loaded, large = (5, 20) if smoke else (LOADED, LARGE)
    return {
        "n": loaded,
        "large": large,
        "calls": calls(name, credentials, loaded),
        "gap": longest_gap(name, credentials, large),
        "latency": latency(name, credentials, 8 if smoke else 200),
    }
