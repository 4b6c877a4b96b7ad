"""Backend type names, as in ``from confo import Backends as BE; BE.REDIS_BACKEND``.

A type resolves, when a backend of it is loaded, to the installed distribution that registers it
under the ``confo.backends`` entry point. Third-party types are plain strings: ``"consul"``.
The submodules (``confo.Backends.EtcdBackend`` ...) give the original's backend classes, usable
on their own (:mod:`confo.compat.legacy`), or fail with the ``pip install`` line that provides
the type.
"""

FILE_BACKEND = "file"
ETCD_BACKEND = "etcd"
ZOOKEEPER_BACKEND = "zookeeper"
REDIS_BACKEND = "redis"

__all__ = ["ETCD_BACKEND", "FILE_BACKEND", "REDIS_BACKEND", "ZOOKEEPER_BACKEND"]
