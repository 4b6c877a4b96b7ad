"""A running watch of one namespace: what ``Confo.watch`` returns.

Every watch of a loaded backend is served by that backend's one listener (:mod:`confo.listener`):
one connection and two threads, however many namespaces are watched. The callback runs on the
listener's dispatcher thread, one event at a time: a slow callback delays the other watches of
the same backend, so hand long work to a thread or queue of your own.
"""

from __future__ import annotations

from datetime import datetime

from confo.events import WatchEvent
from confo.listener import Callback, Seeded, Subscriber, Watching

__all__ = ["Callback", "Watch", "WatchEvent"]


class Watch:
    """A running watch of one namespace. ``stop()`` ends it; also a context manager.

    ``healthy`` is True while the watch knows it is current: its backend's listener is
    connected, heard from the store within the last few seconds, and has read the namespace
    since it last (re)connected. Wire it into a readiness probe; ``synced_at`` says when it
    last knew it was current.
    """

    def __init__(
        self,
        watching: Watching,
        namespace: str,
        callback: Callback,
        on_seed: Seeded | None = None,
    ) -> None:
        self.namespace = namespace
        self._watching = watching
        self._subscriber: Subscriber = watching.subscribe(namespace, callback, on_seed)
        self._stopped = False

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Watch {self.namespace!r} {state} healthy={self.healthy}>"

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the watch. With the backend's last watch, its listener ends too: within about a
        second, no thread and no connection of it is left. Stopping twice is harmless."""
        if self._stopped:
            return
        self._stopped = True
        self._watching.unsubscribe(self._subscriber)

    @property
    def running(self) -> bool:
        return not self._stopped and self._subscriber.listener.running

    @property
    def healthy(self) -> bool:
        """Whether the watch knows it is current (see the class docstring)."""
        return not self._stopped and self._subscriber.listener.healthy(self._subscriber)

    @property
    def synced_at(self) -> datetime | None:
        """When the watch last knew it was current (UTC): now while healthy, else when it last
        was; None if it never was."""
        if self.healthy:
            return self._subscriber.listener.alive_at()
        return self._subscriber.synced_at
