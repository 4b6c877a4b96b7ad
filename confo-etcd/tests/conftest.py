from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from confo_etcd.testing import EtcdServer


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    with EtcdServer() as server:
        yield server


@pytest.fixture(scope="session")
def etcd_auth_server() -> Iterator[tuple[EtcdServer, str]]:
    """etcd over TLS with auth on: root (its password is returned, a canary that nothing may
    show) and ``reader`` (password ``reader-pw``), whose role may only read Confo's keys."""
    root_password = "canary-pw-" + uuid.uuid4().hex
    with EtcdServer(tls=True) as server:
        server.etcdctl("user", "add", "reader:reader-pw")
        server.etcdctl("role", "add", "confo-reader")
        server.etcdctl("role", "grant-permission", "confo-reader", "read", "/confo", "--prefix")
        server.etcdctl("user", "grant-role", "reader", "confo-reader")
        server.enable_auth(root_password)
        yield server, root_password
