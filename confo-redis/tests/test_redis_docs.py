"""docs/backends/redis.md runs against a real redis-server of its own."""

from __future__ import annotations

from helpers import run_page

from confo_redis.testing import RedisServer


def test_redis_page() -> None:
    with RedisServer() as server:
        run_page("docs/backends/redis.md", f"6379={server.port}")
