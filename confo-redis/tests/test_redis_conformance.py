"""The shared conformance suite against a real redis-server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import redis

from confo.testing import (
    BackendConformance,
    NetworkConformance,
    RawStore,
    TLSConformance,
    free_port,
)
from confo_redis.testing import RedisServer


class RedisRaw:
    """Writes the original Confo layout with a plain client, as another tool would."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def _add(self, key: str, field: str, name: str) -> None:
        raw = self.client.get(key)
        index = json.loads(raw) if raw else {field: []}
        if name not in index[field]:
            index[field].append(name)
        self.client.set(key, json.dumps(index))

    def put(self, namespace: str, config: str, data: bytes) -> None:
        self._add("confo", "namespaces", namespace)
        self._add(namespace, "configurations", config)
        self.client.set(f"{namespace}-{config}", data)

    def get(self, namespace: str, config: str) -> bytes | None:
        value: bytes | None = self.client.get(f"{namespace}-{config}")
        return value


class TestRedisConformance(BackendConformance, NetworkConformance, TLSConformance):
    backend_type = "redis"

    @pytest.fixture
    def credentials(self, redis_server: RedisServer) -> dict[str, Any]:
        return redis_server.credentials()

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
