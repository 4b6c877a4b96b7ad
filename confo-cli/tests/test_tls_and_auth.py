"""TLS and passwords through URLs: rediss://, etcds:// with a user and with client certificates,
ZooKeeper digest users; passwords from the environment, never in any output."""

from __future__ import annotations

from clitest import run

from confo_etcd.testing import EtcdServer
from confo_redis.testing import RedisServer
from confo_zookeeper.testing import ZookeeperServer

PASSWORD = "canary-tls-Pa55"


def test_rediss_with_the_ca_certificate() -> None:
    with RedisServer(tls=True) as server:
        assert server.tls_files is not None
        url = f"rediss://127.0.0.1:{server.port}/0?ca_cert={server.tls_files.ca_cert}"
        assert run("set", url, "app", "db", "port", "5432").code == 0
        assert run("get", url, "app", "db", "port").out == "5432\n"
        plain = run("--timeout", "2", "ls", f"redis://127.0.0.1:{server.port}/0")
        assert plain.code == 3  # a TLS-only server does not speak plain Redis


def test_etcds_with_a_user_whose_password_comes_from_the_environment() -> None:
    with EtcdServer(tls=True) as server:
        assert server.tls_files is not None
        server.enable_auth(PASSWORD)
        url = f"etcds://root@127.0.0.1:{server.port}?ca_cert={server.tls_files.ca_cert}"
        written = run("set", url, "app", "db", "port", "5432", env={"CONFO_PASSWORD": PASSWORD})
        assert written.code == 0, written.err
        read = run("get", url, "app", "db", env={"CONFO_PASSWORD": PASSWORD})
        assert read.json() == {"port": 5432}
        refused = run("get", url, "app", "db", env={"CONFO_PASSWORD": f"wrong-{PASSWORD}"})
        assert refused.code == 3
        missing = run("get", url, "app", "db", env={"CONFO_PASSWORD": ""})
        assert missing.code == 2
        assert "CONFO_PASSWORD" in missing.err
        for result in (written, read, refused, missing):
            assert PASSWORD not in result.out + result.err


def test_etcds_with_a_client_certificate() -> None:
    with EtcdServer(client_cert_auth=True) as server:
        files = server.tls_files
        assert files is not None
        url = (
            f"etcds://127.0.0.1:{server.port}?ca_cert={files.ca_cert}"
            f"&cert={files.client_cert}&key={files.client_key}"
        )
        assert run("set", url, "app", "db", "port", "5432").code == 0
        assert run("ls", url, "app").out == "db\n"
        without = f"etcds://127.0.0.1:{server.port}?ca_cert={files.ca_cert}"
        assert run("--timeout", "2", "ls", without).code == 3


def test_zookeeper_digest_user() -> None:
    with ZookeeperServer() as server:
        url = f"zookeeper://ops@{server.hosts}"
        env = {"CONFO_PASSWORD": PASSWORD}
        assert run("set", url, "app", "db", "port", "5432", env=env).code == 0
        assert run("get", url, "app", "db", env=env).json() == {"port": 5432}
        # Confo's znodes admit only the identity that made them.
        other = run("get", url, "app", "db", env={"CONFO_PASSWORD": "other"})
        assert other.code != 0
        assert other.err.startswith("confo: error: ")
        assert PASSWORD not in other.out + other.err
