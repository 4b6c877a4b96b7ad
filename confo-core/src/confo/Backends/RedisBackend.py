"""``from confo.Backends.RedisBackend import RedisBackend``: the installed backend class.

Raises BackendNotInstalledError (an ImportError) naming the distribution to install if none does.
"""

from confo.discovery import backend_class

RedisBackend = backend_class("redis")

__all__ = ["RedisBackend"]
