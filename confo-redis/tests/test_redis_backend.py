"""What only the Redis backend has: its layout and its traps, auth, outages, concurrent writers."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from confo import Confo, hookimpl
from confo.errors import (
    BackendAuthenticationError,
    BackendUnavailableError,
    CorruptDataError,
    CredentialsError,
    InvalidNameError,
    NamespaceExistsException,
    NamespaceNotFoundError,
)
from confo.testing import connected, unique, until
from confo_redis.testing import RedisServer


def connect(credentials: dict[str, Any]) -> Confo:
    return connected("redis", credentials, "r")


@pytest.fixture
def manager(redis_server: RedisServer) -> Iterator[Confo]:
    with connect(redis_server.credentials()) as manager:
        yield manager


def persisted(manager: Confo, configs: dict[str, Any]) -> str:
    """A new namespace, in use, holding ``configs`` in the store."""
    ns = unique()
    manager.create_namespace(ns)
    manager.use_namespace(ns)
    for name, config in configs.items():
        manager.set(name, config)
    manager.persist()
    return ns


def index(client: redis.Redis, key: str) -> Any:
    raw = client.get(key)
    return json.loads(raw) if raw is not None else None


def test_seed_layout(manager: Confo, plain: redis.Redis) -> None:
    ns = unique("HR")
    manager.create_namespace(ns)
    assert ns in index(plain, "confo")["namespaces"]
    assert index(plain, ns) == {"configurations": []}
    manager.use_namespace(ns)
    manager.set("database", {"host": "localhost", "port": 6379})
    manager.set("email", {"admins": ["a@example.com"]})
    manager.persist()
    assert index(plain, ns) == {"configurations": ["database", "email"]}
    assert json.loads(plain.get(f"{ns}-database")) == {"host": "localhost", "port": 6379}


def test_dash_in_namespace_names_is_refused_but_fine_in_configurations(
    manager: Confo, plain: redis.Redis
) -> None:
    with pytest.raises(InvalidNameError, match="'_' instead"):
        manager.create_namespace("sales-eu")
    ns = unique("sales")
    manager.create_namespace(ns)
    manager.use_namespace(ns)
    manager.set("db-primary", {"host": "a"})
    manager.persist()
    manager.reload()
    assert manager.get("db-primary") == {"host": "a"}
    assert plain.get(f"{ns}-db-primary") is not None


def test_namespace_named_like_the_root_is_refused(manager: Confo, plain: redis.Redis) -> None:
    before = plain.get("confo")
    with pytest.raises(InvalidNameError, match="root"):
        manager.create_namespace("confo")
    assert plain.get("confo") == before


def test_foreign_key_is_never_taken_as_a_namespace(manager: Confo, plain: redis.Redis) -> None:
    name = unique("session")
    plain.set(name, "an application's own value")
    with pytest.raises(NamespaceExistsException, match="key_prefix"):
        manager.create_namespace(name)
    assert plain.get(name) == b"an application's own value"
    assert name not in manager.get_namespaces()["all_namespaces"]
    plain.hset(name + "_h", "field", "value")  # a key of another Redis type
    with pytest.raises(NamespaceExistsException, match="key_prefix"):
        manager.create_namespace(name + "_h")
    assert plain.hgetall(name + "_h") == {b"field": b"value"}


def test_foreign_key_is_never_overwritten_by_a_configuration(
    manager: Confo, plain: redis.Redis
) -> None:
    ns = unique()
    manager.create_namespace(ns)
    manager.use_namespace(ns)
    plain.set(f"{ns}-cache", "not Confo's")
    manager.set("cache", {"ttl": 5})
    manager.set("db", {"host": "h"})
    with pytest.raises(InvalidNameError, match=f"'{ns}-cache'"):
        manager.persist()
    assert plain.get(f"{ns}-cache") == b"not Confo's"
    assert plain.get(f"{ns}-db") is None  # all or nothing
    assert index(plain, ns) == {"configurations": []}


def test_key_prefix_keeps_confo_apart(redis_server: RedisServer, plain: redis.Redis) -> None:
    with (
        connect(redis_server.credentials(key_prefix="app1:")) as one,
        connect(redis_server.credentials(key_prefix="app2:")) as two,
    ):
        one.create_namespace("settings")
        one.use_namespace("settings")
        one.set("db", {"host": "one"})
        one.persist()
        assert "settings" not in two.get_namespaces()["all_namespaces"]
        assert json.loads(plain.get("app1:settings-db")) == {"host": "one"}
        assert index(plain, "app1:confo") == {"namespaces": ["settings"]}


def test_index_listing_a_missing_key_is_skipped(manager: Confo, plain: redis.Redis) -> None:
    ns = persisted(manager, {"kept": {"v": 1}, "lost": {"v": 2}})
    plain.delete(f"{ns}-lost")
    manager.reload()
    assert manager.get_all() == {"kept": {"v": 1}}
    manager.set("lost", {"v": 3})  # writing it again repairs the index entry's key
    manager.persist()
    assert json.loads(plain.get(f"{ns}-lost")) == {"v": 3}
    assert index(plain, ns)["configurations"].count("lost") == 1


def test_corrupt_root_index_is_named(redis_server: RedisServer) -> None:
    server_prefix = unique("p") + ":"
    client = redis.Redis(port=redis_server.port)
    client.set(server_prefix + "confo", "[not an index]")
    with (
        connect(redis_server.credentials(key_prefix=server_prefix)) as manager,
        pytest.raises(CorruptDataError, match=f"'{server_prefix}confo'"),
    ):
        manager.get_namespaces()
    assert client.get(server_prefix + "confo") == b"[not an index]"


def test_bad_port_is_a_credentials_error() -> None:
    with pytest.raises(CredentialsError, match="redis_port"):
        connect({"redis_host": "127.0.0.1", "redis_port": "sixty"})
    with pytest.raises(CredentialsError, match="redis_host"):
        connect({"redis_port": 6379})


@pytest.fixture(scope="module")
def secured() -> Iterator[RedisServer]:
    acl = ("--requirepass", "s3cret-default", "--user", "alice", "on", ">alice-pw", "~*", "+@all")
    with RedisServer(extra_args=acl) as server:
        yield server


def test_password_auth(secured: RedisServer) -> None:
    with pytest.raises(BackendAuthenticationError) as info:
        connect(secured.credentials(redis_password="wrong-password"))
    assert "wrong-password" not in str(info.value)
    with pytest.raises(BackendAuthenticationError, match="redis_password"):
        connect(secured.credentials())
    with connect(secured.credentials(redis_password="s3cret-default")) as manager:
        assert "s3cret-default" not in repr(manager) + repr(manager._sessions["r"].store)
        manager.create_namespace("secured")
        assert "secured" in manager.get_namespaces()["all_namespaces"]


def test_a_password_for_a_switched_off_default_user_is_refused_not_called_useless() -> None:
    """The default user has no password but is off: the server asks a login, so a wrong
    password is refused credentials, never "protects nothing" (which redis-py's AUTH <password>
    to such a user, refused as "no password configured", could suggest)."""
    acl = ("--user", "default", "off", "nopass", "--user", "alice", "on", ">alice-pw", "+@all")
    with RedisServer(extra_args=acl) as server:
        with pytest.raises(BackendAuthenticationError) as info:
            connect(server.credentials(redis_password="not-alices-pw"))
        assert "protects nothing" not in str(info.value)
        assert "not-alices-pw" not in str(info.value)


def test_acl_user_auth(secured: RedisServer) -> None:
    with pytest.raises(BackendAuthenticationError) as info:
        connect(secured.credentials(redis_username="alice", redis_password="nope-pw"))
    assert "nope-pw" not in str(info.value)
    with connect(secured.credentials(redis_username="alice", redis_password="alice-pw")) as manager:
        manager.create_namespace("alice_ns")
        manager.use_namespace("alice_ns")
        manager.set("db", {"owner": "alice"})
        manager.persist()
        manager.reload()
        assert manager.get("db", "owner") == "alice"


WRITER = """
import sys
from confo import Confo
port, worker, shared, rounds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
manager = Confo(shared=False)
manager.load_backend({"redis_host": "127.0.0.1", "redis_port": port}, "r", "redis")
manager.activate_backend("r")
for i in range(rounds):
    manager.create_namespace(f"w{worker}_{i}")
    handle = manager.namespace(shared)
    handle.set(f"w{worker}_c{i}", {"worker": worker, "round": i})
    handle.persist()
"""


def test_concurrent_processes_lose_no_index_entry(redis_server: RedisServer) -> None:
    """8 processes create namespaces and configurations at once; every entry survives."""
    workers, rounds = 8, 10
    shared = unique("shared")
    with connect(redis_server.credentials()) as manager:
        manager.create_namespace(shared)
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(redis_server.port), str(w), shared, str(rounds)]
            )
            for w in range(workers)
        ]
        assert [process.wait(timeout=120) for process in processes] == [0] * workers
        namespaces = set(manager.get_namespaces()["all_namespaces"])
        expected_namespaces = {f"w{w}_{i}" for w in range(workers) for i in range(rounds)}
        assert expected_namespaces <= namespaces
        manager.use_namespace(shared)
        configs = manager.get_all()
        assert set(configs) == {f"w{w}_c{i}" for w in range(workers) for i in range(rounds)}
        assert configs["w7_c9"] == {"worker": 7, "round": 9}


def test_reading_a_foreign_key_as_a_namespace_is_not_found(
    manager: Confo, plain: redis.Redis
) -> None:
    name = unique("app")
    plain.set(name, "an application's own value")
    plain.hset(name + "_h", "field", "value")
    for key in (name, name + "_h"):
        with pytest.raises(NamespaceNotFoundError, match=key):
            manager.use_namespace(key)


def test_listed_namespace_whose_index_key_was_deleted_reads_empty(
    manager: Confo, plain: redis.Redis
) -> None:
    manager.create_namespace(ns := unique())
    plain.delete(ns)
    manager.use_namespace(ns)
    assert manager.get_all() == {}


def test_a_configuration_key_of_another_type_is_corrupt_data(
    manager: Confo, plain: redis.Redis
) -> None:
    ns = persisted(manager, {"db": {"v": 1}, "queue": {"v": 2}})
    plain.delete(f"{ns}-queue")
    plain.rpush(f"{ns}-queue", "an application's list")
    with pytest.raises(CorruptDataError, match=f"'{ns}-queue' holds a list"):
        manager.reload()
    assert plain.lrange(f"{ns}-queue", 0, -1) == [b"an application's list"]


def test_a_password_the_server_never_checks_is_refused(redis_server: RedisServer) -> None:
    with pytest.raises(CredentialsError, match="protects nothing") as info:
        connect(redis_server.credentials(redis_password="canary-pw-7d1"))
    assert "canary-pw-7d1" not in str(info.value)


def test_a_server_that_does_not_speak_redis_is_named() -> None:
    """An HTTP server on the port: it answers every request with an HTTP error."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def answer() -> None:
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                with conn:
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    time.sleep(1)

        threading.Thread(target=answer, daemon=True).start()
        with pytest.raises(BackendUnavailableError, match=f"127.0.0.1:{port}.*protocol"):
            connect({"redis_host": "127.0.0.1", "redis_port": port, "timeout": 2})


def test_a_missing_certificate_file_is_named(redis_server: RedisServer, tmp_path: Any) -> None:
    missing = str(tmp_path / "absent-ca.pem")
    with pytest.raises(CredentialsError, match=r"redis_ssl_ca_certs.*absent-ca\.pem"):
        connect(redis_server.credentials(redis_ssl=True, redis_ssl_ca_certs=missing))


def test_a_first_watch_is_healthy_only_once_its_subscription_is_in_place() -> None:
    """Redis subscribes per namespace: the listener that a first watch starts subscribes to
    that namespace before it says it is in place (it once said so with no subscription at
    all, and a change in the next 250 ms came only with the late subscription's read)."""
    server = RedisServer().start()
    try:
        plain = redis.Redis(host="127.0.0.1", port=server.port)
        with connect(server.credentials()) as manager:
            manager.create_namespace("lat")
            manager.use_namespace("lat")
            with manager.watch(lambda event: None) as watch:
                until(lambda: watch.healthy)
                assert plain.pubsub_numpat() == 1
        plain.close()
    finally:
        server.cleanup()


def test_a_later_namespace_is_healthy_only_once_its_subscription_is_in_place() -> None:
    """A watch of another namespace on a running listener waited for the listener's next
    turn to be subscribed while it already read as healthy."""
    server = RedisServer().start()
    try:
        plain = redis.Redis(host="127.0.0.1", port=server.port)
        with connect(server.credentials()) as manager:
            for ns in ("one", "two"):
                manager.create_namespace(ns)
            with manager.namespace("one").watch(lambda event: None) as first:
                until(lambda: first.healthy)
                with manager.namespace("two").watch(lambda event: None) as second:
                    until(lambda: second.healthy)
                    assert plain.pubsub_numpat() == 2
        plain.close()
    finally:
        server.cleanup()


class SlowReads:
    """A wrapper plugin: once armed, the next read of ``namespace`` (a watch's seed) takes a
    second, the subscription being placed meanwhile, and the reads after it wait for ``go``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.armed = False
        self.seen = 0
        self.go = threading.Event()

    @hookimpl(wrapper=True)
    def confo_read(self, namespace: str, names: Any) -> Any:
        if self.armed and namespace == self.namespace:
            self.seen += 1
            if self.seen == 1:
                time.sleep(1.0)
            else:
                self.go.wait(30)
        return (yield)


def test_a_read_begun_before_the_subscription_makes_no_watch_healthy(
    redis_server: RedisServer,
) -> None:
    """A change between a read's start and the subscription is in neither: the watch is
    current only after a read begun once subscribed (the seed's end once claimed it)."""
    keep, late = unique(), unique()
    slow = SlowReads(late)
    with Confo() as manager:
        manager.load_backend(redis_server.credentials(), "r", "redis", plugins=[slow])
        manager.activate_backend("r")
        for ns in (keep, late):
            manager.create_namespace(ns)
        handle = manager.namespace(late)  # its first read, not the watch's
        with manager.namespace(keep).watch(lambda event: None) as keeper:
            until(lambda: keeper.healthy)
            slow.armed = True
            with handle.watch(lambda event: None) as watch:
                until(lambda: slow.seen >= 2)  # placed during the seed: read again, held
                time.sleep(0.3)
                assert not watch.healthy
                slow.go.set()
                until(lambda: watch.healthy)


def test_a_namespace_watched_again_at_once_turns_healthy(redis_server: RedisServer) -> None:
    """The last watch of a namespace stops and a new one starts before the listener's loop
    turns: the subscription never went, so no confirmation comes; the loop says it is
    placed all the same (a helper's review found such a watch never healthy)."""
    with connect(redis_server.credentials()) as manager:
        keep, again = unique(), unique()
        for ns in (keep, again):
            manager.create_namespace(ns)
        with manager.namespace(keep).watch(lambda event: None) as keeper:
            first = manager.namespace(again).watch(lambda event: None)
            until(lambda: first.healthy)
            first.stop()
            with manager.namespace(again).watch(lambda event: None) as second:
                until(lambda: second.healthy)
            assert keeper.healthy
