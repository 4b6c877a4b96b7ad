"""Watching one namespace's znodes with kazoo's recipes.

kazoo 2.x has no persistent recursive watch (ZooKeeper 3.6's addWatch), so a namespace is
watched with one DataWatch on its znode (made, deleted), a ChildrenWatch on it (configurations
created and deleted) and one DataWatch per configuration (changed): the recipes re-arm the
one-shot watches ZooKeeper gives, and re-register them after a reconnect or a new session.
Changes made while the watches were not armed (a disconnection, a session expiry) reach no
watch: every transition back to CONNECTED therefore asks for a full read, compared by revision.

The cost is one server-side watch per configuration and watching client; docs/scaling.md says
what that means for a fleet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Any

from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState
from kazoo.recipe.watchers import ChildrenWatch, DataWatch

Notify = Callable[[Collection[str] | None], None]


class NamespaceWatcher:
    """Calls ``notify`` for every change under ``path`` until ``stopping`` is set."""

    def __init__(
        self, client: KazooClient, path: str, notify: Notify, stopping: threading.Event
    ) -> None:
        self.client = client
        self.path = path
        self.notify = notify
        self.stopping = stopping
        self.lock = threading.Lock()
        self.watching_children = False
        self.configs: set[str] = set()

    def start(self) -> None:
        self.client.add_listener(self.on_state)
        DataWatch(self.client, self.path, self._on_namespace)

    def stop(self) -> None:
        """The recipes end at their next call (they return False once stopping is set)."""
        self.client.remove_listener(self.on_state)

    def on_state(self, state: str) -> None:
        if state == KazooState.CONNECTED and not self.stopping.is_set():
            self.notify(None)  # back from a disconnection or a new session: resynchronise

    def _on_namespace(self, data: Any, stat: Any, event: Any = None) -> bool | None:
        if self.stopping.is_set():
            return False
        if stat is None:  # not made yet, or deleted: its children watch ended with it
            with self.lock:
                self.watching_children = False
                self.configs.clear()
            if event is not None:
                self.notify(None)
            return None
        with self.lock:
            start, self.watching_children = not self.watching_children, True
        if start:  # outside the lock: the recipe calls _on_children before it returns
            ChildrenWatch(self.client, self.path, self._on_children)
        return None

    def _on_children(self, children: list[str]) -> bool | None:
        if self.stopping.is_set():
            return False
        with self.lock:
            added = [name for name in children if name not in self.configs]
            removed = self.configs - set(children)
            self.configs = set(children)
        for name in added:
            DataWatch(self.client, f"{self.path}/{name}", self._on_config(name))
        if added or removed:
            self.notify([*added, *removed])
        return None

    def _on_config(self, name: str) -> Callable[[Any, Any, Any], bool | None]:
        def changed(data: Any, stat: Any, event: Any) -> bool | None:
            if self.stopping.is_set():
                return False
            if event is None:
                return None  # the recipe's first call: the value now, not a change
            self.notify([name])
            if stat is None:  # deleted: the children watch saw it too; this one is done
                return False
            return None

        return changed
