"""A real etcd on free 127.0.0.1 ports, for tests (yours too): plain, TLS, or mutual TLS.

etcd only accepts a user and password over TLS, so :class:`EtcdServer` can serve with a
throwaway CA's certificate, ask clients for theirs, and turn auth on with ``etcdctl``.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request
from typing import Any

from confo.testing import ServerGroup, ServerProcess, TLSFiles, free_port, make_tls_files


class EtcdServer(ServerProcess):
    """A one-member etcd with fast elections.

    ``tls=True`` serves HTTPS with a throwaway CA; ``client_cert_auth=True`` also requires a
    client certificate signed by it (:attr:`tls_files` has one).
    """

    name = "etcd"

    def __init__(
        self,
        port: int | None = None,
        *,
        tls: bool = False,
        client_cert_auth: bool = False,
        extra_args: tuple[str, ...] = (),
        member: str = "default",
        peer_port: int | None = None,
        initial_cluster: str | None = None,
    ) -> None:
        super().__init__(port)
        self.extra_args = extra_args
        self.member = member
        self.peer_port = peer_port or free_port()
        self.initial_cluster = initial_cluster or f"{member}={self.peer_url}"
        self.tls = tls or client_cert_auth
        self.client_cert_auth = client_cert_auth
        self.tls_files: TLSFiles | None = None

    @property
    def peer_url(self) -> str:
        return f"http://{self.host}:{self.peer_port}"

    @property
    def client_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ca_cert(self) -> str | None:
        return self.tls_files.ca_cert if self.tls_files else None

    def prepare(self) -> None:
        if self.tls:
            self.tls_files = make_tls_files(self.data_dir / "tls")

    def command(self) -> list[str]:
        # The timing flags take a single member's start-up from ~670 ms to ~75 ms. A cluster's
        # members get five times as long: at 100 ms, a loaded machine's stall starts elections
        # over and over, and requests fail with "leader changed".
        heartbeat, election = ("50", "500") if "," in self.initial_cluster else ("10", "100")
        command = [
            "etcd",
            "--name", self.member,
            "--data-dir", str(self.data_dir / "data"),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", self.initial_cluster,
            "--heartbeat-interval", heartbeat,
            "--election-timeout", election,
            "--log-level", "warn",
        ]  # fmt: skip
        if self.tls_files:
            files = self.tls_files
            command += ["--cert-file", files.server_cert, "--key-file", files.server_key]
        if self.tls_files and self.client_cert_auth:
            command += ["--client-cert-auth", "--trusted-ca-file", self.tls_files.ca_cert]
        return [*command, *self.extra_args]

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls_files:
            return None
        context = ssl.create_default_context(cafile=self.tls_files.ca_cert)
        if self.client_cert_auth:
            context.load_cert_chain(self.tls_files.client_cert, self.tls_files.client_key)
        return context

    def ready(self) -> bool:
        health = f"{self.client_url}/health"  # http or https, built here: no other scheme
        with urllib.request.urlopen(health, timeout=1, context=self._ssl_context()) as r:  # noqa: S310
            return bool(json.loads(r.read()).get("health") == "true")

    def etcdctl(self, *args: str, user: str | None = None) -> str:
        """Run etcdctl against this server; returns its output."""
        command = ["etcdctl", f"--endpoints={self.client_url}"]
        if self.tls_files:
            command.append(f"--cacert={self.tls_files.ca_cert}")
        if self.tls_files and self.client_cert_auth:
            command += [
                f"--cert={self.tls_files.client_cert}",
                f"--key={self.tls_files.client_key}",
            ]
        if user:
            command.append(f"--user={user}")
        result = subprocess.run(
            [*command, *args], capture_output=True, text=True, check=True, timeout=30
        )
        return result.stdout

    def enable_auth(self, root_password: str) -> None:
        """Create the root user and turn authentication on (etcd requires TLS for passwords)."""
        self.etcdctl("user", "add", f"root:{root_password}")
        self.etcdctl("auth", "enable")

    def credentials(self, **extra: Any) -> dict[str, Any]:
        credentials: dict[str, Any] = {"host": self.host, "port": self.port}
        if self.tls_files:
            credentials["ca_cert"] = self.tls_files.ca_cert
        return {**credentials, **extra}


class EtcdCluster(ServerGroup):
    """Several etcd members on loopback: a real cluster, for failover tests."""

    def __init__(self, size: int = 3) -> None:
        peers = {f"m{i}": free_port() for i in range(size)}
        cluster = ",".join(f"{name}=http://127.0.0.1:{port}" for name, port in peers.items())
        self.members: list[ServerProcess] = [
            EtcdServer(member=name, peer_port=port, initial_cluster=cluster)
            for name, port in peers.items()
        ]

    def credentials(self, **extra: Any) -> dict[str, Any]:
        endpoints = [f"{member.host}:{member.port}" for member in self.members]
        return {"endpoints": endpoints, **extra}


def etcdctl_value(server: EtcdServer, key: str) -> str:
    """The value of ``key`` as ``etcdctl get --print-value-only`` prints it."""
    return server.etcdctl("get", key, "--print-value-only").rstrip("\n")


class EtcdctlRaw:
    """Reads and writes keys with etcdctl, as an operator would."""

    def __init__(self, server: EtcdServer) -> None:
        self.server = server

    def put(self, namespace: str, config: str, data: bytes) -> None:
        # etcdctl reads the value from stdin when none is given: any bytes pass unchanged. An
        # empty stdin is refused, so an empty value is given as an argument.
        subprocess.run(
            [
                "etcdctl",
                f"--endpoints={self.server.client_url}",
                "put",
                f"/confo/{namespace}/{config}",
                *([] if data else [""]),
            ],
            input=data,
            capture_output=True,
            check=True,
        )

    def get(self, namespace: str, config: str) -> bytes | None:
        result = subprocess.run(
            [
                "etcdctl",
                f"--endpoints={self.server.client_url}",
                "get",
                f"/confo/{namespace}/{config}",
                "--print-value-only",
            ],
            capture_output=True,
            check=True,
        )
        return result.stdout[:-1] if result.stdout else None  # etcdctl adds a newline


__all__ = ["EtcdCluster", "EtcdServer", "EtcdctlRaw", "etcdctl_value"]
