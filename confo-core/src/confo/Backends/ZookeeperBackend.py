"""``from confo.Backends.ZookeeperBackend import ZookeeperBackend``: the original's backend class.

Importing fails, naming the distribution to install (``pip install confo-zookeeper``), if none
provides the "zookeeper" backend. The class works on its own, as the original's did: see
:mod:`confo.compat.legacy`.
"""

from confo.compat.legacy import legacy_backend

ZookeeperBackend = legacy_backend("zookeeper")

__all__ = ["ZookeeperBackend"]
