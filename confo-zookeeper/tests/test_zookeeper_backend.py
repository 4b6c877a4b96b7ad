"""What only the ZooKeeper backend has: the seed's tree, ACLs, ensembles, outages, size limits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl, make_digest_acl

from confo import Confo
from confo.errors import (
    BackendAuthenticationError,
    CredentialsError,
    InvalidNameError,
    StoreLimitError,
    ZookeeperHostNotFoundException,
    ZookeeperPortNotFoundException,
)
from confo.testing import (
    Recorder,
    connected,
    eventually,
    everything_logged,
    free_port,
    unique,
    until,
)
from confo_zookeeper import records, watching
from confo_zookeeper.testing import ZookeeperServer


def connect(credentials: dict[str, Any]) -> Confo:
    return connected("zookeeper", credentials, "zk")


@pytest.fixture
def manager(zookeeper_server: ZookeeperServer) -> Iterator[Confo]:
    with connect(zookeeper_server.credentials()) as manager:
        yield manager


SYSTEM_A_DATABASE = {
    "host": "127.0.0.1",
    "port": 3306,
    "user": "root",
    "password": "newpassword",
    "vendor": "postgres",
}
SYSTEM_B_EMAIL = {
    "port": 587,
    "smtp_server": "smtp.gmail.com",
    "sender_email": "confo@sambe.co.za",
    "password": "ThisIsAStrongPasswordTrustMeItIs",
}


def test_seed_tree_built_with_plain_kazoo_reads_back(manager: Confo, plain: KazooClient) -> None:
    system_a, system_b = unique("systemA"), unique("systemB")
    plain.create(
        f"/confo/{system_a}/database", json.dumps(SYSTEM_A_DATABASE).encode(), makepath=True
    )
    plain.create(f"/confo/{system_b}/email", json.dumps(SYSTEM_B_EMAIL).encode(), makepath=True)
    namespaces = manager.get_namespaces()["all_namespaces"]
    assert {system_a, system_b} <= set(namespaces)
    manager.use_namespace(system_a)
    assert manager.get("database", "vendor") == "postgres"
    assert manager.get_all() == {"database": SYSTEM_A_DATABASE}
    manager.use_namespace(system_b)
    assert manager.get("email") == SYSTEM_B_EMAIL


def test_what_confo_writes_is_the_seed_tree(manager: Confo, plain: KazooClient) -> None:
    ns = unique()
    manager.create_namespace(ns)
    manager.use_namespace(ns)
    manager.set("email", SYSTEM_B_EMAIL)
    manager.persist()
    data, _ = plain.get(f"/confo/{ns}/email")
    assert json.loads(data.decode("utf-8")) == SYSTEM_B_EMAIL
    assert plain.get_children(f"/confo/{ns}") == ["email"]


def test_empty_znode_reads_as_an_empty_configuration(manager: Confo, plain: KazooClient) -> None:
    ns = unique()
    plain.create(f"/confo/{ns}/blank", b"", makepath=True)
    manager.use_namespace(ns)
    assert manager.get_all() == {"blank": {}}


def test_names_zookeeper_cannot_hold(manager: Confo) -> None:
    manager.create_namespace(ns := unique())
    manager.use_namespace(ns)
    with pytest.raises(InvalidNameError, match="U\\+E000"):
        manager.set("private\ue000use", {"a": 1})


def test_credentials_forms(zookeeper_server: ZookeeperServer) -> None:
    host, port = zookeeper_server.host, zookeeper_server.port
    with pytest.raises(ZookeeperHostNotFoundException):
        connect({"zookeeper_port": str(port)})
    with pytest.raises(ZookeeperPortNotFoundException):
        connect({"zookeeper_host": host})
    with pytest.raises(CredentialsError, match="both"):
        connect(zookeeper_server.credentials(zookeeper_user="only-a-user"))
    for credentials in (
        {"zookeeper_host": host, "zookeeper_port": port},  # port as an int
        {"zookeeper_host": f"{host}:{port}"},
        {"zookeeper_hosts": [f"{host}:{port}", f"{host}:{free_port()}"]},  # one member down
        {"zookeeper_hosts": f"{host}:{free_port()},{host}:{port}"},
    ):
        with connect(credentials) as manager:
            assert isinstance(manager.get_count(), int)


@pytest.fixture(scope="module")
def acl_server() -> Iterator[ZookeeperServer]:
    """A server of its own, so that /confo itself is created by the authenticated identity."""
    with ZookeeperServer() as server:
        yield server


def test_digest_acl_keeps_other_clients_out(acl_server: ZookeeperServer) -> None:
    owner = acl_server.credentials(zookeeper_user="kabelo", zookeeper_passwd="confoRocks")
    with connect(owner) as manager:
        assert "confoRocks" not in repr(manager._sessions["zk"].store)
        manager.create_namespace("systemA")
        manager.use_namespace("systemA")
        manager.set("database", {"password": "newpassword"})
        manager.persist()

    anonymous = KazooClient(hosts=acl_server.hosts)
    anonymous.start(timeout=10)
    try:
        for path in ("/confo", "/confo/systemA", "/confo/systemA/database"):
            with pytest.raises(NoAuthError):
                anonymous.get(path)
    finally:
        anonymous.stop()
        anonymous.close()

    with (
        connect(acl_server.credentials()) as stranger,
        pytest.raises(BackendAuthenticationError, match="zookeeper_user"),
    ):
        stranger.get_namespaces()
    impostor = acl_server.credentials(zookeeper_user="kabelo", zookeeper_passwd="guess-pw")
    with connect(impostor) as stranger, pytest.raises(BackendAuthenticationError) as info:
        stranger.use_namespace("systemA")
    assert "guess-pw" not in str(info.value)

    with connect(owner) as manager:
        manager.use_namespace("systemA")
        assert manager.get("database", "password") == "newpassword"


def test_a_persist_is_one_transaction(manager: Confo, plain: KazooClient) -> None:
    """One operation fails (another identity's ACL): nothing of the persist is applied."""
    ns = unique()
    manager.create_namespace(ns)
    plain.add_auth("digest", "other:pw")
    read_only = [make_digest_acl("other", "pw", all=True), make_acl("world", "anyone", read=True)]
    plain.create(f"/confo/{ns}/locked", b"{}", acl=read_only)
    manager.use_namespace(ns)
    manager.set("fresh", {"a": 1})
    manager.set("locked", {"b": 2})
    with pytest.raises(BackendAuthenticationError):
        manager.persist()
    assert plain.get_children(f"/confo/{ns}") == ["locked"]


def test_persist_over_the_request_size_limit(manager: Confo, plain: KazooClient) -> None:
    ns = unique()
    manager.create_namespace(ns)
    manager.use_namespace(ns)
    configs = {f"c{i}": {"pad": "x" * 50_000} for i in range(30)}  # 1.5 MB: two transactions
    for name, config in configs.items():
        manager.set(name, config)
    manager.persist()
    assert len(plain.get_children(f"/confo/{ns}")) == 30
    manager.reload()
    assert manager.get_all() == configs

    manager.set("huge", {"pad": "x" * 1_100_000})
    manager.set("small", {"a": 1})
    with pytest.raises(StoreLimitError, match="huge"):
        manager.persist()
    assert "small" not in plain.get_children(f"/confo/{ns}")  # nothing was written


@pytest.fixture
def own_server() -> Iterator[ZookeeperServer]:
    """A server of its own, for tests that change /confo's ACL or delete it."""
    with ZookeeperServer() as server:
        yield server


def test_expired_session_is_replaced_and_authenticates_again(own_server: ZookeeperServer) -> None:
    """ZooKeeper's own way to expire a session: another client takes it over, then closes it."""
    zookeeper_server = own_server
    owner = zookeeper_server.credentials(zookeeper_user="expiry", zookeeper_passwd="pw-expiry")
    with connect(owner) as manager:
        manager.create_namespace(ns := unique())
        manager.use_namespace(ns)
        manager.set("db", {"v": 1})
        manager.persist()
        client = manager._sessions["zk"].store.backend.client  # type: ignore[attr-defined]
        session_id, password = client.client_id
        thief = KazooClient(hosts=zookeeper_server.hosts, client_id=(session_id, password))
        thief.start(timeout=10)
        thief.stop()  # closing the session expires it for its first owner too
        thief.close()
        deadline = time.monotonic() + 30
        # kazoo notices, and opens a new session (client_id is None in between).
        while client.client_id is None or client.client_id[0] == session_id:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        manager.set("db", "v", 2)
        eventually(manager.persist)  # on the new session, with the digest identity again
        manager.reload()
        assert manager.get("db") == {"v": 2}


def test_writes_recreate_a_deleted_root(own_server: ZookeeperServer) -> None:
    with connect(own_server.credentials()) as manager:
        manager.create_namespace("ns")
        manager.use_namespace("ns")
        manager.set("db", {"v": 1})
        plain = KazooClient(hosts=own_server.hosts)
        plain.start(timeout=10)
        plain.delete("/confo", recursive=True)  # another tool removed everything
        manager.persist()
        assert plain.get_children("/confo/ns") == ["db"]
        plain.stop()
        plain.close()


def test_watch_loses_nothing_across_a_session_expiry(zookeeper_server: ZookeeperServer) -> None:
    """The server expires the watch's session (another client takes it over and closes it, the
    standard way to expire a session for real): the watch starts a new one and resynchronises."""
    credentials = zookeeper_server.credentials()
    with connected("zookeeper", credentials) as watcher, connected("zookeeper", credentials) as w:
        ns = unique()
        watcher.create_namespace(ns)
        watcher.use_namespace(ns)
        w.use_namespace(ns)
        seen = Recorder()
        with watcher.watch(seen) as watch:
            w.set("a", {"v": 0})
            w.persist()
            until(lambda: seen.last() == {"a": {"v": 0}})
            twin = watch._subscriber.listener._twin  # the watch's own connection
            assert twin is not None
            client = twin.backend.client  # type: ignore[attr-defined]
            session_id, password = client.client_id
            impostor = KazooClient(hosts=zookeeper_server.hosts, client_id=(session_id, password))
            impostor.start()
            impostor.stop()  # closing the session expires it for the watch's client too
            impostor.close()
            w.set("a", {"v": 1})
            w.set("b", {"v": 1})
            w.persist()
            until(lambda: seen.last() == {"a": {"v": 1}, "b": {"v": 1}})
            until(lambda: watcher.get_all() == {"a": {"v": 1}, "b": {"v": 1}})
            assert client.client_id[0] != session_id  # it really was a new session


def test_read_acl_needs_an_identity_and_scheme_id_entries(
    zookeeper_server: ZookeeperServer,
) -> None:
    with pytest.raises(CredentialsError, match="needs zookeeper_user"):
        connect(zookeeper_server.credentials(zookeeper_read_acl=["world:anyone"]))
    owner = {"zookeeper_user": "svc", "zookeeper_passwd": "svc-pw"}
    for bad in (["no-scheme"], [5], {"world": "anyone"}):
        with pytest.raises(CredentialsError, match="zookeeper_read_acl"):
            connect(zookeeper_server.credentials(**owner, zookeeper_read_acl=bad))


def test_kazoo_logs_no_digest_password() -> None:
    """kazoo logs each request at DEBUG, its digest Auth too: the password is blanked. (A server
    of its own: /confo made by a digest identity would admit no other test's client.)"""
    with ZookeeperServer() as server, everything_logged() as lines:
        credentials = server.credentials(zookeeper_user="svc", zookeeper_passwd="pw-canary-3f9")
        connect(credentials).close()
    auth = [line for line in lines if "Auth(" in line]
    assert auth, "kazoo logged no Auth request: the test proved nothing"
    assert all("svc:***" in line and "pw-canary-3f9" not in line for line in auth)


def test_a_missing_certificate_file_is_named(
    zookeeper_server: ZookeeperServer, tmp_path: Any
) -> None:
    missing = str(tmp_path / "absent-ca.pem")
    with pytest.raises(CredentialsError, match=r"zookeeper_ca.*absent-ca\.pem"):
        connect(zookeeper_server.credentials(zookeeper_use_ssl=True, zookeeper_ca=missing))


def test_a_server_without_add_watch_gets_one_shot_watches(
    zookeeper_server: ZookeeperServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ZooKeeper before 3.6 answers addWatch with UNIMPLEMENTED: the watch falls back to one
    one-shot watch per znode, and loses nothing. An opcode no server knows gets the same
    answer from this one, for real."""
    monkeypatch.setattr(watching._AddWatch, "type", 9999)
    credentials = zookeeper_server.credentials()
    with connected("zookeeper", credentials) as watcher, connected("zookeeper", credentials) as w:
        ns = unique()
        watcher.create_namespace(ns)
        w.use_namespace(ns)
        seen = Recorder()
        with watcher.watch(seen, namespace=ns) as watch:
            until(lambda: watch.healthy)
            twin = watch._subscriber.listener._twin
            assert twin is not None
            table = twin.backend.client._data_watchers  # type: ignore[attr-defined]
            for n in range(3):
                w.set("a", {"v": n})
                w.set(f"new{n}", {"made": n})
                w.persist()
            until(
                lambda: seen.last() == {"a": {"v": 2}, **{f"new{n}": {"made": n} for n in range(3)}}
            )
            assert any(path.startswith(f"/confo/{ns}/") for path in table)  # one-shot watches


def test_a_prune_racing_another_deletes_the_rest(manager: Confo, plain: KazooClient) -> None:
    """Prunes are one multi; one that finds a record gone (another writer pruned it) deletes
    the others one by one."""
    ns = unique()
    manager.create_namespace(ns)
    manager.use_namespace(ns)
    for v in range(10):
        manager.set("db", {"v": v})
        manager.persist()
    parent = records.parent(ns)
    names = sorted(plain.get_children(parent))
    plain.delete(f"{parent}/{names[2]}")  # gone before this prune's multi
    records.prune(plain, ns, 3, lambda result: result.get(timeout=10))
    assert sorted(plain.get_children(parent)) == names[-3:]
    assert [r.changes["db"]["after"] for r in manager.history()] == [{"v": 9}, {"v": 8}, {"v": 7}]
