"""The ZooKeeper backend's credentials, read once and checked; the password stays out of reprs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kazoo.security import ACL, Id, Permissions, make_digest_acl

from confo import credentials as creds
from confo.errors import (
    CredentialsError,
    StoreURLError,
    ZookeeperHostNotFoundException,
    ZookeeperPortNotFoundException,
)
from confo.urls import split_url
from confo_zookeeper.logs import KAZOO_LOG

BACKEND = "zookeeper"
CREDENTIALS = (
    "zookeeper_host",
    "zookeeper_port",
    "zookeeper_hosts",
    "zookeeper_user",
    "zookeeper_passwd",
    "zookeeper_read_acl",
    "zookeeper_use_ssl",
    "zookeeper_ca",
    "zookeeper_certfile",
    "zookeeper_keyfile",
    "zookeeper_verify_certs",
    "session_timeout",
    "operation_timeout",
    "reconnect_grace",
)
"""Every credential the backend reads; any other is refused (a typo must not go unseen)."""
DEFAULT_PORT = 2181


@dataclass(frozen=True)
class ZookeeperSettings:
    hosts: str  # kazoo's form: "host1:2181,host2:2181"
    user: str | None
    password: str | None = field(repr=False)
    connect_timeout: float
    operation_timeout: float
    reconnect_grace: float
    session_timeout: float
    read_acl: tuple[str, ...] = ()
    tls: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any], timeout: float) -> ZookeeperSettings:
        creds.refuse_unknown(credentials, CREDENTIALS, BACKEND)
        user = creds.optional_text(credentials, "zookeeper_user", BACKEND)
        password = creds.optional_text(credentials, "zookeeper_passwd", BACKEND)
        if (user is None) != (password is None):
            raise CredentialsError(
                "The zookeeper backend needs both 'zookeeper_user' and 'zookeeper_passwd' for "
                "digest authentication, or neither."
            )
        return cls(
            hosts=_hosts(credentials),
            user=user,
            password=password,
            connect_timeout=timeout,
            operation_timeout=creds.seconds(credentials, "operation_timeout", BACKEND, 10.0),
            reconnect_grace=creds.seconds(credentials, "reconnect_grace", BACKEND, 2.0),
            session_timeout=creds.seconds(credentials, "session_timeout", BACKEND, 10.0),
            read_acl=_read_acl(credentials, user),
            tls=_tls(credentials),
        )

    def client_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``KazooClient``."""
        arguments: dict[str, Any] = {
            "hosts": self.hosts,
            "timeout": self.session_timeout,
            # Reconnect for ever, backing off as Confo's watches do: from 0.1 s doubling, each
            # pause within 40% of its step, the longest under 10 s (7 s + 40%), so that a
            # fleet does not hammer an ensemble that restarts.
            "connection_retry": {
                "max_tries": -1,
                "delay": 0.1,
                "backoff": 2,
                "max_jitter": 0.4,
                "max_delay": 7,
            },
            "logger": KAZOO_LOG,  # blanks the password of the Auth requests it logs
            **self.tls,
        }
        if self.user is not None and self.password is not None:
            arguments["auth_data"] = [("digest", f"{self.user}:{self.password}")]
            # Every znode Confo creates admits this identity, and the readers named, only.
            readers = [ACL(Permissions.READ, Id(*entry.split(":", 1))) for entry in self.read_acl]
            arguments["default_acl"] = [make_digest_acl(self.user, self.password, all=True)]
            arguments["default_acl"] += readers
        return arguments


def credentials_from_url(url: str, password: str | None) -> dict[str, Any] | None:
    """Credentials for ``zookeeper://[user[:password]@]host[:port][,host[:port]...]``, with
    options ``timeout``, ``session_timeout`` and ``operation_timeout``; None for other schemes."""
    if url.partition("://")[0].lower() != "zookeeper":
        return None
    parts = split_url(url)
    if parts.path not in ("", "/"):
        raise StoreURLError(
            f"The URL {parts.url!r} has a path ({parts.path!r}): Confo keeps its data under "
            "/confo and reads no chroot. Remove the path."
        )
    user, secret = parts.login(password, user_required=True)
    options = {"timeout", "session_timeout", "operation_timeout"}
    return {
        "zookeeper_hosts": parts.host_ports(DEFAULT_PORT),
        "zookeeper_user": user,
        "zookeeper_passwd": secret,
        **parts.options({name: name for name in options}),
    }


def _hosts(credentials: Mapping[str, Any]) -> str:
    """``zookeeper_hosts`` (a list or "h1:p1,h2:p2") for an ensemble, else the seed's
    ``zookeeper_host`` (one host, or several separated by commas) and ``zookeeper_port``."""
    ensemble = credentials.get("zookeeper_hosts")
    if ensemble is not None:
        entries = ensemble.split(",") if isinstance(ensemble, str) else list(ensemble)
        if not entries or not all(isinstance(e, str) and ":" in e for e in entries):
            raise CredentialsError(
                "Credential 'zookeeper_hosts' must list 'host:port' entries, as a list or "
                f"separated by commas (got {ensemble!r})."
            )
        return ",".join(entry.strip() for entry in entries)
    host = creds.text(credentials, "zookeeper_host", BACKEND, error=ZookeeperHostNotFoundException)
    entries = [entry.strip() for entry in host.split(",")]
    if all(":" in entry for entry in entries):
        return ",".join(entries)
    port = creds.port(credentials, "zookeeper_port", BACKEND, error=ZookeeperPortNotFoundException)
    return ",".join(entry if ":" in entry else f"{entry}:{port}" for entry in entries)


def _read_acl(credentials: Mapping[str, Any], user: str | None) -> tuple[str, ...]:
    """``zookeeper_read_acl``: ACL ids (``scheme:id``) given READ on every znode Confo creates,
    such as ``digest:reader:<hash>`` (kazoo.security.make_digest_acl_credential makes the
    ``reader:<hash>`` part), ``world:anyone`` or ``ip:10.0.0.0/8``."""
    entries = credentials.get("zookeeper_read_acl")
    if entries is None:
        return ()
    listed = [entries] if isinstance(entries, str) else entries
    if not isinstance(listed, (list, tuple)) or not all(
        isinstance(entry, str) and ":" in entry for entry in listed
    ):
        raise CredentialsError(
            "Credential 'zookeeper_read_acl' must list ACL ids as 'scheme:id' strings, such as "
            "'digest:reader:<hash>' or 'world:anyone'."
        )
    if user is None:
        raise CredentialsError(
            "Credential 'zookeeper_read_acl' needs zookeeper_user: without an identity, Confo "
            "creates znodes open to everyone (ZooKeeper's default ACL), readers included."
        )
    return tuple(listed)


def _tls(credentials: Mapping[str, Any]) -> dict[str, Any]:
    if not creds.flag(credentials, "zookeeper_use_ssl", BACKEND):
        return {}
    return {
        "use_ssl": True,
        "ca": creds.optional_file(credentials, "zookeeper_ca", BACKEND),
        "certfile": creds.optional_file(credentials, "zookeeper_certfile", BACKEND),
        "keyfile": creds.optional_file(credentials, "zookeeper_keyfile", BACKEND),
        "verify_certs": credentials.get("zookeeper_verify_certs") is not False,
    }
