"""docs/backends/zookeeper.md and the distribution's README run against a real ZooKeeper."""

from __future__ import annotations

from helpers import run_page

from confo_zookeeper.testing import ZookeeperServer


def test_zookeeper_page() -> None:
    with ZookeeperServer() as server:
        run_page("docs/backends/zookeeper.md", f"2181={server.port}")


def test_zookeeper_readme() -> None:
    """The long description of confo-zookeeper on the package index."""
    with ZookeeperServer() as server:
        run_page("confo-zookeeper/README.md", f"2181={server.port}")
