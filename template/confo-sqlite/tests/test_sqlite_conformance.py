"""The shared conformance suite against a real SQLite file: all a backend's tests need to give
is how to reach a store (``credentials``) and how to see it without Confo (``raw``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from confo.testing import BackendConformance
from confo_sqlite.testing import SqliteRaw


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the whole run: the suite's tests use namespaces of unique names."""
    return tmp_path_factory.mktemp("sqlite") / "confo.db"


class TestSqliteConformance(BackendConformance):
    backend_type = "sqlite"

    @pytest.fixture
    def credentials(self, database: Path) -> dict[str, str]:
        return {"path": str(database)}

    @pytest.fixture
    def raw(self, credentials: dict[str, str]) -> Iterator[SqliteRaw]:
        raw = SqliteRaw(credentials["path"])
        yield raw
        raw.close()

    @pytest.fixture
    def store_url(self, credentials: dict[str, str]) -> str:
        return f"sqlite:{credentials['path']}"
