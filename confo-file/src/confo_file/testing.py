"""The file store seen without Confo, for tests (yours too): what the conformance suite's ``raw``
fixture needs."""

from __future__ import annotations

from pathlib import Path


class FileRaw:
    """The store as a person with a text editor sees it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, namespace: str, config: str, data: bytes) -> None:
        (self.root / namespace).mkdir(exist_ok=True)
        (self.root / namespace / f"{config}.json").write_bytes(data)

    def get(self, namespace: str, config: str) -> bytes | None:
        path = self.root / namespace / f"{config}.json"
        return path.read_bytes() if path.exists() else None
