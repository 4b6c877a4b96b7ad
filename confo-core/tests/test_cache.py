"""The last-known-good cache itself: real processes sharing one, SIGKILLed while they write,
and files that must never be served. (What every backend saves, and offline starts on real
servers, are in the conformance suite: confo.testing.lastgood.)"""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from confo.cache import SnapshotCache
from confo.errors import CredentialsError, FileNotFoundException
from confo.manager import Confo
from confo.model import Snapshot
from confo.session import NamespaceState

# One process of a service: reads its namespace and persists a counter as fast as it can, so
# that its cache file is rewritten all the time, with other values each time.
WORKER = """
import sys
from confo.manager import Confo
root, cache = sys.argv[1], sys.argv[2]
manager = Confo()
manager.load_backend({"config_path": root, "cache_dir": cache}, "files", "file")
manager.activate_backend("files")
manager.use_namespace("app")
print("ready", flush=True)
while True:
    manager.update("counter", lambda old: {"n": old.get("n", 0) + 1, "store": root})
    manager.reload()
"""


def _store(root: Path, configs: int = 200) -> None:
    manager = Confo()
    manager.load_backend({"config_path": str(root)}, "files", "file")
    manager.activate_backend("files")
    manager.create_namespace("app")
    manager.use_namespace("app")
    for number in range(configs):
        manager.set(f"config_{number:03}", {"store": str(root), "pad": "x" * 200})
    manager.persist()
    manager.close()


def _start(root: Path, cache: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(root), str(cache)], stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def test_processes_sharing_a_cache_never_leave_a_torn_or_foreign_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two stores, two processes each, one cache folder; workers are SIGKILLed at random
    moments and started again. Every cache file left is whole, and holds its own store."""
    cache = tmp_path / "cache"
    roots = [tmp_path / "store_a", tmp_path / "store_b"]
    for root in roots:
        root.mkdir()
        _store(root)
    workers = [_start(root, cache) for root in roots for _ in range(2)]
    chance = random.Random(7)
    try:
        for _ in range(12):
            time.sleep(chance.uniform(0.05, 0.3))
            victim = chance.randrange(len(workers))
            os.kill(workers[victim].pid, signal.SIGKILL)
            workers[victim].wait()
            workers[victim] = _start(roots[victim // 2], cache)
    finally:
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
    caplog.set_level(logging.WARNING, logger="confo")
    for root in roots:
        found = SnapshotCache(cache, "file", {"config_path": str(root)}).load("app")
        assert found is not None, f"no usable cache of {root}: {caplog.text}"
        stores = {values["store"] for values in found.snapshot.configs.values()}
        assert stores == {str(root)}, "a cache file holds another store's values"
        assert len(found.snapshot.configs) == 201
    assert not caplog.records, caplog.text
    assert len(list(cache.iterdir())) == 2  # one folder per store


# Saves one large namespace over and over, with other values each time: a save takes long
# enough (tens of ms) that a SIGKILL often lands in the middle of one.
BIG_WRITER = """
import sys
from datetime import datetime, timezone
from confo.cache import SnapshotCache
from confo.model import Snapshot
from confo.session import NamespaceState
cache = SnapshotCache(sys.argv[1], "file", {"config_path": "/srv/big"})
n = 0
while True:
    n += 1
    configs = {f"c{i}": {"n": n, "pad": "x" * 10000} for i in range(1500)}
    cache.save("big", Snapshot(configs, dict.fromkeys(configs, n)), datetime.now(timezone.utc))
    print(n, flush=True)
"""


def test_a_save_killed_midway_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path, "file", {"config_path": "/srv/big"})
    chance = random.Random(11)
    for _ in range(6):
        writer = subprocess.Popen(
            [sys.executable, "-c", BIG_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # one save is done
        time.sleep(chance.uniform(0.0, 0.2))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        found = cache.load("big")
        assert found is not None, "a killed save left a torn file"
        assert len({values["n"] for values in found.snapshot.configs.values()}) == 1


def test_the_cache_holds_no_secret_and_survives_a_password_change(tmp_path: Path) -> None:
    credentials = {"host": "db.internal", "password": "canary-4417", "auth_token": "canary-9"}
    cache = SnapshotCache(tmp_path, "redis", credentials)
    cache.save("app", Snapshot({"db": {"v": 1}}, {"db": "r1"}), datetime.now(timezone.utc))
    written = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    names = " ".join(str(path) for path in tmp_path.rglob("*"))
    for secret in ("canary-4417", "canary-9"):
        assert secret.encode() not in written
        assert secret not in names
    rotated = SnapshotCache(tmp_path, "redis", {**credentials, "password": "rotated"})
    found = rotated.load("app")
    assert found is not None
    assert found.snapshot.configs == {"db": {"v": 1}}
    assert SnapshotCache(tmp_path, "redis", {**credentials, "host": "other"}).load("app") is None


def test_a_file_of_a_newer_format_or_renamed_by_hand_is_not_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = SnapshotCache(tmp_path, "etcd", {"host": "127.0.0.1"})
    now = datetime.now(timezone.utc)
    cache.save("app", Snapshot({"db": {"v": 1}}, {"db": 3}), now)
    cache.save("other", Snapshot({"db": {"v": 2}}, {"db": 4}), now)
    path = cache.path("app")
    header, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(header.replace(b'"version":1', b'"version":2') + b"\n" + body)
    caplog.set_level(logging.WARNING, logger="confo")
    assert cache.load("app") is None
    assert "newer Confo" in caplog.text
    os.replace(cache.path("other"), path)  # another namespace's file under this one's name
    assert cache.load("app") is None
    assert "another namespace" in caplog.text
    assert cache.newest() is None  # and it is not served under its own name either


def test_the_store_id_is_the_store_not_how_it_is_reached(tmp_path: Path) -> None:
    """A port as text or number, a tuned timeout, a rotated password: one store, one cache."""
    cache = SnapshotCache(tmp_path, "redis", {"redis_host": "h", "redis_port": 6379})
    cache.save("app", Snapshot({"db": {"v": 1}}, {"db": "r1"}), datetime.now(timezone.utc))
    same = {"redis_host": "h", "redis_port": "6379", "operation_timeout": 3, "redis_password": "x"}
    assert SnapshotCache(tmp_path, "redis", same).load("app") is not None
    other = {"redis_host": "h", "redis_port": 6380}
    assert SnapshotCache(tmp_path, "redis", other).load("app") is None


def test_cache_credentials_that_cannot_work_are_refused_at_load(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "root").mkdir()
    root = str(tmp_path / "root")
    for wrong, said in (
        ({"cache_dir": str(tmp_path / "a-file")}, "not a folder"),
        ({"max_staleness": 60}, "needs 'cache_dir'"),
        ({"cache_dir": str(tmp_path / "c"), "max_staleness": "an hour"}, "number of seconds"),
    ):
        with pytest.raises(CredentialsError, match=said):
            Confo().load_backend({"config_path": root, **wrong}, "files", "file")


EXITS_AT_ONCE = """
import sys
from confo.manager import Confo
manager = Confo()
manager.load_backend({"config_path": sys.argv[1], "cache_dir": sys.argv[2]}, "files", "file")
manager.activate_backend("files")
manager.use_namespace("app")
print(len(manager.get_all()))
"""


def test_a_process_that_exits_without_closing_still_saves_its_cache(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    _store(tmp_path / "root", configs=3)
    cache = tmp_path / "cache"
    run = [sys.executable, "-c", EXITS_AT_ONCE, str(tmp_path / "root"), str(cache)]
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout.strip() == "3"
    found = SnapshotCache(cache, "file", {"config_path": str(tmp_path / "root")}).load("app")
    assert found is not None
    assert len(found.snapshot.configs) == 3


def test_the_file_backend_does_not_start_offline_on_a_missing_folder(tmp_path: Path) -> None:
    """A missing folder is a mistake to fix, not an outage to ride out (docs/file.md)."""
    (tmp_path / "root").mkdir()
    _store(tmp_path / "root", configs=1)
    credentials = {"config_path": str(tmp_path / "root"), "cache_dir": str(tmp_path / "cache")}
    manager = Confo()
    manager.load_backend(credentials, "files", "file")
    manager.activate_backend("files")
    manager.use_namespace("app")
    manager.close()
    os.rename(tmp_path / "root", tmp_path / "moved")
    with pytest.raises(FileNotFoundException):
        Confo().load_backend(credentials, "files", "file")


def _state(read_at: float, *, from_cache: bool) -> NamespaceState:
    return NamespaceState(
        Snapshot({"a": {"v": 1}, "b": {"v": 1}}, {"a": 1, "b": 1}),
        "ns",
        read_at=read_at,
        from_cache=from_cache,
    )


def test_a_whole_read_moves_read_at_to_when_it_began_never_back() -> None:
    """read_at is what a cache of the view is saved with, and max_staleness trusts: when the
    read that made the whole view began, never later, and never earlier than it was."""
    state = _state(100.0, from_cache=True)
    state.follow(Snapshot({"a": {"v": 2}, "b": {"v": 1}}, {"a": 2, "b": 1}), None, read_at=150.0)
    assert (state.read_at, state.from_cache) == (150.0, False)
    state.follow(Snapshot({"a": {"v": 3}, "b": {"v": 1}}, {"a": 3, "b": 1}), None, read_at=120.0)
    assert state.read_at == 150.0  # a read that began earlier, answered late
    assert state.configs["a"] == {"v": 3}


def test_a_partial_read_dates_a_view_from_the_store_but_not_one_from_the_cache() -> None:
    cached = _state(100.0, from_cache=True)
    cached.follow(Snapshot({"a": {"v": 2}}, {"a": 2}), ["a"], read_at=150.0)
    assert (cached.read_at, cached.from_cache) == (100.0, True)  # b is still the cache's
    assert cached.configs["a"] == {"v": 2}
    live = _state(100.0, from_cache=False)
    live.follow(Snapshot({"a": {"v": 2}}, {"a": 2}), ["a"], read_at=150.0)
    assert (live.read_at, live.from_cache) == (150.0, False)  # a current watch told of all
    live.follow(Snapshot({"a": {"v": 3}}, {"a": 3}), ["a"])  # no read_at: the time stays
    assert live.read_at == 150.0
