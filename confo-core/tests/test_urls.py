"""Store URLs: the shared reader, redaction, and each installed backend reading its own URLs."""

from __future__ import annotations

from typing import Any

import pytest

from confo.errors import StoreURLError
from confo.urls import parse_store_url, redact, split_url

SECRET = "s3cr/et@x?y"


def test_split_url_reads_hosts_ports_escapes_and_options() -> None:
    parts = split_url("etcd://al%40ice:p%40ss@h1:2380,[::1],h3/?timeout=2&max_txn_ops=64")
    assert parts.scheme == "etcd"
    assert (parts.user, parts.password) == ("al@ice", "p@ss")
    assert parts.hosts == [("h1", 2380), ("::1", None), ("h3", None)]
    assert parts.host_ports(2379) == ["h1:2380", "[::1]:2379", "h3:2379"]
    assert parts.options({"timeout": "timeout", "max_txn_ops": "max"}) == {
        "timeout": "2",
        "max": "64",
    }
    assert "p@ss" not in repr(parts)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis:/host", "is not a URL of the form"),
        ("redis://", "names no host"),
        ("redis://h:0", "Bad port '0'"),
        ("redis://h:６３７９", "Bad port"),
        ("redis://[::1", "Bad IPv6 host"),
        ("redis://h,,k", "Empty host"),
        ("redis://h?a=1&a=2", "given twice"),
        ("redis://h?novalue", "Bad options"),
    ],
)
def test_malformed_urls_are_refused_naming_the_part(url: str, says: str) -> None:
    with pytest.raises(StoreURLError, match=says):
        split_url(url)


def test_redact_hides_any_password_and_keeps_the_rest() -> None:
    assert redact(f"redis://bob:{SECRET}@h:1/0") == "redis://bob:***@h:1/0"
    assert redact("redis://bob@h:1/0") == "redis://bob@h:1/0"
    assert redact("file:/srv/confo") == "file:/srv/confo"
    with pytest.raises(StoreURLError) as caught:
        split_url(f"redis://bob:{SECRET}@h:99999")
    assert "s3cr" not in str(caught.value)


def test_login_takes_the_password_from_the_url_else_from_apart() -> None:
    assert split_url("etcd://bob@h").login("apart", user_required=True) == ("bob", "apart")
    assert split_url("etcd://bob:in@h").login("apart", user_required=True) == ("bob", "in")
    assert split_url("etcd://h").login("apart", user_required=True) == (None, None)
    assert split_url("redis://h").login("apart", user_required=False) == (None, "apart")
    with pytest.raises(StoreURLError, match="CONFO_PASSWORD"):
        split_url("etcd://bob@h").login(None, user_required=True)
    with pytest.raises(StoreURLError, match="no user"):
        split_url("etcd://:pw@h").login(None, user_required=True)


@pytest.mark.parametrize(
    ("url", "backend", "credentials"),
    [
        ("file:configs", "file", {"config_path": "configs"}),
        ("file:///srv/confo", "file", {"config_path": "/srv/confo"}),
        (
            "redis://bob:pw@10.0.0.1:6380/2?key_prefix=app:",
            "redis",
            {
                "redis_host": "10.0.0.1",
                "redis_port": 6380,
                "redis_db": 2,
                "redis_username": "bob",
                "redis_password": "pw",
                "redis_ssl": False,
                "key_prefix": "app:",
            },
        ),
        (
            "rediss://h?ca_cert=/ca.pem",
            "redis",
            {
                "redis_host": "h",
                "redis_port": 6379,
                "redis_db": 0,
                "redis_username": None,
                "redis_password": None,
                "redis_ssl": True,
                "redis_ssl_ca_certs": "/ca.pem",
            },
        ),
        (
            "zookeeper://bob:pw@z1,z2:2182?session_timeout=4",
            "zookeeper",
            {
                "zookeeper_hosts": ["z1:2181", "z2:2182"],
                "zookeeper_user": "bob",
                "zookeeper_passwd": "pw",
                "session_timeout": "4",
            },
        ),
        (
            "etcds://e1,e2:2380?ca_cert=/ca.pem&cert=/c.pem&key=/k.pem",
            "etcd",
            {
                "endpoints": ["e1:2379", "e2:2380"],
                "user": None,
                "password": None,
                "ca_cert": "/ca.pem",
                "cert_cert": "/c.pem",
                "cert_key": "/k.pem",
            },
        ),
    ],
)
def test_each_backend_reads_its_own_urls(
    url: str, backend: str, credentials: dict[str, Any]
) -> None:
    address = parse_store_url(url)
    assert (address.backend_type, address.credentials) == (backend, credentials)
    assert "pw" not in repr(address)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nosuch://h", "reads nosuch: URLs"),
        ("redis:/h", "two slashes after the colon"),
        ("etcd:h", "two slashes after the colon"),
        ("no scheme", "is not a store URL"),
        ("file:", "names no folder"),
        ("redis://h/db0", "database number"),
        ("redis://h?ca_cert=/x", "need a rediss:// URL"),
        ("redis://h1,h2", "exactly one host"),
        ("zookeeper://h/chroot", "reads no chroot"),
        ("etcds://h", "add ?ca_cert=PATH"),
        ("etcd://h?ca_cert=/x", "need an etcds:// URL"),
        ("etcd://h?colour=red", "Unknown option 'colour'"),
    ],
)
def test_urls_a_backend_cannot_use_are_refused(url: str, says: str) -> None:
    with pytest.raises(StoreURLError, match=says.replace("?", r"\?")):
        parse_store_url(url)


def test_a_password_given_apart_fills_in_for_the_url() -> None:
    assert parse_store_url("redis://h", password="pw").credentials["redis_password"] == "pw"
    etcd = parse_store_url("etcd://bob@h", password="pw").credentials
    assert (etcd["user"], etcd["password"]) == ("bob", "pw")
    assert parse_store_url("etcd://h", password="pw").credentials["password"] is None


def test_a_malformed_url_of_an_installed_backend_does_not_say_install() -> None:
    """redis:/host (one slash) once said to install confo-redis, which was installed."""
    with pytest.raises(StoreURLError) as info:
        parse_store_url("redis:/127.0.0.1")
    assert "install" not in str(info.value)
    assert "redis backend" in str(info.value)


def test_a_scheme_no_backend_reads_names_those_there_are_not_a_package_to_guess() -> None:
    with pytest.raises(StoreURLError) as info:
        parse_store_url("http://config.internal/prod")
    said = str(info.value)
    assert "reads http: URLs" in said
    assert "confo-http" not in said  # no such distribution: do not send anyone looking
    assert "etcd://" in said
    assert "plugins.md" in said


def test_login_may_take_a_user_without_a_password() -> None:
    """A PostgreSQL-like store: a user is required for a password, a password is not."""
    parts = split_url("pg://alice@h")
    assert parts.login(None, user_required=True, password_required=False) == ("alice", None)
    with pytest.raises(StoreURLError, match="no password"):
        parts.login(None, user_required=True)
