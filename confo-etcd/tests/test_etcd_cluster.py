"""A real 3-member etcd cluster on loopback: Confo keeps working while a member is down."""

from __future__ import annotations

import pytest

from confo.errors import BackendUnavailableError
from confo.testing import connected, eventually
from confo_etcd.testing import EtcdCluster


def test_failover_and_quorum_loss() -> None:
    with EtcdCluster(3) as cluster:
        credentials = cluster.credentials(operation_timeout=2)
        with connected("etcd", credentials) as manager:
            manager.create_namespace("ha")
            manager.use_namespace("ha")
            manager.set("db", {"v": 1})
            manager.persist()
            for down in cluster.members[:2]:
                down.stop()
                if down is cluster.members[0]:  # one of three down: the cluster has a quorum
                    manager.set("db", "v", 2)
                    # Reaches a live member, whichever one it was using, once a leader is
                    # elected if the stopped member led.
                    eventually(manager.persist)
                    eventually(manager.reload)
                    assert manager.get("db") == {"v": 2}
            with pytest.raises(BackendUnavailableError):  # two of three down: no quorum
                manager.reload()
            cluster.members[1].start()  # the quorum is back
            eventually(manager.reload)
            assert manager.get("db") == {"v": 2}
