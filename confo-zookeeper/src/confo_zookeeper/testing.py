"""A real ZooKeeper server on a free 127.0.0.1 port, for tests (yours too).

Runs Debian's ``zookeeper`` package's jar directly: no service, a throwaway data folder, loopback
only, and a short tick so sessions and start-up are quick.
"""

from __future__ import annotations

from typing import Any

from confo.testing import ServerProcess, tcp_exchange

CLASSPATH = (
    "/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-nop.jar"
)


class ZookeeperServer(ServerProcess):
    """A standalone ZooKeeper; ``stop()`` and ``start()`` keep its data, for outage tests."""

    name = "zookeeper"

    def prepare(self) -> None:
        (self.data_dir / "zoo.cfg").write_text(
            "\n".join(
                [
                    "tickTime=200",
                    "minSessionTimeout=400",
                    "maxSessionTimeout=20000",
                    f"dataDir={self.data_dir / 'data'}",
                    f"clientPort={self.port}",
                    f"clientPortAddress={self.host}",
                    "admin.enableServer=false",
                    "4lw.commands.whitelist=srvr,ruok",
                    "",
                ]
            )
        )

    def command(self) -> list[str]:
        return [
            "java",
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # start quickly; the tests are not long-running
            "-cp", CLASSPATH,
            "org.apache.zookeeper.server.ZooKeeperServerMain",
            str(self.data_dir / "zoo.cfg"),
        ]  # fmt: skip

    def ready(self) -> bool:
        # An open port is not enough: the server answers srvr with "Mode:" once it serves.
        return b"Mode:" in tcp_exchange(self.port, b"srvr")

    @property
    def hosts(self) -> str:
        return f"{self.host}:{self.port}"

    def credentials(self, **extra: Any) -> dict[str, Any]:
        return {"zookeeper_host": self.host, "zookeeper_port": str(self.port), **extra}
