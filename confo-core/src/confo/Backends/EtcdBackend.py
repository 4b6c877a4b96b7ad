"""``from confo.Backends.EtcdBackend import EtcdBackend``: the original's backend class.

Importing fails, naming the distribution to install (``pip install confo-etcd``), if none
provides the "etcd" backend. The class works on its own, as the original's did: see
:mod:`confo.compat.legacy`.
"""

from confo.compat.legacy import legacy_backend

EtcdBackend = legacy_backend("etcd")

__all__ = ["EtcdBackend"]
