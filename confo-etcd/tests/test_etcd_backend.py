"""What only the etcd backend has: etcdctl interop, TLS and auth, endpoints, limits, outages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from confo import Confo
from confo.errors import (
    BackendAuthenticationError,
    BackendUnavailableError,
    CorruptDataError,
    CredentialsError,
    StoreLimitError,
)
from confo.testing import Recorder, TCPProxy, connected, free_port, unique, until
from confo_etcd.testing import EtcdServer, etcdctl_value


def connect(credentials: dict[str, Any]) -> Confo:
    return connected("etcd", credentials, "etcd")


@pytest.fixture
def manager(etcd_server: EtcdServer) -> Iterator[Confo]:
    with connect(etcd_server.credentials()) as manager:
        yield manager


def test_layout_reads_back_with_etcdctl(manager: Confo, etcd_server: EtcdServer) -> None:
    ns = unique("database")
    manager.create_namespace(ns)
    assert etcdctl_value(etcd_server, f"/confo/{ns}") == ""  # the namespace marker
    manager.use_namespace(ns)
    manager.set("postgress", {"driver": "postgress", "host": "127.0.0.1", "port": 5678})
    manager.persist()
    stored = etcdctl_value(etcd_server, f"/confo/{ns}/postgress")
    assert json.loads(stored) == {"driver": "postgress", "host": "127.0.0.1", "port": 5678}


def test_creating_an_existing_namespace_writes_nothing(
    manager: Confo, etcd_server: EtcdServer
) -> None:
    """A rewritten marker would make every watcher of the namespace read all of it again."""
    ns = unique()

    def marker_revision() -> int:
        found = json.loads(etcd_server.etcdctl("get", f"/confo/{ns}", "-w", "json"))
        return int(found["kvs"][0]["mod_revision"])

    manager.create_namespace(ns)
    made = marker_revision()
    manager.create_namespace(ns)
    assert marker_revision() == made


def test_keys_put_with_etcdctl_make_a_namespace(manager: Confo, etcd_server: EtcdServer) -> None:
    ns = unique()
    etcd_server.etcdctl("put", f"/confo/{ns}/mysql", '{"host": "localhost"}')
    etcd_server.etcdctl("put", f"/confo/{ns}/deeper/key", "not a configuration")
    assert ns in manager.get_namespaces()["all_namespaces"]
    manager.use_namespace(ns)
    assert manager.get_all() == {"mysql": {"host": "localhost"}}


def test_value_that_is_not_an_object_is_named_and_left_alone(
    manager: Confo, etcd_server: EtcdServer
) -> None:
    ns = unique()
    etcd_server.etcdctl("put", f"/confo/{ns}/list", "[1, 2]")
    with pytest.raises(CorruptDataError, match=f"'/confo/{ns}/list'"):
        manager.use_namespace(ns)
    assert etcdctl_value(etcd_server, f"/confo/{ns}/list") == "[1, 2]"


def test_listing_reads_keys_not_values(manager: Confo, etcd_server: EtcdServer) -> None:
    """A namespace holding a value that is not JSON still lists: listing never decodes values."""
    ns = unique()
    etcd_server.etcdctl("put", f"/confo/{ns}/broken", "{not json")
    assert ns in manager.get_namespaces()["all_namespaces"]


def test_persist_past_the_transaction_limits(etcd_server: EtcdServer) -> None:
    """Over max_txn_ops, a persist is split into ordered transactions; all of it lands."""
    with connect(etcd_server.credentials(max_txn_ops=10)) as manager:
        manager.create_namespace(ns := unique())
        manager.use_namespace(ns)
        configs = {f"c{i:02d}": {"i": i} for i in range(35)}
        for name, config in configs.items():
            manager.set(name, config)
        manager.persist()
        manager.reload()
        assert manager.get_all() == configs
        keys = etcd_server.etcdctl("get", "--prefix", f"/confo/{ns}/", "--keys-only").split()
        assert len(keys) == 35


def test_configuration_larger_than_a_request_fails_before_writing(
    manager: Confo, etcd_server: EtcdServer
) -> None:
    manager.create_namespace(ns := unique())
    manager.use_namespace(ns)
    manager.set("small", {"a": 1})
    manager.set("huge", {"pad": "x" * 1_500_000})
    with pytest.raises(StoreLimitError, match="huge"):
        manager.persist()
    assert etcdctl_value(etcd_server, f"/confo/{ns}/small") == ""  # nothing was written


def test_credentials_forms(etcd_server: EtcdServer) -> None:
    with pytest.raises(CredentialsError, match="both"):
        connect(etcd_server.credentials(user="root"))
    with pytest.raises(CredentialsError, match="endpoints"):
        connect({"endpoints": ["no-port-here"]})
    dead = f"127.0.0.1:{free_port()}"
    alive = f"127.0.0.1:{etcd_server.port}"
    for endpoints in ([alive, dead], f"{alive},{dead}"):
        with connect({"endpoints": endpoints}) as manager:
            assert isinstance(manager.get_count(), int)


@pytest.fixture(scope="module")
def secure_server() -> Iterator[EtcdServer]:
    """etcd over TLS with a throwaway CA, auth enabled, root's password 'r00t-pw'."""
    with EtcdServer(tls=True) as server:
        server.enable_auth("r00t-pw")
        yield server


def test_tls_and_password_auth(secure_server: EtcdServer) -> None:
    with connect(secure_server.credentials(user="root", password="r00t-pw")) as manager:
        assert "r00t-pw" not in repr(manager._sessions["etcd"].store)
        manager.create_namespace("secured")
        manager.use_namespace("secured")
        manager.set("db", {"password": "kept"})
        manager.persist()
        manager.reload()
        assert manager.get("db", "password") == "kept"
    assert json.loads(
        secure_server.etcdctl("get", "/confo/secured/db", "--print-value-only", user="root:r00t-pw")
    ) == {"password": "kept"}


def test_wrong_password_is_refused_without_echo(secure_server: EtcdServer) -> None:
    with pytest.raises(BackendAuthenticationError) as info:
        connect(secure_server.credentials(user="root", password="guess-pw"))
    assert "guess-pw" not in str(info.value)
    assert str(secure_server.port) in str(info.value)


def test_no_credentials_on_an_auth_server_is_refused(secure_server: EtcdServer) -> None:
    with pytest.raises(BackendAuthenticationError):
        connect(secure_server.credentials())


def test_client_certificates() -> None:
    with EtcdServer(client_cert_auth=True) as server:
        files = server.tls_files
        assert files is not None
        mutual = server.credentials(cert_cert=files.client_cert, cert_key=files.client_key)
        with connect(mutual) as manager:
            manager.create_namespace("mtls")
            assert "mtls" in manager.get_namespaces()["all_namespaces"]
        with pytest.raises(BackendUnavailableError):
            connect(server.credentials(timeout=2))  # the CA alone: no client certificate


def test_expired_auth_token_is_renewed() -> None:
    """etcd's simple tokens expire when idle (5 minutes by default; 3 seconds here: with 1,
    a loaded machine let the token expire between connect's authentication and its first
    read)."""
    with EtcdServer(tls=True, extra_args=("--auth-token-ttl", "3")) as server:
        server.enable_auth("r00t-pw")
        with connect(server.credentials(user="root", password="r00t-pw")) as manager:
            manager.create_namespace("tokens")
            time.sleep(5)  # the token expires
            manager.use_namespace("tokens")
            manager.set("db", {"still": "authenticated"})
            manager.persist()
            manager.reload()
            assert manager.get("db") == {"still": "authenticated"}


def test_watch_loses_nothing_when_history_is_compacted_during_a_gap(
    etcd_server: EtcdServer,
) -> None:
    """The watch's connection is cut while another client writes, and etcd's history is
    compacted past the watch's resume point: it starts over from now and resynchronises."""
    import pyetcd

    credentials = etcd_server.credentials()
    raw = pyetcd.client(host=etcd_server.host, port=etcd_server.port)
    with (
        TCPProxy(etcd_server.port) as proxy,
        connected("etcd", {**credentials, "port": proxy.port}) as watcher,
        connected("etcd", credentials) as writer,
    ):
        ns = unique()
        watcher.create_namespace(ns)
        watcher.use_namespace(ns)
        writer.use_namespace(ns)
        seen = Recorder()
        with watcher.watch(seen):
            writer.set("a", {"v": 0})
            writer.set("gone", {"v": 0})
            writer.persist()
            until(lambda: seen.last() == {"a": {"v": 0}, "gone": {"v": 0}})
            proxy.cut()
            for v in range(1, 4):
                writer.set("a", "v", v)
                writer.persist()
            writer.delete("gone")
            writer.persist()
            revision = raw.get(f"/confo/{ns}")[1].response_header.revision
            raw.compact(revision, physical=True)
            time.sleep(1)
            proxy.restore()
            until(lambda: seen.last() == {"a": {"v": 3}}, within=30)
            until(lambda: watcher.get_all() == {"a": {"v": 3}})
    raw.close()


def test_limits_and_certificate_files_are_checked_at_load(
    etcd_server: EtcdServer, tmp_path: Any
) -> None:
    for key in ("max_txn_ops", "max_request_bytes"):
        with pytest.raises(CredentialsError, match=f"{key}.*1 or more"):
            connect(etcd_server.credentials(**{key: 0}))
    missing = str(tmp_path / "no-such-ca.pem")
    with pytest.raises(CredentialsError, match=r"'ca_cert'.*no-such-ca\.pem"):
        connect(etcd_server.credentials(ca_cert=missing))


def test_history_survives_compaction_and_rolls_back_across_it(
    manager: Confo, etcd_server: EtcdServer
) -> None:
    """The records are Confo's own keys, not etcd's MVCC history: compacting every revision
    before now removes none of them, and a rollback to the oldest still works."""
    import pyetcd

    ns = unique()
    manager.create_namespace(ns)
    manager.use_namespace(ns)
    for v in range(5):
        manager.set("db", {"v": v})
        manager.persist(message=f"v{v}")
    before = manager.history()
    raw = pyetcd.client(host=etcd_server.host, port=etcd_server.port)
    try:
        revision = raw.get(f"/confo/{ns}")[1].response_header.revision
        raw.compact(revision, physical=True)
    finally:
        raw.close()
    after = manager.history()
    assert [r.id for r in after] == [r.id for r in before]
    assert after[-1].changes["db"]["after"] == {"v": 0}
    manager.rollback(after[-1].id)
    manager.reload()
    assert manager.get("db") == {"v": 0}
    stored = etcdctl_value(etcd_server, f"/confo/{ns}/db")
    assert json.loads(stored) == {"v": 0}
