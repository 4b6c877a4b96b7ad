"""A backend loaded offline: where its values come from, and its way back to the store.

``load_backend`` with the ``cache_dir`` credential, on a store it cannot reach, loads the backend
offline if the cache can serve (:mod:`confo.cache`): reads of a namespace serve its cached copy,
store calls raise :class:`~confo.errors.StoreOfflineError` saying so and how old the cache is,
and a thread tries the store again, with the watch's back-off, until it answers. Then the
manager's views and watches follow the store again (:mod:`confo.loaded`), and
``Confo.source()`` says ``store``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from confo.backoff import Backoff
from confo.cache import describe_age
from confo.errors import BackendAuthenticationError, ConfoError, StoreOfflineError

log = logging.getLogger(__name__)

STOP_WITHIN = 1.0
"""Seconds closing a backend waits for a reconnect attempt under way."""


@dataclass(frozen=True)
class Source:
    """Where a loaded backend's values come from now (``Confo.source()``).

    ``kind`` is ``"store"`` (connected) or ``"cache"`` (loaded offline, not reconnected yet);
    ``read_at`` (UTC) is when the store last answered, or when the oldest cached namespace served
    was read from it. ``str()`` begins with the kind.
    """

    kind: Literal["store", "cache"]
    read_at: datetime | None
    backend: str
    reason: str | None = None
    """Why the backend is offline (the store's error, never a password); None when it is not."""

    def __str__(self) -> str:
        when = "never" if self.read_at is None else f"{self.read_at:%Y-%m-%d %H:%M:%S} UTC"
        if self.kind == "store":
            return f"store: backend {self.backend!r} is connected (last answer {when})"
        age = "" if self.read_at is None else f", {describe_age(_age(self.read_at))} ago"
        return (
            f"cache: backend {self.backend!r} is offline ({self.reason}); it serves values "
            f"read from the store at {when}{age}, and reconnects in the background"
        )


class Offline:
    """A backend loaded offline: why, what its cache served, and the thread that reconnects by
    calling ``attempt()`` (True once connected) after each pause of a :class:`Backoff`."""

    def __init__(self, backend: str, reason: str, newest: datetime, folder: str) -> None:
        self.backend = backend
        self.reason = reason
        self.folder = folder
        self._newest = newest  # the newest cached namespace's read time: the cache's age
        self._served: dict[str, datetime] = {}  # namespace -> read_at, of those served
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def still(self, exc: Exception) -> None:
        """A reconnect attempt failed with ``exc``: the reason shown from now on. A refused
        login (the password changed during the outage?) is worth a warning, once."""
        reason = str(exc) if isinstance(exc, ConfoError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, BackendAuthenticationError) and reason != self.reason:
            log.warning("Backend %r, reconnecting: %s", self.backend, reason)
        elif not isinstance(exc, ConfoError):
            log.warning("Backend %r, reconnecting, failed unexpectedly: %s", self.backend, reason)
        else:
            log.debug("backend %r: still offline (%s)", self.backend, reason)
        self.reason = reason

    def served(self, namespace: str, read_at: datetime) -> None:
        """The cache served ``namespace``, as read from the store at ``read_at``."""
        with self._lock:
            self._served[namespace] = read_at

    def read_at(self, namespace: str | None = None) -> datetime:
        """When what is served was read: of ``namespace``, or the oldest served (the newest
        cached, before any is)."""
        with self._lock:
            if namespace is not None and namespace in self._served:
                return self._served[namespace]
            return min(self._served.values(), default=self._newest)

    def source(self) -> Source:
        return Source("cache", self.read_at(), self.backend, self.reason)

    def error(self, namespace: str | None = None) -> StoreOfflineError:
        """The error of a store call made while offline: what is wrong, how old the cache is,
        and what happens next."""
        with self._lock:
            cached = namespace is not None and namespace in self._served
        read_at = self.read_at(namespace)
        what = f"namespace {namespace!r} from its cache" if cached else "its cache"
        return StoreOfflineError(
            f"Backend {self.backend!r} is offline: its store could not be reached "
            f"({self.reason}), so it serves {what} in {self.folder}, read "
            f"{describe_age(_age(read_at))} ago (at {read_at:%Y-%m-%d %H:%M:%S} UTC). Writes "
            "and fresh reads are refused until it reconnects, which it tries in the "
            "background; Confo.source() says when it has."
        )

    def not_cached(self, namespace: str) -> StoreOfflineError:
        return StoreOfflineError(
            f"Backend {self.backend!r} is offline ({self.reason}), and its cache in "
            f"{self.folder} holds no usable copy of namespace {namespace!r} (never read "
            "with cache_dir set, or its file was refused: see the warnings). It can be used "
            "once the backend reconnects, which it tries in the background."
        )

    def reconnect(self, attempt: Callable[[], bool]) -> None:
        """Call ``attempt`` on a thread of its own, after each pause, until it returns True."""
        self._thread = threading.Thread(
            target=self._run, args=(attempt,), name=f"confo-reconnect {self.backend}", daemon=True
        )
        self._thread.start()

    def _run(self, attempt: Callable[[], bool]) -> None:
        backoff = Backoff()
        while not self._stopping.wait(backoff.next()):
            try:
                if attempt():
                    return
            except Exception:  # a wrapper's bug: log it, keep trying
                log.exception("reconnecting backend %r failed", self.backend)

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_WITHIN)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()


def _age(moment: datetime) -> float:
    return max(0.0, (datetime.now(timezone.utc) - moment).total_seconds())
