"""confo-postgres: a Confo backend that keeps configurations in PostgreSQL tables."""

from confo_postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]
