"""confo-etcd: the Confo backend for etcd v3."""

from confo_etcd.backend import EtcdBackend

__all__ = ["EtcdBackend"]
