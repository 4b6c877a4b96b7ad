"""The shared conformance suite against a real etcd, with etcdctl as the other tool."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from confo.testing import (
    BackendConformance,
    NetworkConformance,
    RawStore,
    ReadOnlyConformance,
    SecretsConformance,
    TLSConformance,
    free_port,
)
from confo_etcd.testing import EtcdctlRaw, EtcdServer


class TestEtcdConformance(
    BackendConformance,
    NetworkConformance,
    TLSConformance,
    ReadOnlyConformance,
    SecretsConformance,
):
    backend_type = "etcd"
    optional_credentials = frozenset({"timeout", "port"})  # 2379, as documented

    @pytest.fixture
    def credentials(self, etcd_server: EtcdServer) -> dict[str, Any]:
        return etcd_server.credentials()

    @pytest.fixture
    def store_url(self, etcd_server: EtcdServer) -> str:
        return f"etcd://127.0.0.1:{etcd_server.port}"

    @pytest.fixture
    def raw(self, etcd_server: EtcdServer) -> RawStore:
        return EtcdctlRaw(etcd_server)

    @pytest.fixture
    def unreachable_credentials(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": str(free_port()), "timeout": 1}

    @pytest.fixture
    def restartable(self) -> Iterator[tuple[EtcdServer, dict[str, Any]]]:
        with EtcdServer() as server:
            yield server, server.credentials(operation_timeout=2)

    @pytest.fixture
    def routed(self) -> Callable[[Mapping[str, Any], int], Mapping[str, Any]]:
        return lambda credentials, port: {**credentials, "port": port}

    @pytest.fixture
    def tls_credentials(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        with EtcdServer(tls=True) as server:
            yield server.credentials(), {"host": server.host, "port": server.port}

    @pytest.fixture
    def read_only(
        self, etcd_auth_server: tuple[EtcdServer, str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        server, root_password = etcd_auth_server
        return (
            server.credentials(user="root", password=root_password),
            server.credentials(user="reader", password="reader-pw"),
        )

    @pytest.fixture
    def secret_credentials(
        self, etcd_auth_server: tuple[EtcdServer, str]
    ) -> tuple[dict[str, Any], str]:
        server, root_password = etcd_auth_server
        return server.credentials(user="root", password=root_password), root_password
