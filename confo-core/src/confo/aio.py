"""asyncio: the same manager for FastAPI and asyncio services, never blocking the event loop.

:class:`AsyncConfo` is a :class:`~confo.manager.Confo` (``.sync``) with the calls that reach the
store as coroutines, run on a small thread pool of its own, and the calls that only touch
memory as the plain methods they are: the manager's lock is never held across store I/O, so
``get()`` never waits for a persist in flight. One honest design over the existing backends:
redis-py has an asyncio client, but kazoo has none and etcd's are young, so every store call
goes through the same threads, and the event loop only awaits them.

Cancellation never leaves a call half done. A store call runs to its end on its thread (it is
bounded by the backend's ``operation_timeout``); a cancelled coroutine waits for it, then raises
``CancelledError``. So a cancelled ``persist()`` either happened or did not, and the manager
knows which: its edits are saved, or still pending, or (a lost answer) marked unsure and settled
by the next read, as for the sync manager.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from confo.aliases import MISSING
from confo.errors import ConflictError
from confo.manager import Confo
from confo.namespace import UPDATE_ATTEMPTS, back_off_delay
from confo.values import copy_json
from confo.watch import Watch

if TYPE_CHECKING:
    from pydantic import BaseModel

    from confo.binding import Binding, Missing
    from confo.events import WatchEvent
    from confo.history import ChangeRecord
    from confo.model import Capabilities, Changes
    from confo.namespace import Namespace
    from confo.offline import Source
    from confo.values import JSONObject

    M = TypeVar("M", bound=BaseModel)

T = TypeVar("T")
P = ParamSpec("P")

THREADS = 4
"""Store calls an :class:`AsyncConfo` runs at once (each backend still makes one at a time)."""

Update = Callable[["JSONObject"], "JSONObject | Awaitable[JSONObject]"]


class AsyncConfo:
    """The manager for asyncio code. ``async with AsyncConfo() as config:`` closes it at the
    end; see docs/async.md."""

    def __init__(self, *, author: str | None = None, threads: int = THREADS) -> None:
        self.sync = Confo(author=author)
        """The manager underneath: the same state, for code that is not async."""
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._watches: weakref.WeakSet[AsyncWatch] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"<AsyncConfo of {self.sync!r}>"

    async def __aenter__(self) -> AsyncConfo:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _run(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call`` on a thread of the pool; cancelled, it waits for the call to end first."""
        return await self._undone_if_cancelled(None, call, *args, **kwargs)

    async def _undone_if_cancelled(
        self,
        undo: Callable[[T], object] | None,
        call: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like :meth:`_run`; and if cancelled after ``call`` succeeded, ``undo`` its result
        (a watch or a binding started for nobody must not run on)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="confo-aio")
        future = asyncio.get_running_loop().run_in_executor(
            self._pool, partial(call, *args, **kwargs)
        )
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await _outlast(future)
            if undo is not None and not future.cancelled() and future.exception() is None:
                await _outlast(asyncio.ensure_future(self._run(undo, future.result())))
            raise

    # --- the store: coroutines ---------------------------------------------------------------

    async def load_backend(
        self,
        credentials: Mapping[str, Any],
        name: str,
        backend_type: str,
        *,
        plugins: Iterable[object] = (),
    ) -> None:
        """See :meth:`Confo.load_backend` (with ``cache_dir``, it may load offline)."""
        await self._run(self.sync.load_backend, credentials, name, backend_type, plugins=plugins)

    async def close_backend(self, name: str) -> None:
        for watch in [w for w in self._watches if w.backend == name]:  # their readers end too
            await watch.aclose()
        await self._run(self.sync.close_backend, name)

    async def close(self) -> None:
        """Close every backend (watches included) and end the pool's threads. The manager
        stays usable: load a backend again to go on."""
        try:
            for watch in list(self._watches):  # their readers' loops end too
                await watch.aclose()
            await self._run(self.sync.close)
        finally:
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=False)  # idle now: its threads end at once

    async def create_namespace(self, namespace: str, *, exist_ok: bool = True) -> None:
        await self._run(self.sync.create_namespace, namespace, exist_ok=exist_ok)

    async def use_namespace(self, namespace: str) -> None:
        await self._run(self.sync.use_namespace, namespace)

    async def get_namespaces(self) -> dict[str, Any]:
        return await self._run(self.sync.get_namespaces)

    async def delete_namespace(self, namespace: str) -> None:
        await self._run(self.sync.delete_namespace, namespace)

    async def reload(self) -> None:
        await self._run(self.sync.reload)

    async def persist(
        self,
        namespace: str | None = None,
        config: str | None = None,
        *,
        force: bool = False,
        message: str | None = None,
    ) -> None:
        """See :meth:`Confo.persist`. Cancelled, it still ends (written, or not) first."""
        await self._run(self.sync.persist, namespace, config, force=force, message=message)

    async def write(
        self,
        namespace: str,
        configs: Mapping[str, JSONObject],
        *,
        force: bool = False,
        message: str | None = None,
    ) -> None:
        await self._run(self.sync.write, namespace, configs, force=force, message=message)

    async def update(
        self,
        config: str,
        fn: Update,
        namespace: str | None = None,
        *,
        attempts: int | None = None,
        message: str | None = None,
    ) -> JSONObject:
        """See :meth:`Confo.update`. ``fn`` may be a coroutine function: it then runs on the
        event loop, between the read and the conditional write, with no thread held while it
        runs (so it may await this manager too); a plain one runs on the loop as well."""
        handle = self.sync._namespace_or_current(namespace)  # memory only: no store read
        name = self.sync.check_name("configuration", config)
        tries = UPDATE_ATTEMPTS if attempts is None else attempts
        for number in range(tries):
            snapshot = await self._run(handle.read_for_update, name)
            new = fn(copy_json(snapshot.configs.get(name, {})))
            if inspect.isawaitable(new):
                new = await new
            changes = await self._run(handle.update_changes, name, snapshot, new, message)
            try:
                # Written and taken into the view in one call: a cancellation lands after both.
                return await self._run(_written, handle, changes)
            except ConflictError:
                await asyncio.sleep(back_off_delay(number))
        raise ConflictError(handle.name, [name], f" (update() gave up after {tries} tries)")

    async def history(
        self, namespace: str | None = None, config: str | None = None, limit: int = 50
    ) -> list[ChangeRecord]:
        return await self._run(self.sync.history, namespace, config, limit)

    async def rollback(
        self,
        to: str,
        namespace: str | None = None,
        config: str | None = None,
        message: str | None = None,
        *,
        dry_run: bool = False,
    ) -> ChangeRecord | None:
        return await self._run(self.sync.rollback, to, namespace, config, message, dry_run=dry_run)

    async def set_schema(
        self,
        config: str,
        schema: JSONObject | None,
        namespace: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        await self._run(self.sync.set_schema, config, schema, namespace, message=message)

    async def get_schema(self, config: str, namespace: str | None = None) -> JSONObject | None:
        return await self._run(self.sync.get_schema, config, namespace)

    async def get_schemas(self, namespace: str | None = None) -> dict[str, JSONObject]:
        return await self._run(self.sync.get_schemas, namespace)

    async def capabilities(self, name: str | None = None) -> Capabilities:
        return await self._run(self.sync.capabilities, name)

    async def bind(
        self,
        model: type[M],
        config: str,
        namespace: str | None = None,
        *,
        publish_schema: bool = False,
        missing: Missing = "error",
        timeout: float | None = None,
    ) -> Binding[M]:
        """See :meth:`Confo.bind`: ``.value`` is then a plain attribute read; ``on_change``
        callbacks run on the watch's thread (hand them to the loop with
        ``loop.call_soon_threadsafe``)."""
        return await self._undone_if_cancelled(
            _close,
            self.sync.bind,
            model,
            config,
            namespace,
            publish_schema=publish_schema,
            missing=missing,
            timeout=timeout,
        )

    async def close_binding(self, binding: Binding[Any]) -> None:
        """Stop a binding from :meth:`bind` without blocking the loop (its ``close()`` waits
        for the watch's threads to end)."""
        await self._run(binding.close)

    def watch(self, namespace: str | None = None) -> AsyncWatch:
        """Every change of a namespace (the current one unless given), as an async iterator.

        ``async with config.watch() as events:`` starts the watch (in place, seeded, when the
        block begins) and stops it when the block ends; ``async for event in
        config.watch():`` alone starts it with the first event asked for and stops it when the
        iterator is dropped (``break``, an error, a cancelled task). See :class:`AsyncWatch`.
        """
        watch = AsyncWatch(self, namespace)
        self._watches.add(watch)
        return watch

    # --- memory: plain methods ---------------------------------------------------------------

    def activate_backend(self, name: str) -> None:
        self.sync.activate_backend(name)

    def get_backends(self) -> dict[str, Any]:
        return self.sync.get_backends()

    def source(self, name: str | None = None) -> Source:
        return self.sync.source(name)

    def get(self, config: str, field: str | None = None, default: Any = MISSING) -> Any:
        return self.sync.get(config, field, default)

    def set(self, config: str, field: str | JSONObject, value: Any = MISSING) -> None:
        self.sync.set(config, field, value)

    def get_all(self) -> dict[str, JSONObject]:
        return self.sync.get_all()

    def delete(self, config: str, field: str | None = None) -> None:
        self.sync.delete(config, field)

    def check_name(self, kind: Literal["namespace", "configuration"], name: str) -> str:
        return self.sync.check_name(kind, name)


class AsyncWatch:
    """A watch for asyncio code: an async iterator of :class:`~confo.events.WatchEvent`, and an
    async context manager. Events wait in an unbounded queue (none is dropped: consume them as
    they come). It stops with ``aclose()``, at the end of its ``async with`` block, when the
    task iterating it is cancelled, or when it is dropped; ``next(timeout)`` waits a while for
    an event and leaves it running."""

    def __init__(self, config: AsyncConfo, namespace: str | None) -> None:
        self._config = config
        self._namespace = namespace
        self.backend = config.sync.get_backends()["active_backend"]
        # Events, and None once closed: a task waiting for the next event then ends too.
        self._queue: asyncio.Queue[WatchEvent | None] = asyncio.Queue()
        self._running: Watch | None = None
        self._starting = asyncio.Lock()  # two tasks asking at once start one watch
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncWatch {self._namespace or '(current namespace)'} of {self._running!r}>"

    async def start(self) -> AsyncWatch:
        """Start the watch now (once): what the store holds from here on is delivered."""
        async with self._starting:
            if self._running is None and not self._closed:
                await self._begin()
        return self

    async def _begin(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue

        def hand_over(event: WatchEvent) -> None:  # on the watch's thread
            with suppress(RuntimeError):  # the loop closed: nobody is left to read it
                loop.call_soon_threadsafe(queue.put_nowait, event)

        def begin() -> None:
            # Kept even if the caller is cancelled meanwhile: the caller stops it then.
            running = self._config.sync.watch(hand_over, self._namespace)
            if self._closed:
                running.stop()
            else:
                self._running = running

        await self._config._run(begin)

    @property
    def healthy(self) -> bool:
        """Whether the watch knows it is current (:attr:`confo.watch.Watch.healthy`)."""
        return self._running is not None and self._running.healthy

    async def aclose(self) -> None:
        """Stop the watch: no thread or connection of it is left (stopping twice is harmless)."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)
        running, self._running = self._running, None
        if running is not None:  # stopping twice is harmless
            await self._config._run(running.stop)

    async def __aenter__(self) -> AsyncWatch:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncWatch:
        return self

    async def __anext__(self) -> WatchEvent:
        if self._closed:
            raise StopAsyncIteration
        return await self.next()

    async def next(self, timeout: float | None = None) -> WatchEvent:
        """The next event, starting the watch if need be. Waiting over ``timeout`` seconds
        raises ``asyncio.TimeoutError`` and leaves the watch running; a cancelled caller
        stops it (the task that iterated it is gone).

        :raises StopAsyncIteration: the watch was closed.
        """
        if self._closed:
            raise StopAsyncIteration
        try:
            await self.start()
            event = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.CancelledError:
            await _outlast(asyncio.ensure_future(self.aclose()))
            raise
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(
                f"No event within {timeout:g}s from {self!r} (it goes on watching; it started "
                "at its first next() or async with, so earlier changes are not events)"
            ) from None
        if event is None:
            self._queue.put_nowait(None)  # for any other task waiting
            raise StopAsyncIteration
        return event

    def __del__(self) -> None:
        running = self._running
        if running is not None:  # dropped without aclose(): stop it off the loop's thread
            threading.Thread(target=running.stop, name="confo-aio-stop", daemon=True).start()


async def _outlast(future: asyncio.Future[Any]) -> None:
    """Wait for ``future`` to end, through any further cancellation."""
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            continue
        except Exception:
            return


def _close(binding: Binding[Any]) -> None:
    binding.close()


def _written(handle: Namespace, changes: Changes) -> JSONObject:
    return handle.updated(changes, handle.write_changes(changes))
