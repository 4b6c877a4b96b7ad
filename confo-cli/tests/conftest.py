"""Real stores of every kind, one namespace name per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from clitest import KINDS, StoreUnderTest
from kazoo.client import KazooClient

from confo_etcd.testing import EtcdctlRaw, EtcdServer
from confo_file.testing import FileRaw
from confo_redis.testing import RedisRaw, RedisServer
from confo_zookeeper.testing import ZookeeperRaw, ZookeeperServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def zookeeper_server() -> Iterator[ZookeeperServer]:
    with ZookeeperServer() as server:
        yield server


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    with EtcdServer() as server:
        yield server


@pytest.fixture(scope="session")
def stores(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
    zookeeper_server: ZookeeperServer,
    etcd_server: EtcdServer,
) -> Iterator[dict[str, StoreUnderTest]]:
    """One store of each kind, each with a client of its own for checking what it holds."""
    folder = tmp_path_factory.mktemp("files")
    plain = redis.Redis(host=redis_server.host, port=redis_server.port)
    kazoo = KazooClient(hosts=zookeeper_server.hosts)
    kazoo.start(timeout=10)
    yield {
        "file": StoreUnderTest("file", f"file:{folder}", FileRaw(folder)),
        "redis": StoreUnderTest(
            "redis", f"redis://{redis_server.host}:{redis_server.port}/0", RedisRaw(plain)
        ),
        "zookeeper": StoreUnderTest(
            "zookeeper", f"zookeeper://{zookeeper_server.hosts}", ZookeeperRaw(kazoo)
        ),
        "etcd": StoreUnderTest(
            "etcd", f"etcd://{etcd_server.host}:{etcd_server.port}", EtcdctlRaw(etcd_server)
        ),
    }
    kazoo.stop()
    kazoo.close()
    plain.close()


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, stores: dict[str, StoreUnderTest]) -> StoreUnderTest:
    return stores[request.param]


@pytest.fixture
def ns() -> str:
    """A namespace name no other test uses (the servers are shared by the session)."""
    return f"ns{uuid.uuid4().hex[:12]}"
