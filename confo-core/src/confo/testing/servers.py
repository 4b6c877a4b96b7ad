"""Start a real server as a plain process on a free 127.0.0.1 port, for tests.

Each backend subclasses :class:`ServerProcess` with its server's command line and readiness
check (``confo_redis.testing.RedisServer`` ...). Users can start the same servers to test their
own code against a real store.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar

S = TypeVar("S", bound="ServerProcess")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerError(RuntimeError):
    """The server did not start; the message ends with the tail of its log."""


class ServerProcess:
    """A server process with a throwaway data folder, started and stopped on demand.

    Subclasses set :attr:`name` and implement :meth:`command` and :meth:`ready`. ``stop()`` then
    ``start()`` restarts on the same port with the same data, to test outages and recovery.
    """

    name = "server"
    host = "127.0.0.1"
    start_timeout = 60.0

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"confo-{self.name}-"))
        self.log_path = self.data_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._prepared = False

    def command(self) -> list[str]:
        """The command line that runs the server in the foreground."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether the server answers requests (an open port is not always enough)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Write config files into :attr:`data_dir` before the first start, if needed."""

    def start(self: S) -> S:
        """Start the server and wait until it answers."""
        self.spawn()
        self.wait_ready()
        return self

    def spawn(self) -> None:
        """Start the process without waiting: members of a cluster wait for each other."""
        if not self._prepared:  # once: a restart keeps the data, config and certificates
            self.prepare()
            self._prepared = True
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self) -> None:
        """Wait until the spawned server answers; raise ServerError if it dies or takes too long."""
        assert self.process is not None, "spawn() first"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with {self.process.returncode}.{self._tail()}"
                )
            if self._ready_quietly():
                return
            time.sleep(0.02)
        self.stop()
        raise ServerError(f"{self.name} was not ready in {self.start_timeout}s.{self._tail()}")

    def _ready_quietly(self) -> bool:
        try:
            return self.ready()
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (its data stays, for a later ``start``)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (its data stays, for a later ``start``)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()[-20:]
        except OSError:
            return ""
        return "\n--- last lines of its log ---\n" + "\n".join(lines)


def tcp_exchange(port: int, request: bytes, host: str = "127.0.0.1", timeout: float = 1.0) -> bytes:
    """Send ``request`` and read until the server closes: for ZooKeeper's four-letter words."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of a throwaway CA, a server certificate for 127.0.0.1, and a client one."""

    ca_cert: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str


def make_tls_files(folder: Path) -> TLSFiles:
    """Issue throwaway certificates into ``folder`` (needs ``trustme``, a test dependency)."""
    import trustme  # noqa: PLC0415 - only servers that speak TLS need it

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("confo-test-client")
    folder.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(
        ca_cert=str(folder / "ca.pem"),
        server_cert=str(folder / "server.pem"),
        server_key=str(folder / "server-key.pem"),
        client_cert=str(folder / "client.pem"),
        client_key=str(folder / "client-key.pem"),
    )
    ca.cert_pem.write_to_path(files.ca_cert)
    server.cert_chain_pems[0].write_to_path(files.server_cert)
    client.cert_chain_pems[0].write_to_path(files.client_cert)
    Path(files.server_key).write_bytes(_pkcs8(server.private_key_pem.bytes()))
    Path(files.client_key).write_bytes(_pkcs8(client.private_key_pem.bytes()))
    return files


def _pkcs8(pem: bytes) -> bytes:
    """The key as PKCS#8, which OpenSSL (Redis), Go (etcd) and Java (ZooKeeper) all read."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - with trustme

    key = serialization.load_pem_private_key(pem, password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


G = TypeVar("G", bound="ServerGroup")


class ServerGroup:
    """Servers that start together, as the members of a cluster must: each is ready only once
    the others run. Subclasses fill :attr:`members`."""

    members: list[ServerProcess]

    def __enter__(self: G) -> G:
        for member in self.members:
            member.spawn()
        for member in self.members:
            member.wait_ready()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for member in self.members:
            member.cleanup()
