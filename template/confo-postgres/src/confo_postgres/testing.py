"""A real PostgreSQL server on a free 127.0.0.1 port, and the store seen through plain SQL.

with PostgresServer() as server:
    credentials = server.credentials()

PostgreSQL refuses to run as root; run as root (as CI does), the server runs as the ``postgres``
user that Debian's package creates, in a data folder handed to it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pg8000.native

from confo.testing import ServerProcess

PACKAGED = Path("/usr/lib/postgresql")  # Debian's postgresql-N packages: <N>/bin
USER = "confo"
DATABASE = "postgres"  # the one initdb makes


def _program(name: str) -> str:
    """``name`` on PATH, else in the newest of Debian's packaged versions."""
    packaged = sorted(
        PACKAGED.glob(f"*/bin/{name}"), key=lambda path: int(path.parts[-3]), reverse=True
    )
    found = shutil.which(name) or (str(packaged[0]) if packaged else None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql")
    return found


class PostgresServer(ServerProcess):
    """``postgres`` with user ``confo`` and a password of its own (:attr:`password`), logins by
    password only (scram-sha-256), in the database ``postgres`` that initdb makes."""

    name = "postgres"

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.password = f"pw-{uuid.uuid4().hex}"
        self._as: list[str] = []

    def prepare(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
            self._as = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
        secret = self.data_dir / "password"
        secret.write_text(self.password)
        if self._as:
            os.chown(secret, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(
            _program("initdb"), "-D", str(self.data_dir / "data"), "-U", USER,
            "--auth=scram-sha-256", f"--pwfile={secret}", "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        secret.unlink()

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, cwd=self.data_dir)

    def command(self) -> list[str]:
        return [
            *self._as,
            _program("postgres"),
            "-D", str(self.data_dir / "data"),
            "-p", str(self.port),
            "-c", f"listen_addresses={self.host}",
            "-c", "unix_socket_directories=",
            # Faster for tests; a SIGKILLed server still keeps every commit (the kernel has it).
            "-c", "fsync=off",
            "-c", "full_page_writes=off",
        ]  # fmt: skip

    def ready(self) -> bool:
        try:
            db = self.connect(timeout=1)
        except pg8000.native.Error:
            return False
        db.close()
        return True

    def credentials(self, **extra: Any) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "database": DATABASE,
            "user": USER,
            "password": self.password,
            **extra,
        }

    def connect(self, timeout: float = 10) -> pg8000.native.Connection:
        """A plain connection as the superuser, for tests that set things up."""
        return pg8000.native.Connection(
            USER,
            host=self.host,
            port=self.port,
            database=DATABASE,
            password=self.password,
            timeout=timeout,
        )


class PostgresRaw:
    """The postgres backend's tables through plain SQL: a ``confo.testing.RawStore``."""

    def __init__(self, server: PostgresServer) -> None:
        self.db = server.connect()

    def put(self, namespace: str, config: str, data: bytes) -> None:
        # A new revision from the backend's sequence, as every writer of the tables must leave.
        self.db.run("BEGIN")
        self.db.run(
            "INSERT INTO confo_namespaces VALUES (:ns) ON CONFLICT DO NOTHING", ns=namespace
        )
        self.db.run(
            "INSERT INTO confo_configs VALUES (:ns, :name, :data, nextval('confo_revision')) "
            "ON CONFLICT (namespace, name) DO UPDATE "
            "SET data = excluded.data, revision = excluded.revision",
            ns=namespace,
            name=config,
            data=data,
        )
        self.db.run("SELECT pg_notify('confo', :ns)", ns=namespace)
        self.db.run("COMMIT")

    def get(self, namespace: str, config: str) -> bytes | None:
        rows = self.db.run(
            "SELECT data FROM confo_configs WHERE namespace = :ns AND name = :name",
            ns=namespace,
            name=config,
        )
        return bytes(rows[0][0]) if rows else None

    def close(self) -> None:
        self.db.close()
