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


@pytest.fixture(scope="session")
def acl_server() -> Iterator[RedisServer]:
    """A Redis with ACL users only: ``admin`` may do anything, ``reader`` only read."""
    users = (
        "--user", "default", "off",
        "--user", "admin", "on", ">admin-pw", "~*", "&*", "+@all",
        # What a service reading its configuration needs: reads (GET, MGET, EXISTS, TYPE)
        # and the connection's own commands. No CONFIG: its watch reads instead.
        "--user", "reader", "on", ">reader-pw", "~*", "+@read", "+@connection",
    )  # fmt: skip
    with RedisServer(extra_args=users) as server:
        yield server
