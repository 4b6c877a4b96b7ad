"""Markers by location, so a fast subset runs without servers: ``make test-fast``; and a
check that the suite leaves nothing behind in the repository.

- ``servers``: needs real etcd, ZooKeeper or Redis servers (every test of those backends and
  of the command line).
- ``slow``: builds virtual environments or wheels, or runs the benchmarks.
"""

from __future__ import annotations

import subprocess
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


def _untracked() -> set[str] | None:
    """Files in the repository that git neither tracks nor ignores; None outside a checkout."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(listed.decode(errors="replace").split("\0")) - {""}


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _untracked()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A test that writes into the repository (a store created in the working directory) would
    be committed by the next ``git add -A``: fail the run instead."""
    before, after = session.config.stash.get(_BEFORE, None), _untracked()
    if before is None or after is None or hasattr(session.config, "workerinput"):
        return  # not a checkout, or an xdist worker (the controller checks)
    left = sorted(after - before)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"tests left files in the repository: {left}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[str] | None]()
