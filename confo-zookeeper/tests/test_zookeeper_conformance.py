"""The shared conformance suite against a real ZooKeeper."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl_credential

from confo.testing import (
    BackendConformance,
    NetworkConformance,
    RawStore,
    ReadOnlyConformance,
    SecretsConformance,
    TLSConformance,
    free_port,
)
from confo_zookeeper.testing import ZookeeperRaw, ZookeeperServer


class TestZookeeperConformance(
    BackendConformance,
    NetworkConformance,
    TLSConformance,
    ReadOnlyConformance,
    SecretsConformance,
):
    backend_type = "zookeeper"

    @pytest.fixture
    def credentials(self, zookeeper_server: ZookeeperServer) -> dict[str, Any]:
        return zookeeper_server.credentials()

    @pytest.fixture
    def store_url(self, zookeeper_server: ZookeeperServer) -> str:
        return f"zookeeper://127.0.0.1:{zookeeper_server.port}"

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

    @pytest.fixture
    def read_only(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """A server of its own, so that /confo is made by the writer, whose znodes grant the
        reader READ (zookeeper_read_acl) and nothing more."""
        reader = "digest:" + make_digest_acl_credential("reader", "reader-pw")
        with ZookeeperServer() as server:
            yield (
                server.credentials(
                    zookeeper_user="svc", zookeeper_passwd="svc-pw", zookeeper_read_acl=[reader]
                ),
                server.credentials(zookeeper_user="reader", zookeeper_passwd="reader-pw"),
            )

    @pytest.fixture
    def secret_credentials(self) -> Iterator[tuple[dict[str, Any], str]]:
        """A server of its own: /confo made by a digest identity admits no other client."""
        canary = "canary-pw-" + uuid.uuid4().hex
        with ZookeeperServer() as server:
            yield server.credentials(zookeeper_user="svc", zookeeper_passwd=canary), canary
