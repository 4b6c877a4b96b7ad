"""Confo: one configuration API over local JSON files, etcd, ZooKeeper and Redis.

``from confo import Confo`` is the manager; ``confo.hookimpl`` marks a backend plugin's hooks.
Importing this package imports no store client library: a backend's library is imported only
when that backend is loaded.
"""

from confo.errors import ConflictError, ConfoError
from confo.manager import Confo
from confo.markers import hookimpl
from confo.model import Changes, Revision, Snapshot, WriteResult
from confo.namespace import Namespace

__all__ = [
    "Changes",
    "ConflictError",
    "Confo",
    "ConfoError",
    "Namespace",
    "Revision",
    "Snapshot",
    "WriteResult",
    "hookimpl",
]
