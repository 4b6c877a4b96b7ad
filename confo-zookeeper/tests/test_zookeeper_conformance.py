"""The shared conformance suite against a real ZooKeeper."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from kazoo.client import KazooClient

from confo.testing import (
    BackendConformance,
    NetworkConformance,
    RawStore,
    TLSConformance,
    free_port,
)
from confo_zookeeper.testing import ZookeeperRaw, ZookeeperServer


class TestZookeeperConformance(BackendConformance, NetworkConformance, TLSConformance):
    backend_type = "zookeeper"

    @pytest.fixture
    def credentials(self, zookeeper_server: ZookeeperServer) -> dict[str, Any]:
        return zookeeper_server.credentials()

    @pytest.fixture
    def raw(self, plain: KazooClient) -> RawStore:
        return ZookeeperRaw(plain)

    @pytest.fixture
    def unreachable_credentials(self) -> dict[str, Any]:
        return {"zookeeper_host": "127.0.0.1", "zookeeper_port": free_port(), "timeout": 1}

    @pytest.fixture
    def restartable(self) -> Iterator[tuple[ZookeeperServer, dict[str, Any]]]:
        with ZookeeperServer() as server:
            yield server, server.credentials(operation_timeout=3, reconnect_grace=0.5)

    @pytest.fixture
    def routed(self) -> Callable[[Mapping[str, Any], int], Mapping[str, Any]]:
        return lambda credentials, port: {**credentials, "zookeeper_port": port}

    @pytest.fixture
    def tls_credentials(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        with ZookeeperServer(tls=True) as server:
            yield (
                server.credentials(),
                {"zookeeper_host": server.host, "zookeeper_port": server.port},
            )
