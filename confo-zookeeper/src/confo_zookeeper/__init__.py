"""confo-zookeeper: the Confo backend for Apache ZooKeeper, on kazoo."""

from confo_zookeeper.backend import ZookeeperBackend

__all__ = ["ZookeeperBackend"]
