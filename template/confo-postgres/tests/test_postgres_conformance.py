"""The shared conformance suite against a real PostgreSQL server. Beside what the SQLite
template gives (``credentials``, ``raw``, ``store_url``), a network store gives the fixtures of
``NetworkConformance`` (a server of its own to kill, credentials aimed at a proxy) and, as it
takes a password, ``SecretsConformance``'s canary."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from confo.testing import BackendConformance, NetworkConformance, SecretsConformance, free_port
from confo_postgres.testing import PostgresRaw, PostgresServer


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """One server for the module: the suite's tests use namespaces of unique names."""
    with PostgresServer() as server:
        yield server


class TestPostgresConformance(BackendConformance, NetworkConformance, SecretsConformance):
    backend_type = "postgres"
    optional_credentials = frozenset({"timeout", "password"})

    @pytest.fixture
    def credentials(self, server: PostgresServer) -> dict[str, Any]:
        return server.credentials()

    @pytest.fixture
    def raw(self, server: PostgresServer) -> Iterator[PostgresRaw]:
        raw = PostgresRaw(server)
        yield raw
        raw.close()

    @pytest.fixture
    def store_url(self, server: PostgresServer) -> str:
        return f"postgresql://confo:{server.password}@{server.host}:{server.port}/postgres"

    @pytest.fixture
    def unreachable_credentials(self, server: PostgresServer) -> dict[str, Any]:
        return server.credentials(port=free_port())

    @pytest.fixture
    def restartable(self) -> Iterator[tuple[PostgresServer, dict[str, Any]]]:
        with PostgresServer() as server:
            yield server, server.credentials(operation_timeout=2)

    @pytest.fixture
    def routed(self) -> Callable[[Mapping[str, Any], int], Mapping[str, Any]]:
        return lambda credentials, port: {**credentials, "port": port}

    @pytest.fixture
    def secret_credentials(self, server: PostgresServer) -> tuple[dict[str, Any], str]:
        canary = f"canary-{uuid.uuid4().hex}"
        user = f"u{uuid.uuid4().hex[:12]}"
        db = server.connect()
        try:  # a login of its own whose password is the canary
            db.run(f"CREATE ROLE {user} LOGIN SUPERUSER PASSWORD '{canary}'")
        finally:
            db.close()
        return server.credentials(user=user, password=canary), canary
