from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from confo_redis.testing import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def plain(redis_server: RedisServer) -> redis.Redis:
    """A plain redis-py client: the store as any other Redis tool sees it."""
    return redis.Redis(host=redis_server.host, port=redis_server.port)
