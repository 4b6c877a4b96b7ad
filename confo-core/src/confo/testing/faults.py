"""Conformance tests for a store reached over a network that fails: watches that know when they
are current, reconnects that back off, and writes whose answers are lost.

Part of :class:`~confo.testing.NetworkConformance`, with its fixtures ``restartable`` (a real
server of the store and credentials for it) and ``routed`` (those credentials aimed at a
:class:`~confo.testing.TCPProxy`). Each test runs against a real server; the proxy cuts,
freezes or loses what the server answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

from confo.errors import BackendUnavailableError, ConflictError
from confo.testing.helpers import connected, eventually, stored, unique
from confo.testing.proxy import TCPProxy
from confo.testing.servers import ServerProcess
from confo.testing.watching import WITHIN, Recorder, until

SLACK = 5.0
"""Seconds beyond a promised bound that a loaded machine may add: a bound, not a benchmark."""
UNHEALTHY_WITHIN = 15.0  # SPEC: a lost or silent connection shows within 15 s
HEALTHY_WITHIN = 12.0  # SPEC: current again within 12 s of the store being reachable
REFUSED_FOR = 20.0
MAX_ATTEMPTS = 30  # SPEC: at most 30 connection attempts over 20 s of refusal

Routed = Callable[[Mapping[str, Any], int], Mapping[str, Any]]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.partition(".")[0] == "confo" and record.levelno >= logging.WARNING
    ]


class NetworkFaultConformance:
    """What a network store's failures do to watches and writes."""

    backend_type: ClassVar[str]

    def test_a_frozen_connection_shows_and_recovers(
        self,
        restartable: tuple[ServerProcess, Mapping[str, Any]],
        routed: Routed,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The watcher's path goes silent (no byte, no reset): its watch turns unhealthy within
        15 s with one warning, and healthy again within 12 s of the path answering, caught up
        with what changed meanwhile."""
        server, credentials = restartable
        caplog.set_level(logging.INFO, logger="confo")
        with (
            TCPProxy(server.port) as proxy,
            connected(self.backend_type, routed(credentials, proxy.port)) as watcher,
            connected(self.backend_type, credentials) as writer,
        ):
            watcher.create_namespace("frozen")
            watcher.use_namespace("frozen")
            writer.use_namespace("frozen")
            with watcher.watch(Recorder()) as watch:
                until(lambda: watch.healthy)
                caplog.clear()
                proxy.freeze()
                frozen = time.monotonic()
                until(lambda: not watch.healthy, within=UNHEALTHY_WITHIN + SLACK)
                assert time.monotonic() - frozen < UNHEALTHY_WITHIN + SLACK
                assert watch.synced_at is not None
                writer.set("db", {"v": "while frozen"})
                writer.persist()
                proxy.thaw()
                thawed = time.monotonic()
                until(lambda: watch.healthy, within=HEALTHY_WITHIN + SLACK)
                assert time.monotonic() - thawed < HEALTHY_WITHIN + SLACK
                until(lambda: watcher.get("db", default=None) == {"v": "while frozen"})
        assert len(_warnings(caplog)) == 1, _warnings(caplog)
        assert any("current again" in r.getMessage() for r in caplog.records)

    def test_reconnects_back_off_while_the_store_refuses(
        self,
        restartable: tuple[ServerProcess, Mapping[str, Any]],
        routed: Routed,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """20 s of every connection refused: at most 30 attempts by the manager in all (its
        own connection and its watch's), one warning, and back once the store is."""
        server, credentials = restartable
        caplog.set_level(logging.INFO, logger="confo")
        with (
            TCPProxy(server.port) as proxy,
            connected(self.backend_type, routed(credentials, proxy.port)) as watcher,
        ):
            watcher.create_namespace("refused")
            watcher.use_namespace("refused")
            with watcher.watch(Recorder()) as watch:
                until(lambda: watch.healthy)
                caplog.clear()
                before = proxy.attempts
                proxy.cut()
                time.sleep(REFUSED_FOR)
                attempts = proxy.attempts - before
                proxy.restore()
                until(lambda: watch.healthy, within=HEALTHY_WITHIN + SLACK)
        assert attempts <= MAX_ATTEMPTS, f"{attempts} connection attempts in {REFUSED_FOR}s"
        assert len(_warnings(caplog)) == 1, _warnings(caplog)

    def test_a_write_whose_answer_the_network_lost(
        self, restartable: tuple[ServerProcess, Mapping[str, Any]], routed: Routed
    ) -> None:
        """The request reaches the server, its answer never comes back, then the connection is
        reset: the same manager goes on persisting, with no false conflict and nothing lost."""
        server, credentials = restartable
        short = {**credentials, "operation_timeout": 2, "timeout": 2}
        with (
            TCPProxy(server.port) as proxy,
            connected(self.backend_type, routed(short, proxy.port)) as manager,
            connected(self.backend_type, credentials) as reader,
        ):
            manager.create_namespace("lost")
            manager.use_namespace("lost")
            manager.set("db", {"v": 1})
            manager.persist()
            proxy.lose_replies()
            manager.set("db", "v", 2)
            with pytest.raises(BackendUnavailableError):
                manager.persist()
            proxy.cut()  # the connection is reset, as a dead peer's would be
            proxy.restore()
            reader.use_namespace("lost")
            assert reader.get("db")["v"] in (1, 2)  # applied, or not: both must end well
            manager.set("db", "v", 3)
            eventually(manager.persist)  # a ConflictError here would be the wedge
            reader.reload()
            assert reader.get("db") == {"v": 3}
            manager.set("db", "v", 4)
            manager.persist()
            reader.reload()
            assert reader.get("db") == {"v": 4}

    def test_a_write_applied_then_reset_is_not_retried_into_a_conflict(
        self, restartable: tuple[ServerProcess, Mapping[str, Any]], routed: Routed
    ) -> None:
        """The store applies the write, then the connection is reset before the answer (a
        server killed there), with the store reachable again at once. A client library that
        reconnects and runs the write again would meet its own value and call it a conflict
        (redis-py's transaction() did): the persist may fail as unavailable, never as a
        conflict, and the same manager goes on persisting."""
        server, credentials = restartable
        # The persist must still wait for its answer when the cut comes, however slow the
        # machine: its timeout is well past the wait for the store to hold the value.
        slow = {**credentials, "operation_timeout": 2 * WITHIN}
        with (
            TCPProxy(server.port) as proxy,
            connected(self.backend_type, routed(slow, proxy.port)) as manager,
            connected(self.backend_type, credentials) as reader,
        ):
            manager.create_namespace("reset")
            manager.use_namespace("reset")
            manager.set("db", {"v": 1})
            manager.persist()
            reader.use_namespace("reset")
            outcome: list[BaseException | None] = []

            def persist() -> None:
                try:
                    manager.persist()
                except BaseException as exc:  # judged below, in the test's thread
                    outcome.append(exc)
                else:
                    outcome.append(None)

            marker = f"applied-{unique()}"
            proxy.lose_replies_after(marker.encode())
            manager.set("db", "v", marker)
            thread = threading.Thread(target=persist, daemon=True)
            thread.start()
            until(lambda: stored(reader, "reset") == {"v": marker})  # its answer held back
            proxy.cut()  # reset, as a killed server's connections are
            proxy.restore()  # and reachable again at once, for a library's retry
            thread.join(2 * WITHIN + 10)
            assert outcome, "persist did not return"
            assert not isinstance(outcome[0], ConflictError), outcome[0]
            assert outcome[0] is None or isinstance(outcome[0], BackendUnavailableError)
            manager.set("db", "v", 3)
            eventually(manager.persist)
            assert stored(reader, "reset") == {"v": 3}

    def test_a_writer_goes_on_across_a_server_kill(
        self, restartable: tuple[ServerProcess, Mapping[str, Any]]
    ) -> None:
        """A writer persisting in a loop while its server is killed with SIGKILL and started
        again: it never meets a false conflict, and the store ends with its last write."""
        server, credentials = restartable
        with connected(self.backend_type, credentials) as writer:
            writer.create_namespace("killed")
            writer.use_namespace("killed")
            stop, acknowledged, conflicts = threading.Event(), [0], []

            def write() -> None:
                value = 0
                while True:
                    value += 1
                    writer.set("db", {"v": value})
                    try:
                        writer.persist()
                    except BackendUnavailableError:
                        time.sleep(0.05)
                        continue
                    except ConflictError as exc:
                        conflicts.append(exc)
                        return
                    acknowledged[0] = value
                    if stop.is_set():
                        return

            thread = threading.Thread(target=write, daemon=True)
            thread.start()
            until(lambda: acknowledged[0] > 20)
            server.kill()
            server.start()
            mark = acknowledged[0]
            until(lambda: acknowledged[0] > mark + 20 or bool(conflicts), within=45)
            stop.set()
            thread.join(30)
            assert not conflicts, conflicts
            assert not thread.is_alive()
        with connected(self.backend_type, credentials) as reader:
            reader.use_namespace("killed")
            assert reader.get("db") == {"v": acknowledged[0]}
