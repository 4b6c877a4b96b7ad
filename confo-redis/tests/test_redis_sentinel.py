"""High availability with Redis Sentinel, for real: a primary, a replica and three Sentinels on
loopback; the primary is SIGKILLed and Confo goes on with the replica the Sentinels promote."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis

from confo.errors import (
    BackendUnavailableError,
    ConflictError,
    CredentialsError,
    NamespaceNotFoundError,
)
from confo.testing import connected, unique
from confo_redis.testing import RedisServer, SentinelServer

# Real failovers take tens of seconds on a loaded machine: a generous bound, one worker.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.xdist_group("sentinel")]


def wait_for(condition: Callable[[], bool], within: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s: {what}")
        time.sleep(0.1)


def _info(port: int, section: str) -> dict[str, Any]:
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        return client.info(section)
    except redis.RedisError:
        return {}
    finally:
        client.close()


class Group:
    """One primary, one replica, three Sentinels (quorum 2), all started and in touch."""

    def __init__(self, stack: ExitStack) -> None:
        self.primary = stack.enter_context(RedisServer())
        self.replica = stack.enter_context(
            RedisServer(extra_args=("--replicaof", "127.0.0.1", str(self.primary.port)))
        )
        wait_for(
            lambda: _info(self.replica.port, "replication").get("master_link_status") == "up",
            what="the replica in sync",
        )
        self.sentinels = [stack.enter_context(SentinelServer(self.primary.port)) for _ in range(3)]
        # A failover needs the Sentinels to know each other and the replica (hello messages,
        # every two seconds).
        wait_for(self._in_touch, what="the Sentinels in touch")

    def _in_touch(self) -> bool:
        for sentinel in self.sentinels:
            client = redis.Redis(port=sentinel.port, socket_timeout=1)
            try:
                master = client.sentinel_master("confo")
                if int(master["num-other-sentinels"]) < 2 or int(master["num-slaves"]) < 1:
                    return False
            finally:
                client.close()
        return True

    def credentials(self, **extra: Any) -> dict[str, Any]:
        return {
            "redis_sentinels": [f"127.0.0.1:{s.port}" for s in self.sentinels],
            "redis_service": "confo",
            "timeout": 2,
            "operation_timeout": 2,
            **extra,
        }


@pytest.fixture
def group() -> Iterator[Group]:
    with ExitStack() as stack:
        yield Group(stack)


def test_failover_loses_no_acknowledged_persist(group: Group) -> None:
    acknowledged: dict[str, int] = {}
    with connected("redis", group.credentials(redis_wait_replicas=1)) as manager:
        ns = unique("ha")
        manager.create_namespace(ns)
        manager.use_namespace(ns)
        for i in range(30):
            manager.update(f"c{i}", lambda _, i=i: {"v": i})
            acknowledged[f"c{i}"] = i
        group.primary.kill()
        wait_for(
            lambda: group.sentinels[0].primary() == group.replica.port,
            within=60,
            what="the replica promoted",
        )
        # The promoted replica holds every acknowledged persist, and Confo reads it there.
        deadline = time.monotonic() + 30
        while True:
            try:
                manager.reload()
                break
            except BackendUnavailableError:
                assert time.monotonic() < deadline, "Confo did not reach the new primary"
                time.sleep(0.2)
        assert manager.get_all() == {name: {"v": v} for name, v in acknowledged.items()}
        # The old primary comes back empty; the Sentinels make it a replica of the new one,
        # after which writes are acknowledged again. Only once every Sentinel names the new
        # one: a Sentinel still naming the old primary would send clients to an empty store
        # (Sentinel's own window, docs/backends/redis.md).
        wait_for(
            lambda: all(s.primary() == group.replica.port for s in group.sentinels),
            within=60,
            what="every Sentinel naming the promoted replica",
        )
        group.primary.start()
        written_after = 0
        deadline = time.monotonic() + 60
        i = 30
        while written_after < 10:
            assert time.monotonic() < deadline, "no persist acknowledged after the failover"
            try:
                manager.update(f"c{i}", lambda _, i=i: {"v": i})
            # NamespaceNotFoundError: a pooled connection still reached the old primary, back
            # empty and not yet a replica (Sentinel's window); nothing is written there, and
            # what was acknowledged is checked on the new primary below.
            except (BackendUnavailableError, ConflictError, NamespaceNotFoundError):
                time.sleep(0.2)
            else:
                acknowledged[f"c{i}"] = i
                written_after += 1
            i += 1
    new_primary = redis.Redis(port=group.replica.port)
    try:
        assert new_primary.role()[0] == b"master"
        for name, v in acknowledged.items():
            assert json.loads(new_primary.get(f"{ns}-{name}")) == {"v": v}, name
    finally:
        new_primary.close()


def test_a_persist_no_replica_acknowledged_is_not_taken_for_done(group: Group) -> None:
    """The replica stopped (SIGSTOP): the write reaches the primary, WAIT times out, and the
    persist says so instead of returning; once the replica is back, it is acknowledged."""
    with connected("redis", group.credentials(redis_wait_replicas=1)) as manager:
        ns = unique("ha")
        manager.create_namespace(ns)
        manager.use_namespace(ns)
        manager.set("db", {"v": 1})
        manager.persist()
        assert group.replica.process is not None
        os.kill(group.replica.process.pid, signal.SIGSTOP)
        try:
            manager.set("db", "v", 2)
            with pytest.raises(BackendUnavailableError, match="0 of 1 replicas acknowledged"):
                manager.persist()
        finally:
            os.kill(group.replica.process.pid, signal.SIGCONT)
        manager.reload()  # the primary has the write: reading it back is how to know
        assert manager.get("db") == {"v": 2}
        manager.update("db", lambda config: {"v": 3})
    with connected("redis", group.credentials()) as reader:
        reader.use_namespace(ns)
        assert reader.get("db") == {"v": 3}


def test_sentinel_credentials_come_in_pairs() -> None:
    with pytest.raises(CredentialsError, match="redis_service"):
        connected("redis", {"redis_sentinels": ["127.0.0.1:26379"]})
    with pytest.raises(CredentialsError, match="redis_sentinels"):
        connected("redis", {"redis_sentinels": ["no-port"], "redis_service": "confo"})
