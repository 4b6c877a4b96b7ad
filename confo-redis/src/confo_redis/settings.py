"""The Redis backend's settings, from credentials or from a URL; the password stays out of reprs.

URLs: ``redis://[user[:password]@]host[:port][/db][?option=value...]``, and ``rediss://`` for
TLS. Options: ``key_prefix``, ``timeout``, ``operation_timeout``, ``watch_poll_interval``, and
for TLS ``ca_cert``, ``cert`` and ``key`` (paths to PEM files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confo import credentials as creds
from confo.errors import CredentialsError, StoreURLError
from confo.urls import split_url

BACKEND = "redis"
DEFAULT_PORT = 6379

CREDENTIALS = (
    "redis_host",
    "redis_port",
    "redis_db",
    "redis_username",
    "redis_password",
    "key_prefix",
    "redis_ssl",
    "redis_ssl_ca_certs",
    "redis_ssl_certfile",
    "redis_ssl_keyfile",
    "operation_timeout",
    "watch_poll_interval",
    "redis_sentinels",
    "redis_service",
    "redis_sentinel_password",
    "redis_wait_replicas",
)
"""Every credential the backend reads; any other is refused (a typo must not go unseen)."""

_OPTIONS = {
    "key_prefix": "key_prefix",
    "timeout": "timeout",
    "operation_timeout": "operation_timeout",
    "watch_poll_interval": "watch_poll_interval",
}
_TLS_OPTIONS = {
    "ca_cert": "redis_ssl_ca_certs",
    "cert": "redis_ssl_certfile",
    "key": "redis_ssl_keyfile",
}


@dataclass(frozen=True)
class RedisSettings:
    host: str
    port: int
    db: int
    username: str | None
    password: str | None = field(repr=False)
    key_prefix: str
    tls: bool
    ca_cert: str | None
    certfile: str | None
    keyfile: str | None
    operation_timeout: float
    watch_poll_interval: float
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    wait_replicas: int = 0

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> RedisSettings:
        creds.refuse_unknown(credentials, CREDENTIALS, BACKEND)
        sentinels = _sentinels(credentials)
        service = creds.optional_text(credentials, "redis_service", BACKEND)
        if bool(sentinels) != (service is not None):
            raise CredentialsError(
                "The redis backend needs both 'redis_sentinels' (the Sentinels' 'host:port') "
                "and 'redis_service' (the name they monitor the primary under), or neither."
            )
        host = sentinels[0][0] if sentinels else creds.text(credentials, "redis_host", BACKEND)
        return cls(
            host=host,
            port=creds.port(credentials, "redis_port", BACKEND, DEFAULT_PORT),
            db=creds.integer(credentials, "redis_db", BACKEND, 0),
            username=creds.optional_text(credentials, "redis_username", BACKEND),
            password=creds.optional_text(credentials, "redis_password", BACKEND),
            key_prefix=creds.optional_text(credentials, "key_prefix", BACKEND) or "",
            tls=creds.flag(credentials, "redis_ssl", BACKEND),
            ca_cert=creds.optional_file(credentials, "redis_ssl_ca_certs", BACKEND),
            certfile=creds.optional_file(credentials, "redis_ssl_certfile", BACKEND),
            keyfile=creds.optional_file(credentials, "redis_ssl_keyfile", BACKEND),
            operation_timeout=creds.seconds(credentials, "operation_timeout", BACKEND, 10.0),
            watch_poll_interval=creds.seconds(credentials, "watch_poll_interval", BACKEND, 1.0),
            sentinels=sentinels,
            service=service,
            sentinel_password=creds.optional_text(credentials, "redis_sentinel_password", BACKEND),
            wait_replicas=creds.integer(credentials, "redis_wait_replicas", BACKEND, 0),
        )

    def describe(self) -> str:
        """Where this backend connects, for messages: never the password."""
        scheme = "rediss" if self.tls else "redis"
        if self.service is not None:
            listed = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"{scheme} service {self.service!r} of the Sentinels {listed} (db {self.db})"
        return f"{scheme}://{self.host}:{self.port}/{self.db}"


def _sentinels(credentials: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """``redis_sentinels``: ["host:port", ...] or "h1:p1,h2:p2"; () when absent."""
    listed = credentials.get("redis_sentinels")
    if listed is None:
        return ()
    entries = listed.split(",") if isinstance(listed, str) else listed
    sentinels = []
    for entry in entries if isinstance(entries, (list, tuple)) else [None]:
        host, _, port = entry.strip().rpartition(":") if isinstance(entry, str) else ("", "", "")
        if not host:
            raise CredentialsError(
                "Credential 'redis_sentinels' must list the Sentinels as 'host:port' entries, "
                f"as a list or separated by commas (got {listed!r})."
            )
        sentinels.append((host, creds.port({"port": port}, "port", BACKEND)))
    if not sentinels:
        raise CredentialsError("Credential 'redis_sentinels' lists no Sentinel.")
    return tuple(sentinels)


def credentials_from_url(url: str, password: str | None) -> dict[str, Any] | None:
    """Credentials for a ``redis://`` or ``rediss://`` URL; None for any other scheme."""
    if url.partition("://")[0].lower() not in ("redis", "rediss"):
        return None
    parts = split_url(url)
    tls = parts.scheme == "rediss"
    host, port = parts.single_host(DEFAULT_PORT)
    db = parts.path.strip("/") or "0"
    if not db.isascii() or not db.isdigit():
        raise StoreURLError(
            f"The path of {parts.url!r} must be a database number, like /0 (got {parts.path!r})."
        )
    options = parts.options({**_OPTIONS, **_TLS_OPTIONS})
    if not tls and any(key in options for key in _TLS_OPTIONS.values()):
        raise StoreURLError(f"TLS options need a rediss:// URL, not {parts.url!r}.")
    user, secret = parts.login(password, user_required=False)
    credentials: dict[str, Any] = {
        "redis_host": host,
        "redis_port": port,
        "redis_db": int(db),
        "redis_username": user,
        "redis_password": secret,
        "redis_ssl": tls,
        **options,
    }
    return credentials
