from __future__ import annotations

from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient

from confo_zookeeper.testing import ZookeeperServer


@pytest.fixture(scope="session")
def zookeeper_server() -> Iterator[ZookeeperServer]:
    with ZookeeperServer() as server:
        yield server


@pytest.fixture
def plain(zookeeper_server: ZookeeperServer) -> Iterator[KazooClient]:
    """A plain kazoo client: the tree as any other ZooKeeper tool sees it."""
    client = KazooClient(hosts=zookeeper_server.hosts)
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()
