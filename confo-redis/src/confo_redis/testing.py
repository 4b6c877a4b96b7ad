"""A real ``redis-server`` on a free 127.0.0.1 port, for tests (yours too).

with RedisServer() as server:
    credentials = server.credentials()
"""

from __future__ import annotations

import socket
from typing import Any

from confo.testing import ServerProcess


class RedisServer(ServerProcess):
    """``redis-server`` with no persistence; ``extra_args`` add auth or ACL users."""

    name = "redis"

    def __init__(self, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        super().__init__(port)
        self.extra_args = extra_args

    def command(self) -> list[str]:
        return [
            "redis-server",
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.data_dir),
            *self.extra_args,
        ]  # fmt: skip

    def ready(self) -> bool:
        # Any reply counts, NOAUTH included: a server that demands a password is up.
        with socket.create_connection((self.host, self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))

    def credentials(self, **extra: Any) -> dict[str, Any]:
        return {"redis_host": self.host, "redis_port": self.port, **extra}
