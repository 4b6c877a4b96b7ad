"""Confo: one configuration API over local JSON files, etcd, ZooKeeper and Redis.

``from confo import Confo`` is the manager; ``confo.hookimpl`` marks a backend plugin's hooks.
Importing this package imports no store client library: a backend's library is imported only
when that backend is loaded.
"""

from confo.errors import ConfoError
from confo.manager import Confo
from confo.markers import hookimpl
from confo.model import Changes, Snapshot
from confo.namespace import Namespace

__all__ = ["Changes", "Confo", "ConfoError", "Namespace", "Snapshot", "hookimpl"]
