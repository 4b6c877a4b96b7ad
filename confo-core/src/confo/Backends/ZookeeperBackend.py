"""``from confo.Backends.ZookeeperBackend import ZookeeperBackend``: the installed backend class.

Raises BackendNotInstalledError (an ImportError) naming the distribution to install if none does.
"""

from confo.discovery import backend_class

ZookeeperBackend = backend_class("zookeeper")

__all__ = ["ZookeeperBackend"]
