"""confo-redis: the Confo backend for Redis, in the original Confo's key layout."""

from confo_redis.backend import RedisBackend

__all__ = ["RedisBackend"]
