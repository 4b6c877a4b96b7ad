"""A real 3-server ZooKeeper ensemble on loopback: the session survives losing its server."""

from __future__ import annotations

from confo.testing import connected, eventually
from confo_zookeeper.testing import ZookeeperEnsemble


def test_failover_keeps_the_session_and_its_identity() -> None:
    with ZookeeperEnsemble(3) as ensemble:
        credentials = ensemble.credentials(
            zookeeper_user="ha", zookeeper_passwd="ha-pw", operation_timeout=3
        )
        with connected("zookeeper", credentials) as manager:
            manager.create_namespace("ha")
            manager.use_namespace("ha")
            manager.set("db", {"v": 1})
            manager.persist()
            client = manager._sessions["under_test"].store.backend.client  # type: ignore[attr-defined]
            session = client.client_id
            port = client._connection._socket.getpeername()[1]
            (serving,) = [s for s in ensemble.members if s.port == port]
            serving.stop()  # the server this session is connected to goes away
            manager.set("db", "v", 2)
            eventually(manager.persist)  # kazoo moves to another server of the ensemble
            manager.reload()
            assert manager.get("db") == {"v": 2}
            assert client.client_id == session  # the same session: nothing expired
