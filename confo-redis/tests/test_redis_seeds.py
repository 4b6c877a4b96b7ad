"""Seeds 003 and 004 (the original Redis pages) run as written against a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import seedcode
from helpers import run_ok

from confo_redis.testing import RedisServer

SEED_004_CHECKS = """
assert config2.get_backends() == {
    "all_backends": ["redis2_backend", "redis_backend"], "active_backend": "redis2_backend"}
assert config2.get_namespaces() == {"all_namespaces": ["database"], "current_namespace": "database"}
assert config2.get_all() == EXPECTED, config2.get_all()
assert config2.get("mysqli", "host") == "localhost"
"""

EXPECTED = {
    "mysqli": {"host": "localhost", "db_name": "sambe_db", "user": "root"},
    "postgres": {"host": "localhost", "db_name": "sambe_db", "user": "root123"},
}

ANOTHER_PROCESS = """
import sys
from confo.Confo import Confo
import confo.Backends as BE
config = Confo()
config.load_backend({"redis_host": "localhost", "redis_port": sys.argv[1]}, "r", BE.REDIS_BACKEND)
config.activate_backend("r")
config.use_namespace("database")
config.reload()
print(config.get_all())
"""


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A server of its own: the seeds use fixed names ("database")."""
    with RedisServer() as server:
        yield server


def test_seed_003(server: RedisServer, tmp_path: Path) -> None:
    code = seedcode.program("003", {'"6379"': f'"{server.port}"'})
    code += "\nassert config.get_backends()['all_backends'] == ['redis_backend']\n"
    run_ok(code)


def test_seed_004_and_a_second_process_reload(server: RedisServer) -> None:
    code = seedcode.program("004", {'"6379"': f'"{server.port}"'})
    run_ok(f"EXPECTED = {EXPECTED!r}\n{code}\n{SEED_004_CHECKS}")
    assert run_ok(ANOTHER_PROCESS, str(server.port)).strip() == repr(EXPECTED)
