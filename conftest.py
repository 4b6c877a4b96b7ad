"""Markers by location, so a fast subset runs without servers: ``make test-fast``.

- ``servers``: needs real etcd, ZooKeeper or Redis servers (every test of those backends and
  of the command line).
- ``slow``: builds virtual environments or wheels, or runs the benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SERVER_PACKAGES = (
    "confo-redis/",
    "confo-zookeeper/",
    "confo-etcd/",
    "confo-cli/",
    "tests/test_capabilities.py",
)
SLOW = ("tests/test_install.py", "tests/test_distributions.py", "tests/test_benchmarks.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.resolve().relative_to(ROOT).as_posix()
        if where.startswith(SERVER_PACKAGES):
            item.add_marker(pytest.mark.servers)
        if where.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
