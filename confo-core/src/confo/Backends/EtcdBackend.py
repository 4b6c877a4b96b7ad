"""``from confo.Backends.EtcdBackend import EtcdBackend``: the installed backend class.

Raises BackendNotInstalledError (an ImportError) naming the distribution to install if none does.
"""

from confo.discovery import backend_class

EtcdBackend = backend_class("etcd")

__all__ = ["EtcdBackend"]
