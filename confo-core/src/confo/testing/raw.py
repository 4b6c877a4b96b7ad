"""The store seen through its own client: what a backend's tests provide as the ``raw`` fixture."""

from __future__ import annotations

from typing import Protocol


class RawStore(Protocol):
    """The store seen through its own client, in Confo's layout, bypassing Confo."""

    def put(self, namespace: str, config: str, data: bytes) -> None:
        """Store ``data`` as configuration ``config`` of ``namespace``, making both as needed."""

    def get(self, namespace: str, config: str) -> bytes | None:
        """The bytes stored for the configuration, or None if there is none."""
