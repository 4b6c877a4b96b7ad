"""docs/backends/redis.md and the distribution's README run against a real redis-server."""

from __future__ import annotations

from helpers import run_page

from confo_redis.testing import RedisServer


def test_redis_page() -> None:
    with RedisServer() as server:
        run_page("docs/backends/redis.md", f"6379={server.port}")


def test_redis_readme() -> None:
    """The long description of confo-redis on the package index."""
    with RedisServer() as server:
        run_page("confo-redis/README.md", f"6379={server.port}")


def test_last_known_good_page() -> None:
    """docs/last-known-good.md: a real Redis, paused (CLIENT PAUSE) to stand in for an outage."""
    with RedisServer() as server:
        run_page("docs/last-known-good.md", f"6379={server.port}")
