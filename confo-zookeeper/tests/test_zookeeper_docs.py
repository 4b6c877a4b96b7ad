"""docs/backends/zookeeper.md runs against a real ZooKeeper of its own."""

from __future__ import annotations

from helpers import run_page

from confo_zookeeper.testing import ZookeeperServer


def test_zookeeper_page() -> None:
    with ZookeeperServer() as server:
        run_page("docs/backends/zookeeper.md", f"2181={server.port}")
