"""docs/backends/etcd.md and the distribution's README run against a real etcd of its own."""

from __future__ import annotations

from helpers import run_page

from confo_etcd.testing import EtcdServer


def test_etcd_page() -> None:
    with EtcdServer() as server:
        run_page("docs/backends/etcd.md", f"2379={server.port}")


def test_etcd_readme() -> None:
    """The long description of confo-etcd on the package index."""
    with EtcdServer() as server:
        run_page("confo-etcd/README.md", f"2379={server.port}")
