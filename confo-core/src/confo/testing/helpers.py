"""Small helpers of the conformance suite, also for backends' own tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from confo.errors import BackendUnavailableError
from confo.manager import Confo

BACKEND = "under_test"
"""The name the suite loads the backend under."""
HUNG_SLACK = 4.0
"""Seconds a call against a silent server may take beyond its timeout: a bound, not a benchmark
(the machines running the suite are shared and noisy)."""


def connected(backend_type: str, credentials: Mapping[str, Any], name: str = BACKEND) -> Confo:
    """An independent manager with one backend loaded and active; close it when done."""
    manager = Confo()
    manager.load_backend(credentials, name, backend_type)
    manager.activate_backend(name)
    return manager


def unique(prefix: str = "ns") -> str:
    """A fresh name, so tests sharing one store never see each other's data."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def eventually(call: Callable[[], object], within: float = 30.0) -> None:
    """Call until it stops raising BackendUnavailableError: clients reconnect in the background."""
    deadline = time.monotonic() + within
    while True:
        try:
            call()
            return
        except BackendUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stored(manager: Confo, namespace: str, config: str = "db") -> Any:
    """What the store holds for ``config`` of ``namespace`` now, read fresh (None: nothing)."""
    handle = manager.namespace(namespace)
    handle.reload()
    return handle.get(config, default=None)
