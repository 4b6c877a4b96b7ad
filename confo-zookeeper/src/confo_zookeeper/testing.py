"""A real ZooKeeper server on a free 127.0.0.1 port, for tests (yours too).

Runs Debian's ``zookeeper`` package's jar directly: no service, a throwaway data folder, loopback
only, and a short tick so sessions and start-up are quick.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from confo.testing import (
    ServerGroup,
    ServerProcess,
    TLSFiles,
    free_port,
    make_tls_files,
    tcp_exchange,
)

# Debian's zookeeper.jar names most of its dependencies in its manifest; not the Netty codec and
# resolver that its TLS listener needs, nor a logger binding.
JARS = ["zookeeper", "zookeeper-jute", "slf4j-nop", "netty-codec", "netty-resolver"]
CLASSPATH = ":".join(f"/usr/share/java/{jar}.jar" for jar in JARS)


class ZookeeperServer(ServerProcess):
    """A standalone ZooKeeper; ``stop()`` and ``start()`` keep its data, for outage tests.

    ``tls=True`` serves TLS only (Netty, PEM files from a throwaway CA in :attr:`tls_files`).
    """

    name = "zookeeper"

    def __init__(
        self,
        port: int | None = None,
        *,
        tls: bool = False,
        server_id: int = 0,
        ensemble: tuple[str, ...] = (),
        settings: tuple[str, ...] = (),
    ) -> None:
        super().__init__(port)
        self.settings = settings  # more zoo.cfg lines ("maxClientCnxns=0")
        self.tls = tls
        self.tls_files: TLSFiles | None = None
        self.server_id = server_id
        self.ensemble = ensemble  # "server.N=host:peer:election" lines, for a cluster

    def prepare(self) -> None:
        settings = [
            "tickTime=200",
            "minSessionTimeout=400",
            "maxSessionTimeout=20000",
            f"dataDir={self.data_dir / 'data'}",
            "admin.enableServer=false",
            "4lw.commands.whitelist=srvr,ruok,mntr",  # mntr: watch counts for docs/scaling.md
        ]
        if self.tls:
            settings += self._tls_settings()
        else:
            settings += [f"clientPort={self.port}", f"clientPortAddress={self.host}"]
        if self.ensemble:
            # 10 s to join, 5 s to answer the leader (in ticks of 200 ms): shorter, a stalled
            # follower of a loaded machine drops out and the ensemble elects again and again.
            settings += ["initLimit=50", "syncLimit=25", *self.ensemble]
            (self.data_dir / "data").mkdir(exist_ok=True)
            (self.data_dir / "data" / "myid").write_text(f"{self.server_id}\n")
        (self.data_dir / "zoo.cfg").write_text("\n".join([*settings, *self.settings, ""]))

    def _tls_settings(self) -> list[str]:
        files = self.tls_files = make_tls_files(self.data_dir / "tls")
        keystore = self.data_dir / "tls" / "server-keystore.pem"  # ZooKeeper wants key and cert
        keystore.write_text(
            Path(files.server_key).read_text() + Path(files.server_cert).read_text()
        )
        return [
            f"secureClientPort={self.port}",
            f"secureClientPortAddress={self.host}",
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
            f"ssl.keyStore.location={keystore}",
            "ssl.keyStore.type=PEM",
            f"ssl.trustStore.location={files.ca_cert}",
            "ssl.trustStore.type=PEM",
            "ssl.clientAuth=none",
        ]

    def command(self) -> list[str]:
        return [
            "java",
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # start quickly; the tests are not long-running
            "-cp", CLASSPATH,
            # QuorumPeerMain forms an ensemble from server.N lines, and runs standalone without.
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            str(self.data_dir / "zoo.cfg"),
        ]  # fmt: skip

    def ready(self) -> bool:
        # An open port is not enough: the server answers srvr with "Mode:" once it serves.
        if not self.tls_files:
            return b"Mode:" in tcp_exchange(self.port, b"srvr")
        context = ssl.create_default_context(cafile=self.tls_files.ca_cert)
        with (
            socket.create_connection((self.host, self.port), timeout=1) as raw,
            context.wrap_socket(raw, server_hostname=self.host) as sock,
        ):
            sock.sendall(b"srvr")
            return b"Mode:" in sock.recv(4096)

    @property
    def hosts(self) -> str:
        return f"{self.host}:{self.port}"

    def credentials(self, **extra: Any) -> dict[str, Any]:
        credentials: dict[str, Any] = {"zookeeper_host": self.host, "zookeeper_port": self.port}
        if self.tls_files:
            credentials |= {"zookeeper_use_ssl": True, "zookeeper_ca": self.tls_files.ca_cert}
        return {**credentials, **extra}


class ZookeeperEnsemble(ServerGroup):
    """Several ZooKeeper servers on loopback forming one ensemble, for failover tests."""

    def __init__(self, size: int = 3) -> None:
        ids = range(1, size + 1)
        lines = tuple(f"server.{i}=127.0.0.1:{free_port()}:{free_port()}" for i in ids)
        self.members: list[ServerProcess] = [
            ZookeeperServer(server_id=i, ensemble=lines) for i in ids
        ]

    def credentials(self, **extra: Any) -> dict[str, Any]:
        hosts = [f"{member.host}:{member.port}" for member in self.members]
        return {"zookeeper_hosts": hosts, **extra}


class ZookeeperRaw:
    def __init__(self, client: KazooClient) -> None:
        self.client = client

    def put(self, namespace: str, config: str, data: bytes) -> None:
        path = f"/confo/{namespace}/{config}"
        self.client.ensure_path(f"/confo/{namespace}")
        if self.client.exists(path):
            self.client.set(path, data)
        else:
            self.client.create(path, data)

    def get(self, namespace: str, config: str) -> bytes | None:
        try:
            data, _ = self.client.get(f"/confo/{namespace}/{config}")
        except NoNodeError:
            return None
        return bytes(data)
