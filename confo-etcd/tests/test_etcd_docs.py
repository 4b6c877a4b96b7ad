"""docs/backends/etcd.md runs against a real etcd of its own."""

from __future__ import annotations

from helpers import run_page

from confo_etcd.testing import EtcdServer


def test_etcd_page() -> None:
    with EtcdServer() as server:
        run_page("docs/backends/etcd.md", f"2379={server.port}")
