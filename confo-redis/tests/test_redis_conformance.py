"""The shared conformance suite against a real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import redis

from confo.testing import (
    BackendConformance,
    NetworkConformance,
    RawStore,
    ReadOnlyConformance,
    SecretsConformance,
    TLSConformance,
    free_port,
)
from confo_redis.testing import RedisRaw, RedisServer


class TestRedisConformance(
    BackendConformance,
    NetworkConformance,
    TLSConformance,
    ReadOnlyConformance,
    SecretsConformance,
):
    backend_type = "redis"
    optional_credentials = frozenset({"timeout", "redis_port"})  # 6379, as documented

    @pytest.fixture
    def credentials(self, redis_server: RedisServer) -> dict[str, Any]:
        return redis_server.credentials()

    @pytest.fixture
    def store_url(self, redis_server: RedisServer) -> str:
        return f"redis://127.0.0.1:{redis_server.port}"

    @pytest.fixture
    def raw(self, plain: redis.Redis) -> RawStore:
        return RedisRaw(plain)

    @pytest.fixture
    def unreachable_credentials(self) -> dict[str, Any]:
        return {"redis_host": "127.0.0.1", "redis_port": str(free_port()), "timeout": 1}

    @pytest.fixture
    def restartable(self) -> Iterator[tuple[RedisServer, dict[str, Any]]]:
        # Keeps its data across the restart, as the other stores do: with none, a persist
        # after the restart would (rightly) conflict, every configuration being gone.
        with RedisServer(extra_args=("--appendonly", "yes", "--appendfsync", "always")) as server:
            yield server, server.credentials(operation_timeout=2)

    @pytest.fixture
    def routed(self) -> Callable[[Mapping[str, Any], int], Mapping[str, Any]]:
        return lambda credentials, port: {**credentials, "redis_port": port}

    @pytest.fixture
    def tls_credentials(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        with RedisServer(tls=True) as server:
            yield server.credentials(), {"redis_host": server.host, "redis_port": server.port}

    @pytest.fixture
    def read_only(self, acl_server: RedisServer) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            acl_server.credentials(redis_username="admin", redis_password="admin-pw"),
            acl_server.credentials(
                redis_username="reader", redis_password="reader-pw", watch_poll_interval=0.2
            ),
        )

    @pytest.fixture
    def secret_credentials(self) -> Iterator[tuple[dict[str, Any], str]]:
        canary = "canary-pw-" + uuid.uuid4().hex
        with RedisServer(extra_args=("--requirepass", canary)) as server:
            yield server.credentials(redis_password=canary, watch_poll_interval=0.2), canary
