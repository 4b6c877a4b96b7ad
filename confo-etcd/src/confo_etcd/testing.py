"""A real etcd on free 127.0.0.1 ports, for tests (yours too): plain, or TLS with a user.

etcd only accepts a user and password over TLS, so :class:`EtcdServer` can serve with a
throwaway CA's certificate (made with ``trustme``) and turn auth on with ``etcdctl``.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request
from typing import Any

from confo.testing import ServerProcess, free_port


class EtcdServer(ServerProcess):
    """A one-member etcd with fast elections; ``tls=True`` serves HTTPS with a throwaway CA."""

    name = "etcd"

    def __init__(self, port: int | None = None, *, tls: bool = False) -> None:
        super().__init__(port)
        self.peer_port = free_port()
        self.tls = tls
        self.ca_cert: str | None = None
        self.server_cert: str | None = None
        self.server_key: str | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def client_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def prepare(self) -> None:
        if self.tls:
            self._make_certificates()

    def _make_certificates(self) -> None:
        import trustme  # noqa: PLC0415 - a test-only dependency, needed for TLS servers only

        ca = trustme.CA()
        issued = ca.issue_cert("127.0.0.1", "localhost")
        folder = self.data_dir / "tls"
        folder.mkdir()
        self.ca_cert = str(folder / "ca.pem")
        self.server_cert = str(folder / "server.pem")
        self.server_key = str(folder / "server-key.pem")
        ca.cert_pem.write_to_path(self.ca_cert)
        issued.cert_chain_pems[0].write_to_path(self.server_cert)
        issued.private_key_pem.write_to_path(self.server_key)

    def command(self) -> list[str]:
        peer = f"http://{self.host}:{self.peer_port}"
        command = [
            "etcd",
            "--name", "default",
            "--data-dir", str(self.data_dir / "data"),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"default={peer}",
            # The two timing flags take start-up from ~670 ms to ~75 ms.
            "--heartbeat-interval", "10",
            "--election-timeout", "100",
            "--log-level", "warn",
        ]  # fmt: skip
        if self.tls:
            command += ["--cert-file", str(self.server_cert), "--key-file", str(self.server_key)]
        return command

    def ready(self) -> bool:
        context = ssl.create_default_context(cafile=self.ca_cert) if self.tls else None
        health = f"{self.client_url}/health"  # http or https, built here: no other scheme
        with urllib.request.urlopen(health, timeout=1, context=context) as r:  # noqa: S310
            return bool(json.loads(r.read()).get("health") == "true")

    def etcdctl(self, *args: str, user: str | None = None) -> str:
        """Run etcdctl against this server; returns its output."""
        command = ["etcdctl", f"--endpoints={self.client_url}"]
        if self.ca_cert:
            command.append(f"--cacert={self.ca_cert}")
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
        if self.ca_cert:
            credentials["ca_cert"] = self.ca_cert
        return {**credentials, **extra}


def etcdctl_value(server: EtcdServer, key: str) -> str:
    """The value of ``key`` as ``etcdctl get --print-value-only`` prints it."""
    return server.etcdctl("get", key, "--print-value-only").rstrip("\n")


__all__ = ["EtcdServer", "etcdctl_value"]
