"""confo-sqlite: a Confo backend that keeps configurations in one SQLite file."""

from confo_sqlite.backend import SqliteBackend

__all__ = ["SqliteBackend"]
