"""The etcd backend's credentials, read once and checked; the password stays out of reprs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confo import credentials as creds
from confo.errors import CredentialsError, StoreURLError
from confo.urls import split_url

BACKEND = "etcd"
CREDENTIALS = (
    "host",
    "port",
    "endpoints",
    "user",
    "password",
    "ca_cert",
    "cert_cert",
    "cert_key",
    "operation_timeout",
    "max_txn_ops",
    "max_request_bytes",
)
"""Every credential the backend reads; any other is refused (a typo must not go unseen)."""
DEFAULT_PORT = 2379
DEFAULT_MAX_TXN_OPS = 128  # etcd's --max-txn-ops default
DEFAULT_MAX_REQUEST_BYTES = 1_400_000  # under etcd's --max-request-bytes default, 1.5 MiB


@dataclass(frozen=True)
class EtcdSettings:
    endpoints: list[tuple[str, int]]
    user: str | None
    password: str | None = field(repr=False)
    ca_cert: str | None
    cert_key: str | None
    cert_cert: str | None
    connect_timeout: float
    operation_timeout: float
    max_txn_ops: int
    max_request_bytes: int

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any], timeout: float) -> EtcdSettings:
        creds.refuse_unknown(credentials, CREDENTIALS, BACKEND)
        user = creds.optional_text(credentials, "user", BACKEND)
        password = creds.optional_text(credentials, "password", BACKEND)
        if (user is None) != (password is None):
            raise CredentialsError("The etcd backend needs both 'user' and 'password', or neither.")
        cert_key = creds.optional_file(credentials, "cert_key", BACKEND)
        cert_cert = creds.optional_file(credentials, "cert_cert", BACKEND)
        if (cert_key is None) != (cert_cert is None):
            raise CredentialsError(
                "The etcd backend needs both 'cert_key' and 'cert_cert' for a client certificate."
            )
        ca_cert = creds.optional_file(credentials, "ca_cert", BACKEND)
        if cert_key is not None and ca_cert is None:
            raise CredentialsError("A client certificate needs 'ca_cert' too (TLS).")
        return cls(
            endpoints=_endpoints(credentials),
            user=user,
            password=password,
            ca_cert=ca_cert,
            cert_key=cert_key,
            cert_cert=cert_cert,
            connect_timeout=timeout,
            operation_timeout=creds.seconds(credentials, "operation_timeout", BACKEND, 10.0),
            max_txn_ops=_at_least_one(credentials, "max_txn_ops", DEFAULT_MAX_TXN_OPS),
            max_request_bytes=_at_least_one(
                credentials, "max_request_bytes", DEFAULT_MAX_REQUEST_BYTES
            ),
        )

    def describe(self) -> str:
        """Where this backend connects, for messages: never the password."""
        scheme = "https" if self.ca_cert else "http"
        return ", ".join(f"{scheme}://{host}:{port}" for host, port in self.endpoints)


_OPTIONS = {
    "timeout": "timeout",
    "operation_timeout": "operation_timeout",
    "max_txn_ops": "max_txn_ops",
    "max_request_bytes": "max_request_bytes",
}
_TLS_OPTIONS = {"ca_cert": "ca_cert", "cert": "cert_cert", "key": "cert_key"}


def credentials_from_url(url: str, password: str | None) -> dict[str, Any] | None:
    """Credentials for ``etcd://[user[:password]@]host[:port][,host[:port]...]``, and
    ``etcds://...?ca_cert=PATH[&cert=PATH&key=PATH]`` for TLS; None for other schemes."""
    if url.partition("://")[0].lower() not in ("etcd", "etcds"):
        return None
    parts = split_url(url)
    if parts.path not in ("", "/"):
        raise StoreURLError(f"The URL {parts.url!r} has a path ({parts.path!r}): remove it.")
    user, secret = parts.login(password, user_required=True)
    options = parts.options({**_OPTIONS, **_TLS_OPTIONS})
    tls = parts.scheme == "etcds"
    if tls and "ca_cert" not in options:
        raise StoreURLError(
            f"The URL {parts.url!r} asks for TLS: add ?ca_cert=PATH, the PEM file of the CA "
            "that signed the servers' certificates."
        )
    if not tls and any(key in options for key in _TLS_OPTIONS.values()):
        raise StoreURLError(f"TLS options need an etcds:// URL, not {parts.url!r}.")
    return {
        "endpoints": parts.host_ports(DEFAULT_PORT),
        "user": user,
        "password": secret,
        **options,
    }


def _at_least_one(credentials: Mapping[str, Any], key: str, default: int) -> int:
    number = creds.integer(credentials, key, BACKEND, default)
    if number < 1:
        raise CredentialsError(f"Credential {key!r} of the etcd backend must be 1 or more, not 0.")
    return number


def _endpoints(credentials: Mapping[str, Any]) -> list[tuple[str, int]]:
    """``endpoints`` (["host:port", ...] or "h1:p1,h2:p2") for a cluster, else ``host``/``port``."""
    listed = credentials.get("endpoints")
    if listed is None:
        # No default host: a missing one is a mistake, not a wish for some local etcd.
        if "host" not in credentials:
            raise CredentialsError(
                "The etcd backend needs 'host' (and 'port', default 2379) or 'endpoints' in its "
                "credentials."
            )
        host = creds.text(credentials, "host", BACKEND)
        return [(host, creds.port(credentials, "port", BACKEND, DEFAULT_PORT))]
    entries = listed.split(",") if isinstance(listed, str) else list(listed)
    endpoints = []
    for entry in entries:
        if not isinstance(entry, str) or ":" not in entry:
            raise CredentialsError(
                f"Credential 'endpoints' must list 'host:port' entries (got {listed!r})."
            )
        host, _, port = entry.strip().rpartition(":")
        endpoints.append((host, creds.port({"port": port}, "port", BACKEND)))
    if not endpoints:
        raise CredentialsError("Credential 'endpoints' lists no endpoint.")
    return endpoints
