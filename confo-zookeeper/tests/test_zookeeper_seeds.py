"""Seed 002 (the original ZooKeeper page) runs as written against a real ZooKeeper.

Its two examples each load a backend named "zookeeper_backend" into the shared Confo(), so each
runs in a process of its own, as two separate scripts would, and against a server of its own: the
first authenticates as kabelo, so the /confo it creates admits kabelo only, which would (rightly)
lock the second, anonymous example out of the same server.
"""

from __future__ import annotations

import pytest
import seedcode
from helpers import run_ok

from confo_zookeeper.testing import ZookeeperServer

BLOCKS, NOT_CODE = seedcode.code_blocks("002")


def test_seed_002_has_two_examples_and_a_diagram() -> None:
    assert len(BLOCKS) == 2
    assert NOT_CODE == 1


@pytest.mark.parametrize("block", BLOCKS, ids=["credentials", "usage"])
def test_seed_002_example(block: str) -> None:
    with ZookeeperServer() as server:
        code = block.replace('"2181"', f'"{server.port}"')
        code += "\nconfig.activate_backend('zookeeper_backend')\nprint(config.get_namespaces())\n"
        assert run_ok(code).strip() == "{'all_namespaces': [], 'current_namespace': None}"
