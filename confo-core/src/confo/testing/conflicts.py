"""Conformance tests for conflict-safe persist and ``update()``: no edit is ever lost silently.

Part of :class:`~confo.testing.BackendConformance`; it needs the same fixtures (``manager``,
``other``, ``ns``, ``raw``, ``credentials``). The last tests race several real processes.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from confo.errors import ConfigurationNotFoundError, ConflictError
from confo.manager import Confo
from confo.testing.helpers import stored
from confo.testing.raw import RawStore

# One worker process of the races below: argv is backend type, credentials (JSON), namespace,
# rounds, "update" or "loop" (reload, get, set, persist; retry on ConflictError), and the time
# at which every worker starts at once (so that they race from the first, creating, write).
RACER = """
import json, sys
from confo.errors import ConflictError
from confo.testing import connected
backend_type, credentials, ns, rounds, how = sys.argv[1:6]
manager = connected(backend_type, json.loads(credentials))
manager.use_namespace(ns)
print("connected", flush=True)
sys.stdin.readline()  # the start: every racer has connected
for _ in range(int(rounds)):
    if how == "update":
        manager.update("counter", lambda c: {**c, "n": c.get("n", 0) + 1})
        continue
    while True:
        manager.reload()
        manager.set("counter", "n", manager.get("counter", "n", default=0) + 1)
        try:
            manager.persist()
            break
        except ConflictError:
            continue
manager.close()
"""


def _changed_elsewhere(manager: Confo, other: Confo, ns: str, field: str, value: int) -> None:
    """``db`` is stored as ``{"v": 1}`` by ``manager``, then changed by ``other``."""
    manager.set("db", {"v": 1})
    manager.persist()
    other.use_namespace(ns)
    other.set("db", field, value)
    other.persist()


class ConflictConformance:
    """Persist refuses to overwrite what changed in the store since it was read."""

    backend_type: ClassVar[str]
    # The races: processes x rounds each. 4 x 250 is what the contract promises.
    racers: ClassVar[int] = 4
    race_rounds: ClassVar[int] = 250

    def test_stale_persist_conflicts_and_force_overwrites(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        _changed_elsewhere(manager, other, ns, "v", 2)
        manager.set("db", "v", 3)
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.namespace == ns
        assert info.value.configs == ["db"]
        assert "'db'" in str(info.value)
        assert ns in str(info.value)
        other.reload()
        assert other.get("db") == {"v": 2}  # the store kept the newer value
        assert manager.get("db") == {"v": 3}  # and the edit is kept in memory
        manager.persist(force=True)
        other.reload()
        assert other.get("db") == {"v": 3}
        manager.set("db", "v", 4)  # force recorded the new revision: no conflict now
        manager.persist()

    def test_a_conflict_writes_nothing_of_the_namespace(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        manager.set("mine", {"v": 1})
        manager.set("shared", {"v": 1})
        manager.persist()
        other.use_namespace(ns)
        other.set("shared", "v", 2)
        other.persist()
        manager.set("mine", "v", 2)
        manager.set("shared", "v", 3)
        manager.set("brand_new", {"v": 1})
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.configs == ["shared"]
        other.reload()
        assert other.get_all() == {"mine": {"v": 1}, "shared": {"v": 2}}

    def test_every_conflicting_configuration_is_named(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        for name in ("a", "b", "c"):
            manager.set(name, {"v": 1})
        manager.persist()
        other.use_namespace(ns)
        other.set("a", "v", 2)
        other.set("c", "v", 2)
        other.persist()
        for name in ("a", "b", "c"):
            manager.set(name, "v", 3)
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.configs == ["a", "c"]

    def test_a_persist_of_several_namespaces_says_which_were_written(
        self, manager: Confo, other: Confo
    ) -> None:
        first, failing, last = (_unique("several") for _ in range(3))
        for name in (first, failing, last):
            manager.create_namespace(name)
            manager.use_namespace(name)
            manager.set("db", {"v": 1})
        manager.persist()
        other.namespace(failing).update("db", lambda _: {"v": "theirs"})
        for name in (first, failing, last):
            manager.namespace(name).set("db", "v", 2)
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.namespace == failing
        assert info.value.persisted == (first,)
        assert info.value.not_persisted == (failing, last)
        assert f"written '{first}'; not written '{failing}', '{last}'" in str(info.value)
        assert other.namespace(first).get("db") == {"v": 2}
        assert stored(other, last) == {"v": 1}
        assert manager.namespace(last).has_unsaved_changes()  # held, not lost
        manager.namespace(failing).reload()
        manager.persist()
        assert stored(other, last) == {"v": 2}

    def test_after_reload_the_same_edit_persists(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        _changed_elsewhere(manager, other, ns, "w", 1)
        manager.set("db", "v", 2)
        with pytest.raises(ConflictError):
            manager.persist()
        manager.reload()
        manager.set("db", "v", 2)
        manager.persist()
        other.reload()
        assert other.get("db") == {"v": 2, "w": 1}

    def test_deleting_what_changed_elsewhere_conflicts(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        _changed_elsewhere(manager, other, ns, "v", 2)
        manager.delete("db")
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.configs == ["db"]
        other.reload()
        assert other.get("db") == {"v": 2}
        with pytest.raises(ConfigurationNotFoundError):
            manager.get("db")  # the deletion is still pending here
        manager.persist(force=True)
        other.reload()
        assert other.get_all() == {}

    def test_creating_what_someone_else_created_conflicts(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        other.use_namespace(ns)
        manager.set("db", {"mine": True})
        other.set("db", {"theirs": True})
        other.persist()
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.configs == ["db"]
        other.reload()
        assert other.get("db") == {"theirs": True}

    def test_a_blind_write_creates_only_unless_forced(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        other.write(ns, {"a": {"v": 1}, "b": {"v": 1}})  # without reading the namespace
        manager.reload()
        assert manager.get_all() == {"a": {"v": 1}, "b": {"v": 1}}
        with pytest.raises(ConflictError) as info:
            other.write(ns, {"b": {"v": 2}, "c": {"v": 2}})
        assert info.value.configs == ["b"]
        manager.reload()
        assert manager.get_all() == {"a": {"v": 1}, "b": {"v": 1}}  # nothing written
        manager.write(ns, {"b": {"v": 3}, "c": {"v": 3}}, force=True)
        assert manager.get("b") == {"v": 3}  # the view held here follows
        manager.set("b", "v", 4)
        manager.persist()  # based on the revision the write returned: no conflict
        other.use_namespace(ns)
        assert other.get_all() == {"a": {"v": 1}, "b": {"v": 4}, "c": {"v": 3}}

    def test_a_change_by_another_tool_is_a_conflict(
        self, manager: Confo, raw: RawStore, ns: str
    ) -> None:
        manager.set("db", {"v": 1})
        manager.persist()
        raw.put(ns, "db", b'{"v": "from another tool"}')
        manager.set("db", "v", 2)
        with pytest.raises(ConflictError):
            manager.persist()
        assert json.loads(raw.get(ns, "db") or b"") == {"v": "from another tool"}

    def test_a_persist_split_over_transactions_writes_nothing_on_a_conflict(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        """Past the transaction limits the backend declares, a persist is split into parts; a
        conflict in the last part must still be found before the first part is written."""
        limits = manager.capabilities()
        pad = "x" * 100
        count = 40
        if limits.max_transaction_ops:
            count = limits.max_transaction_ops + 10
        elif limits.max_transaction_bytes:
            pad = "x" * (limits.max_transaction_bytes // 10)
            count = 14
        names = [f"c{i:04d}" for i in range(count)]
        for name in names:
            manager.set(name, {"v": 1, "pad": pad})
        manager.persist()
        other.use_namespace(ns)
        other.set(names[-1], "v", "theirs")
        other.persist()
        for name in names:
            manager.set(name, "v", 2)
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.configs == [names[-1]]
        other.reload()
        assert [other.get(name, "v") for name in names] == [1] * (count - 1) + ["theirs"]

    def test_one_writer_never_conflicts_with_itself(self, manager: Confo, ns: str) -> None:
        manager.set("db", {"v": 1})
        manager.persist()
        manager.persist()  # nothing changed: nothing sent
        for i in range(5):
            manager.set("db", "v", i)
            manager.persist(namespace=ns, config="db")
        manager.delete("db")
        manager.persist()
        manager.set("db", {"again": True})
        manager.persist()
        manager.reload()
        assert manager.get("db") == {"again": True}

    # --- update() ------------------------------------------------------------------------------

    def test_update_reads_fresh_and_writes(self, manager: Confo, other: Confo, ns: str) -> None:
        other.use_namespace(ns)
        other.set("counter", {"n": 41, "keep": "x"})
        other.persist()  # manager holds ns from before: update must not use its stale view
        written = manager.update("counter", lambda c: {**c, "n": c["n"] + 1})
        assert written == {"n": 42, "keep": "x"}
        assert manager.get("counter") == {"n": 42, "keep": "x"}  # the in-memory view holds it
        other.reload()
        assert other.get("counter") == {"n": 42, "keep": "x"}
        fresh = manager.update("new_one", lambda c: {**c, "created": True})
        assert fresh == {"created": True}

    def test_update_retries_when_someone_interferes(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        manager.set("counter", {"n": 0})
        manager.persist()
        other.use_namespace(ns)
        calls = []

        def bump(config: dict[str, Any]) -> dict[str, Any]:
            calls.append(config["n"])
            if len(calls) == 1:  # another writer gets in between this read and its write
                other.update("counter", lambda c: {**c, "n": c["n"] + 100})
            return {**config, "n": config["n"] + 1}

        assert manager.update("counter", bump, namespace=ns) == {"n": 101}
        assert calls == [0, 100]
        other.reload()
        assert other.get("counter") == {"n": 101}

    def test_update_gives_up_after_its_attempts(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        manager.set("counter", {"n": 0})
        manager.persist()
        other.use_namespace(ns)

        def always_interfered(config: dict[str, Any]) -> dict[str, Any]:
            other.update("counter", lambda c: {**c, "n": c["n"] + 1})
            return {"n": -1}

        with pytest.raises(ConflictError, match="counter"):
            manager.update("counter", always_interfered, attempts=3)
        other.reload()
        assert other.get("counter") == {"n": 3}

    # --- one manager, several threads ----------------------------------------------------------

    def test_threads_sharing_one_manager_leave_memory_and_store_equal(
        self, manager: Confo, other: Confo, ns: str
    ) -> None:
        """Persists and reloads racing in threads of one manager: afterwards, a final persist
        leaves the store exactly as memory, and nothing in between conflicted."""
        handle = manager.namespace(ns)
        stop = time.monotonic() + 2
        errors: list[BaseException] = []

        def work(seed: int) -> None:
            chance = random.Random(seed)  # noqa: S311 (a test schedule, not a secret)
            try:
                while time.monotonic() < stop:
                    name = f"c{chance.randrange(3)}"
                    action = chance.random()
                    if action < 0.5:
                        handle.set(name, "w", chance.randrange(100))
                    elif action < 0.85:
                        handle.persist()
                    else:
                        handle.reload()
            except BaseException as exc:  # reported below, in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        handle.persist()
        assert not handle.has_unsaved_changes()
        assert other.namespace(ns).get_all() == handle.get_all()

    # --- several processes -----------------------------------------------------------------------

    def test_processes_updating_one_counter_lose_nothing(
        self, manager: Confo, credentials: Mapping[str, Any], ns: str
    ) -> None:
        race(self.backend_type, credentials, ns, self.race_rounds, "update", self.racers)
        manager.reload()
        assert manager.get("counter") == {"n": self.racers * self.race_rounds}

    def test_processes_in_a_plain_retry_loop_lose_nothing(
        self, manager: Confo, credentials: Mapping[str, Any], ns: str
    ) -> None:
        rounds = max(1, self.race_rounds // 5)
        race(self.backend_type, credentials, ns, rounds, "loop", self.racers)
        manager.reload()
        assert manager.get("counter") == {"n": self.racers * rounds}


RACER_TIMEOUT = 30.0  # seconds a racer may wait for a lock (a local store's "timeout")


def race(  # noqa: PLR0917 (a test helper's plain call reads best)
    backend_type: str,
    credentials: Mapping[str, Any],
    ns: str,
    rounds: int,
    how: str,
    racers: int,
    env: Mapping[str, str] | None = None,
) -> None:
    """``racers`` processes increment one counter ``rounds`` times each (``how``: "update", or
    "loop": reload, set, persist until no conflict). Started, and once every one has connected
    (a loaded machine may take seconds to start a Python), let go all at once."""
    # A racer waits long for a lock (a local store's "timeout"): the race tests lose nothing,
    # not how fast a loaded machine hands a contended lock around.
    patient = {"timeout": RACER_TIMEOUT, **credentials}
    argv = [backend_type, json.dumps(patient), ns, str(rounds), how]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else {**os.environ, **env},
        )
        for _ in range(racers)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "connected":
                _, stderr = process.communicate(timeout=60)
                pytest.fail(f"a racer did not connect: {stderr}")
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            _, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
