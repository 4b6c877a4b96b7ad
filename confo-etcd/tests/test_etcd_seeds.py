"""Seeds 000 and 001 (the original etcd pages) run as written against a real etcd."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import seedcode
from helpers import run_ok

from confo_etcd.testing import EtcdServer

EXPECTED = {
    "postgress": {"driver": "postgress", "host": "127.0.0.1", "port": 5678},
    "mysql": {"driver": "mysql", "host": "localhost", "port": 1234},
}

SEED_001_CHECKS = """
assert config2.get_backends() == {
    "all_backends": ["ETCD_backend2", "ETCD_backend"], "active_backend": "ETCD_backend2"}
assert config2.get_namespaces() == {"all_namespaces": ["database"], "current_namespace": "database"}
assert config2.get_count() == 1
assert config2.get_all() == EXPECTED, config2.get_all()
"""

ANOTHER_PROCESS = """
import sys
from confo.Confo import Confo
from confo import Backends as BE
config = Confo()
config.load_backend({"host": "127.0.0.1", "port": int(sys.argv[1])}, "e", BE.ETCD_BACKEND)
config.activate_backend("e")
config.use_namespace("database")
print(sorted(config.get_all().items()))
"""


@pytest.fixture
def server() -> Iterator[EtcdServer]:
    """A server of its own: the seeds use fixed names ("database")."""
    with EtcdServer() as server:
        yield server


def test_seed_000(server: EtcdServer) -> None:
    code = seedcode.program("000", {"2379": str(server.port)})
    run_ok(code + "\nassert config.get_backends()['all_backends'] == ['ETCD_backend']\n")


def test_seed_001_and_a_second_process(server: EtcdServer) -> None:
    code = seedcode.program("001", {"2379": str(server.port)})
    output = run_ok(f"EXPECTED = {EXPECTED!r}\n{code}\n{SEED_001_CHECKS}")
    assert "localhost" in output.splitlines()  # print(config.get("mysql","host"))
    assert run_ok(ANOTHER_PROCESS, str(server.port)).strip() == repr(sorted(EXPECTED.items()))
