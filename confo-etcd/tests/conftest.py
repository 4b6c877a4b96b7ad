from __future__ import annotations

from collections.abc import Iterator

import pytest

from confo_etcd.testing import EtcdServer


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    with EtcdServer() as server:
        yield server
