"""The store seen through its own client, bypassing Confo: the conformance suite's ``raw``
fixture puts data there as another tool would, and reads back what Confo wrote."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class SqliteRaw:
    """The sqlite backend's schema through plain SQL: a ``confo.testing.RawStore``."""

    def __init__(self, path: Path | str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)

    def put(self, namespace: str, config: str, data: bytes) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO namespaces VALUES (?)", (namespace,))
            # A new revision, as every writer of the schema must leave one.
            self.db.execute("UPDATE counter SET revision = revision + 1")
            self.db.execute(
                "INSERT OR REPLACE INTO configs VALUES (?, ?, ?, (SELECT revision FROM counter))",
                (namespace, config, data),
            )

    def get(self, namespace: str, config: str) -> bytes | None:
        row = self.db.execute(
            "SELECT data FROM configs WHERE namespace = ? AND name = ?", (namespace, config)
        ).fetchone()
        return bytes(row[0]) if row else None

    def close(self) -> None:
        self.db.close()
