"""A real ``redis-server`` on a free 127.0.0.1 port, for tests (yours too).

with RedisServer() as server:
    credentials = server.credentials()

:class:`SentinelServer` monitors one, for failover tests.
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import redis

from confo.testing import ServerProcess, TLSFiles, make_tls_files


class RedisServer(ServerProcess):
    """``redis-server`` with no persistence; ``extra_args`` add auth or ACL users, ``tls=True``
    serves TLS only, with a throwaway CA's certificate (:attr:`tls_files`)."""

    name = "redis"

    def __init__(
        self, port: int | None = None, extra_args: tuple[str, ...] = (), *, tls: bool = False
    ) -> None:
        super().__init__(port)
        self.extra_args = extra_args
        self.tls = tls
        self.tls_files: TLSFiles | None = None

    def prepare(self) -> None:
        if self.tls:
            self.tls_files = make_tls_files(self.data_dir / "tls")

    def command(self) -> list[str]:
        listen = ["--port", str(self.port)]
        if self.tls_files:
            files = self.tls_files
            listen = [
                "--port", "0",
                "--tls-port", str(self.port),
                "--tls-cert-file", files.server_cert,
                "--tls-key-file", files.server_key,
                "--tls-ca-cert-file", files.ca_cert,
                "--tls-auth-clients", "no",
            ]  # fmt: skip
        return [
            "redis-server",
            *listen,
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.data_dir),
            *self.extra_args,
        ]  # fmt: skip

    def ready(self) -> bool:
        # Any reply counts, NOAUTH included: a server that demands a password is up.
        with socket.create_connection((self.host, self.port), timeout=1) as raw:
            sock = raw
            if self.tls_files:
                context = ssl.create_default_context(cafile=self.tls_files.ca_cert)
                sock = context.wrap_socket(raw, server_hostname=self.host)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))

    def credentials(self, **extra: Any) -> dict[str, Any]:
        credentials: dict[str, Any] = {"redis_host": self.host, "redis_port": self.port}
        if self.tls_files:
            credentials |= {"redis_ssl": True, "redis_ssl_ca_certs": self.tls_files.ca_cert}
        return {**credentials, **extra}


class SentinelServer(ServerProcess):
    """``redis-server --sentinel`` on a free 127.0.0.1 port, monitoring the primary at
    ``primary_port`` as ``service``. Quick to act, for tests: a primary silent for a second is
    down, and a failover is given three seconds."""

    name = "redis-sentinel"

    def __init__(self, primary_port: int, service: str = "confo", quorum: int = 2) -> None:
        super().__init__()
        self.primary_port = primary_port
        self.service = service
        self.quorum = quorum

    def prepare(self) -> None:
        # Sentinel rewrites its configuration file as it learns: it must be its own, writable.
        (self.data_dir / "sentinel.conf").write_text(
            f"port {self.port}\n"
            f"bind {self.host}\n"
            f"dir {self.data_dir}\n"
            f"sentinel monitor {self.service} {self.host} {self.primary_port} {self.quorum}\n"
            f"sentinel down-after-milliseconds {self.service} 1000\n"
            f"sentinel failover-timeout {self.service} 3000\n"
            f"sentinel parallel-syncs {self.service} 1\n"
        )

    def command(self) -> list[str]:
        return ["redis-server", str(self.data_dir / "sentinel.conf"), "--sentinel"]

    def ready(self) -> bool:
        with socket.create_connection((self.host, self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")

    def primary(self) -> int | None:
        """The port of the primary this Sentinel names now."""
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1)
        try:
            address = client.sentinel_get_master_addr_by_name(self.service)
        finally:
            client.close()
        return int(address[1]) if isinstance(address, (tuple, list)) else None


class RedisRaw:
    """Writes the original Confo layout with a plain client, as another tool would."""

    def __init__(self, client: redis.Redis) -> None:  # with decode_responses=False
        self.client = client

    def _add(self, key: str, field: str, name: str) -> None:
        raw = self.client.get(key)
        index = json.loads(raw) if raw else {field: []}
        if name not in index[field]:
            index[field].append(name)
        self.client.set(key, json.dumps(index))

    def put(self, namespace: str, config: str, data: bytes) -> None:
        self._add("confo", "namespaces", namespace)
        self._add(namespace, "configurations", config)
        self.client.set(f"{namespace}-{config}", data)

    def get(self, namespace: str, config: str) -> bytes | None:
        value = self.client.get(f"{namespace}-{config}")
        return value.encode() if isinstance(value, str) else value
