"""The conformance suite in async mode: :class:`confo.aio.AsyncConfo` on the backend under test.

Part of :class:`~confo.testing.BackendConformance`, so a third-party backend gets it for free.
Each test runs its own event loop (``asyncio.run``), against the real store, beside a plain
manager that writes as another service would.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, ClassVar

import pytest

from confo.aio import THREADS, AsyncConfo, AsyncWatch
from confo.errors import ConflictError, SchemaError
from confo.events import WatchEvent
from confo.markers import hookimpl
from confo.testing.helpers import connected, unique
from confo.testing.typed import Version

LARGE = 2_000
"""Configurations of the large persist the loop must keep ticking through."""


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout=120))  # a bound, should a backend hang


def threads_of(backend: str) -> list[str]:
    """The running threads of a backend loaded as ``backend``: its watch's listener and
    dispatcher, its reconnect (these tests use no cache, whose thread is named by folder)."""
    return [thread.name for thread in threading.enumerate() if backend in thread.name]


def pool_threads() -> list[str]:
    """The running threads of AsyncConfo pools."""
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("confo-aio")]


class AsyncConformance:
    """Every backend, driven by :class:`~confo.aio.AsyncConfo`."""

    backend_type: ClassVar[str]

    async def _opened(self, credentials: Mapping[str, Any], name: str, ns: str) -> AsyncConfo:
        """A manager with the backend loaded as ``name``, on a new namespace ``ns``."""
        config = AsyncConfo()
        await config.load_backend(credentials, name, self.backend_type)
        config.activate_backend(name)
        await config.create_namespace(ns)
        await config.use_namespace(ns)
        return config

    def test_async_calls_read_write_and_leave_no_thread(
        self, credentials: Mapping[str, Any]
    ) -> None:
        backend, ns = unique("aio"), unique("aio")

        async def test() -> None:
            async with await self._opened(credentials, backend, ns) as config:
                assert ns in (await config.get_namespaces())["all_namespaces"]
                config.set("db", {"host": "a", "port": 1})
                await config.persist(message="first")
                with connected(self.backend_type, credentials) as other:
                    other.use_namespace(ns)
                    assert other.get("db") == {"host": "a", "port": 1}
                    other.set("db", "port", 2)
                    other.persist()
                config.set("db", "port", 3)
                with pytest.raises(ConflictError):
                    await config.persist()
                await config.reload()
                assert config.get("db", "port") == 2
                await config.write(ns, {"bulk": {"v": 1}})
                assert config.get_all() == {"db": {"host": "a", "port": 2}, "bulk": {"v": 1}}
                if (await config.capabilities()).schemas:
                    await config.set_schema("db", {"properties": {"port": {"type": "integer"}}})
                    assert await config.get_schema("db") is not None
                    with pytest.raises(SchemaError):
                        config.set("db", "port", "not a port")
                if config.sync._active_session().store.keeps_history:
                    records = await config.history(config="db")
                    assert records[-1].message == "first"
                    dry = await config.rollback(records[-1].id, config="db", dry_run=True)
                    assert dry is not None
                    assert dry.id == ""
                    assert config.get("db") == {"host": "a", "port": 2}  # nothing written
                    await config.rollback(records[-1].id, config="db")
                    assert config.get("db") == {"host": "a", "port": 1}
            await _until(lambda: not threads_of(backend) and not pool_threads())

        run(test)

    def test_update_with_a_coroutine_runs_it_on_the_loop_and_loses_no_increment(
        self, credentials: Mapping[str, Any]
    ) -> None:
        backend, ns = unique("aio"), unique("aio")

        async def test() -> None:
            async with await self._opened(credentials, backend, ns) as config:
                ran_on: set[str] = set()

                async def bump(current: dict[str, Any]) -> dict[str, Any]:
                    ran_on.add(threading.current_thread().name)
                    await asyncio.sleep(0.001)  # lets the other updates interleave
                    return {"n": current.get("n", 0) + 1}

                def plain_bump(current: dict[str, Any]) -> dict[str, Any]:
                    return {"n": current.get("n", 0) + 1}

                with connected(self.backend_type, credentials) as other:
                    other.use_namespace(ns)
                    rival = threading.Thread(
                        target=lambda: [other.update("n", plain_bump) for _ in range(5)]
                    )
                    rival.start()
                    await asyncio.gather(*(config.update("n", bump) for _ in range(5)))
                    await config.update("n", plain_bump)
                    rival.join()

                async def asks_the_manager(current: dict[str, Any]) -> dict[str, Any]:
                    await config.get_namespaces()  # a store call of its own, inside update()
                    return {"n": current.get("n", 0) + 1}

                # More at once than the pool has threads: none may hold one while fn runs.
                updates = (config.update("n", asks_the_manager) for _ in range(THREADS + 2))
                await asyncio.wait_for(asyncio.gather(*updates), 60)
                await config.reload()
                assert config.get("n") == {"n": 11 + THREADS + 2}
                assert ran_on == {threading.current_thread().name}

        run(test)

    def test_watch_is_an_async_iterator_and_leaving_it_stops_the_watch(
        self, credentials: Mapping[str, Any]
    ) -> None:
        backend, ns = unique("aio"), unique("aio")

        async def test() -> None:
            async with await self._opened(credentials, backend, ns) as config:
                with connected(self.backend_type, credentials) as writer:
                    writer.use_namespace(ns)
                    async with config.watch() as events:  # in place once entered
                        writer.set("db", {"v": 1})
                        writer.persist()
                        first = await events.__anext__()
                        assert (first.config, first.kind, first.value) == ("db", "put", {"v": 1})
                        assert first.old is None
                        writer.set("db", {"v": "last"})
                        writer.persist()
                        async for event in events:
                            if event.value == {"v": "last"}:
                                break
                        assert events.healthy
                    assert config.get("db") == {"v": "last"}  # the view followed too
                    await _until(lambda: not threads_of(backend))  # its listener ended
                    # Iterated without a block, the watch starts with the first event asked
                    # for, and a next() that times out leaves it running.
                    events = config.watch()
                    with pytest.raises(asyncio.TimeoutError, match=r"No event within 0\.5s"):
                        await events.next(timeout=0.5)
                    writer.set("db", {"v": "later"})
                    writer.persist()
                    assert (await events.next(timeout=30)).value == {"v": "later"}
                    await events.aclose()
                    await _until(lambda: not threads_of(backend))
                    # Two tasks asking at once start one watch; aclose() from a third ends
                    # both of their loops.
                    shared = config.watch()
                    readers = [asyncio.ensure_future(_all_events(shared)) for _ in range(2)]
                    await _until(lambda: len(threads_of(backend)) >= 2)
                    await asyncio.sleep(0.3)
                    await shared.aclose()
                    assert await asyncio.wait_for(asyncio.gather(*readers), 10) == [[], []]
                    # Started twice, one sync watch would outlive aclose(), and its listener.
                    await _until(lambda: not threads_of(backend))
                    # A task iterating a watch, cancelled: the watch stops as well, whether
                    # it was still starting or already waiting for an event.
                    for delay in (0.0, 0.5):
                        waiting = asyncio.ensure_future(_next_event(config))
                        await asyncio.sleep(delay)
                        waiting.cancel()
                        with pytest.raises(asyncio.CancelledError):
                            await waiting
                        await _until(lambda: not threads_of(backend))

        run(test)

    def test_closing_ends_the_loops_of_watch_readers_and_a_cancelled_update_is_known(
        self, credentials: Mapping[str, Any]
    ) -> None:
        backend, ns = unique("aio"), unique("aio")

        async def test() -> None:
            config = await self._opened(credentials, backend, ns)
            slow = SlowWrites()
            await config.close_backend(backend)
            await config.load_backend(credentials, backend, self.backend_type, plugins=[slow])
            config.activate_backend(backend)
            await config.use_namespace(ns)
            # Cancelled while its write is in flight: the write lands, and the view knows it.
            slow.delay = 0.3
            updating = asyncio.ensure_future(config.update("db", lambda _: {"v": 1}))
            await _until(lambda: slow.writing)
            updating.cancel()
            with pytest.raises(asyncio.CancelledError):
                await updating
            slow.delay = 0.0
            assert config.get("db") == {"v": 1}
            config.set("db", {"v": 2})
            await config.persist()  # based on the revision the update wrote: no conflict
            # A reader waiting for events when the manager closes: its loop ends.
            reader = asyncio.ensure_future(_all_events(config.watch()))
            await _until(lambda: len(threads_of(backend)) >= 2)
            await config.close()
            assert await asyncio.wait_for(reader, 10) == []
            await _until(lambda: not threads_of(backend) and not pool_threads())

        run(test)

    def test_a_cancelled_persist_ended_and_the_manager_knows_how(
        self, credentials: Mapping[str, Any]
    ) -> None:
        backend, ns = unique("aio"), unique("aio")

        async def test() -> None:
            async with await self._opened(credentials, backend, ns) as config:
                for i in range(LARGE):
                    config.set(f"c{i:04d}", {"v": i})
                task = asyncio.ensure_future(config.persist())
                await asyncio.sleep(0.005)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                # The store call ran to its end before the cancellation landed: written
                # whole, and the manager knows it (nothing pending, nothing unsure).
                handle = config.sync.namespace(ns)
                assert not handle.has_unsaved_changes()
                with connected(self.backend_type, credentials) as reader:
                    reader.use_namespace(ns)
                    assert len(reader.get_all()) == LARGE
                config.set("c0000", {"v": "after"})
                await config.persist()  # based on the revisions it wrote: no conflict

        run(test)

    def test_the_loop_keeps_running_during_a_large_persist_and_reload(
        self, credentials: Mapping[str, Any]
    ) -> None:
        """Not a benchmark (benchmarks/aio.py measures the gaps): a loop blocked by the store
        would not tick at all while the calls run."""
        backend, ns = unique("aio"), unique("aio")

        async def test() -> None:
            async with await self._opened(credentials, backend, ns) as config:
                for i in range(LARGE):
                    config.set(f"c{i:04d}", {"v": i, "pad": "x" * 100})
                ticks: list[float] = []
                running = True

                async def ticker() -> None:
                    while running:
                        await asyncio.sleep(0.005)
                        ticks.append(time.monotonic())

                ticking = asyncio.ensure_future(ticker())
                await asyncio.sleep(0.02)
                started = time.monotonic()
                await config.persist()
                await config.reload()
                took = time.monotonic() - started
                running = False
                await ticking
                ended = started + took
                during = [tick for tick in ticks if started < tick < ended]
                # A loop blocked by the calls could not tick until they returned.
                assert during, f"no tick in {took:.3f}s of store calls: the loop was blocked"
                gaps = [b - a for a, b in zip([started, *during], [*during, ended], strict=True)]
                # Bounded well above a loaded machine's stalls: a blocked loop ticks not at all.
                assert max(gaps) < max(2.0, took / 2), (max(gaps), took)

        run(test)

    def test_bind_in_async_code(self, credentials: Mapping[str, Any]) -> None:
        backend, ns = unique("aio"), unique("aio")

        async def test() -> None:
            async with await self._opened(credentials, backend, ns) as config:
                config.set("version", {"v": 1})
                await config.persist()
                bound = await config.bind(Version, "version")
                assert bound.value.v == 1
                await config.update("version", lambda _: {"v": 2})
                await _until(lambda: bound.value.v == 2, within=30)
                await config.close_binding(bound)
                await _until(lambda: not threads_of(backend))

        run(test)


class SlowWrites:
    """A wrapper plugin that makes each write take ``delay`` seconds (set ``writing``)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.writing = False

    @hookimpl(wrapper=True)
    def confo_write(self, namespace: str, changes: Any) -> Any:
        self.writing = True
        time.sleep(self.delay)
        return (yield)


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait, without blocking the loop, until ``condition()`` holds; fail if it does not."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {within}s: {condition}")
        await asyncio.sleep(0.02)


async def _all_events(events: AsyncWatch) -> list[WatchEvent]:
    return [event async for event in events]


async def _next_event(config: AsyncConfo) -> WatchEvent:
    async for event in config.watch():
        return event
    raise AssertionError("the watch ended")
