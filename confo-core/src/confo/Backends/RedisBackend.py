"""``from confo.Backends.RedisBackend import RedisBackend``: the original's backend class.

Importing fails, naming the distribution to install (``pip install confo-redis``), if none
provides the "redis" backend. The class works on its own, as the original's did: see
:mod:`confo.compat.legacy`.
"""

from confo.compat.legacy import legacy_backend

RedisBackend = legacy_backend("redis")

__all__ = ["RedisBackend"]
