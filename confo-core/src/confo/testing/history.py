"""Conformance tests for history, audit and rollback: every change recorded with who and why, in
the change's own transaction, read back newest first, and undone in one call.

Part of :class:`~confo.testing.BackendConformance`. A backend whose capabilities say
``history=False`` runs only the test that it says so clearly; the others need
``history=True`` (``confo_write`` writing ``changes.record``, and ``confo_history``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any, ClassVar

import pytest

from confo.errors import (
    HistoryUnavailableError,
    InvalidValueError,
    RecordNotFoundError,
)
from confo.history import ChangeRecord
from confo.manager import Confo
from confo.testing.conflicts import race
from confo.testing.helpers import connected, unique
from confo.testing.watching import Recorder, until


def _chain(records: list[ChangeRecord], config: str) -> None:
    """Oldest first: each record's ``before`` of ``config`` is the previous one's ``after``."""
    for earlier, later in pairwise(records):
        assert later.changes[config]["before"] == earlier.changes[config]["after"], (
            earlier.id,
            later.id,
        )


class HistoryConformance:
    """Change records: written with each change, read back, rolled back, pruned."""

    backend_type: ClassVar[str]
    history_racers: ClassVar[int] = 4
    history_race_rounds: ClassVar[int] = 25

    @pytest.fixture
    def keeps_history(self, manager: Confo) -> bool:
        return manager.capabilities().history

    @pytest.fixture
    def recorded(self, manager: Confo, ns: str, keeps_history: bool) -> Confo:
        """The manager, on a namespace of its own, as author ``ana``; for history backends."""
        if not keeps_history:
            pytest.skip("the backend declares history=False")
        manager.author = "ana"
        return manager

    def test_a_backend_without_history_says_so(
        self, manager: Confo, ns: str, keeps_history: bool
    ) -> None:
        manager.set("db", {"v": 1})
        manager.persist()
        if keeps_history:
            assert manager.history()
        else:
            with pytest.raises(HistoryUnavailableError, match="history"):
                manager.history()

    # --- what a record holds ------------------------------------------------------------------

    def test_a_persist_is_recorded_with_who_why_and_what(self, recorded: Confo) -> None:
        started = datetime.now(timezone.utc)
        recorded.set("db", {"host": "a"})
        recorded.set("cache", {"ttl": 5})
        recorded.persist(message="first")
        recorded.set("db", "host", "b")
        recorded.delete("cache")
        recorded.persist(message="move db, drop cache")
        newest, first = recorded.history()
        assert isinstance(newest.id, str)
        assert newest.author == "ana"
        assert newest.message == "move db, drop cache"
        assert newest.changes == {
            "db": {"before": {"host": "a"}, "after": {"host": "b"}},
            "cache": {"before": {"ttl": 5}, "after": None},
        }
        assert first.changes == {
            "db": {"before": None, "after": {"host": "a"}},
            "cache": {"before": None, "after": {"ttl": 5}},
        }
        assert first.message == "first"
        assert first.id < newest.id
        assert newest.time.tzinfo is not None
        assert started - timedelta(seconds=5) <= first.time <= newest.time
        assert newest.time <= datetime.now(timezone.utc) + timedelta(seconds=5)
        assert first.schemas == {}

    def test_update_write_and_delete_are_recorded(self, recorded: Confo, ns: str) -> None:
        recorded.update("counter", lambda c: {"n": 1}, message="start counting")
        recorded.write(ns, {"bulk": {"x": 1}}, message="loaded")
        recorded.delete("counter")
        recorded.persist()
        deleted, written, updated = recorded.history(limit=3)
        assert updated.message == "start counting"
        assert updated.changes == {"counter": {"before": None, "after": {"n": 1}}}
        assert written.message == "loaded"
        assert written.changes == {"bulk": {"before": None, "after": {"x": 1}}}
        assert deleted.message is None
        assert deleted.changes == {"counter": {"before": {"n": 1}, "after": None}}

    def test_a_forced_persist_records_what_the_store_held(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        recorded.set("db", {"v": 1})
        recorded.persist()
        other.use_namespace(ns)
        other.set("db", "v", "theirs")
        other.persist()
        recorded.set("db", "v", "mine")
        recorded.persist(force=True)
        newest = recorded.history(limit=1)[0]
        assert newest.changes["db"] == {"before": {"v": "theirs"}, "after": {"v": "mine"}}

    def test_a_forced_persist_of_many_records_what_the_store_held(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        """Beyond one transaction's worth of configurations (etcd names at most 128 keys in
        one): the read before a forced write, and its record, cover every one."""
        count = 300
        for i in range(count):
            recorded.set(f"c{i:03d}", {"v": 0})
        recorded.persist()
        other.use_namespace(ns)
        other.set("c000", "v", "theirs")
        other.persist()
        for i in range(count):
            recorded.set(f"c{i:03d}", {"v": 1})
        recorded.persist(force=True, message="all of them")
        changes = {
            name: sides
            for record in recorded.history(limit=10)
            if record.message == "all of them"
            for name, sides in record.changes.items()
        }
        assert len(changes) == count
        assert changes["c000"] == {"before": {"v": "theirs"}, "after": {"v": 1}}
        assert changes["c299"] == {"before": {"v": 0}, "after": {"v": 1}}

    def test_author_comes_from_the_environment_else_user_at_host(
        self, credentials: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch, keeps_history: bool
    ) -> None:
        if not keeps_history:
            pytest.skip("the backend declares history=False")
        namespace = unique()
        with connected(self.backend_type, credentials) as manager:
            manager.create_namespace(namespace)
            manager.use_namespace(namespace)
            monkeypatch.setenv("CONFO_AUTHOR", "ci-deploy")
            manager.set("a", {"v": 1})
            manager.persist()
            monkeypatch.delenv("CONFO_AUTHOR")
            manager.set("a", {"v": 2})
            manager.persist()
            newest, first = manager.history()
        assert first.author == "ci-deploy"
        assert "@" in newest.author

    # --- order, chain, filters ----------------------------------------------------------------

    def test_records_are_newest_first_and_form_a_chain(self, recorded: Confo) -> None:
        for v in range(6):
            recorded.set("db", {"v": v})
            recorded.persist(message=f"v{v}")
        records = recorded.history()
        assert [r.message for r in records] == [f"v{v}" for v in reversed(range(6))]
        assert [r.id for r in records] == sorted((r.id for r in records), reverse=True)
        _chain(list(reversed(records)), "db")

    def test_history_of_one_configuration_and_a_limit(self, recorded: Confo) -> None:
        for v in range(4):
            recorded.set("a", {"v": v})
            if v % 2:
                recorded.set("b", {"v": v})
            recorded.persist()
        assert len(recorded.history(config="b")) == 2
        assert all(r.touches("b") for r in recorded.history(config="b"))
        assert len(recorded.history(config="a", limit=3)) == 3
        assert recorded.history(config="never") == []

    def test_two_managers_on_different_configurations_never_conflict(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        other.use_namespace(ns)
        for v in range(5):
            recorded.set("mine", {"v": v})
            recorded.persist()  # no ConflictError: the history is not a counter to race on
            other.set("theirs", {"v": v})
            other.persist()
        records = recorded.history()
        assert len(records) == 10
        mine = [r for r in reversed(records) if r.touches("mine")]
        _chain(mine, "mine")

    def test_racing_processes_leave_one_record_each_in_an_unbroken_chain(
        self, credentials: Mapping[str, Any], keeps_history: bool
    ) -> None:
        if not keeps_history:
            pytest.skip("the backend declares history=False")
        total = self.history_racers * self.history_race_rounds
        racing = {**credentials, "history_limit": total + 10}
        namespace = unique("race")
        with connected(self.backend_type, racing) as manager:
            manager.create_namespace(namespace)
            race(
                self.backend_type,
                racing,
                namespace,
                self.history_race_rounds,
                how="update",
                racers=self.history_racers,
                env={"CONFO_AUTHOR": "racer"},
            )
            manager.use_namespace(namespace)
            assert manager.get("counter") == {"n": total}
            records = list(reversed(manager.history(config="counter", limit=total + 10)))
        assert len(records) == total
        assert [r.changes["counter"]["after"] for r in records] == [
            {"n": n} for n in range(1, total + 1)
        ]
        _chain(records, "counter")
        assert {r.author for r in records} == {"racer"}

    # --- rollback -----------------------------------------------------------------------------

    def test_rollback_of_one_configuration(self, recorded: Confo, other: Confo, ns: str) -> None:
        recorded.set("db", {"pool": 10})
        recorded.set("cache", {"ttl": 1})
        recorded.persist()
        good = recorded.history(limit=1)[0].id
        recorded.set("db", "pool", 99)
        recorded.set("cache", "ttl", 2)
        recorded.persist(message="typo")
        record = recorded.rollback(good, config="db")
        assert record is not None
        assert record.message == f"rollback to {good}"
        assert record.changes == {"db": {"before": {"pool": 99}, "after": {"pool": 10}}}
        assert recorded.get("db") == {"pool": 10}
        other.use_namespace(ns)
        assert other.get_all() == {"db": {"pool": 10}, "cache": {"ttl": 2}}
        assert recorded.history(limit=1)[0].id == record.id

    def test_rollback_of_a_namespace_deletes_what_came_after(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        recorded.set("db", {"pool": 10})
        recorded.persist()
        good = recorded.history(limit=1)[0].id
        recorded.set("db", "pool", 20)
        recorded.set("new", {"x": 1})
        recorded.persist()
        recorded.set("db", "pool", 30)
        recorded.persist()
        count = len(recorded.history())
        dry = recorded.rollback(good, dry_run=True)
        assert dry is not None
        assert (dry.id, dry.changes["db"]) == ("", {"before": {"pool": 30}, "after": {"pool": 10}})
        assert len(recorded.history()) == count  # a dry run writes nothing, records nothing
        assert recorded.get("db") == {"pool": 30}
        record = recorded.rollback(good, message="back to 10")
        assert record is not None
        assert record.message == "back to 10"
        assert record.changes == {
            "db": {"before": {"pool": 30}, "after": {"pool": 10}},
            "new": {"before": {"x": 1}, "after": None},
        }
        other.use_namespace(ns)
        assert other.get_all() == {"db": {"pool": 10}}
        assert recorded.get_all() == {"db": {"pool": 10}}
        assert recorded.rollback(record.id) is None  # nothing changed since: nothing written

    def test_rollback_is_conditional_and_goes_on_from_what_others_wrote(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        recorded.set("db", {"v": 1})
        recorded.persist()
        good = recorded.history(limit=1)[0].id
        other.use_namespace(ns)
        other.set("db", "v", 2)
        other.persist()  # the manager rolling back has not read this one
        record = recorded.rollback(good)
        assert record is not None
        assert record.changes["db"] == {"before": {"v": 2}, "after": {"v": 1}}
        recorded.set("db", "v", 3)
        recorded.persist()  # its view follows the rollback: no false conflict

    def test_a_rollback_to_an_unknown_record_names_it_and_writes_nothing(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        recorded.set("db", {"v": 1})
        recorded.persist()
        count = len(recorded.history())
        with pytest.raises(RecordNotFoundError, match="no-such-record"):
            recorded.rollback("no-such-record")
        with pytest.raises(InvalidValueError):
            recorded.rollback(7)  # type: ignore[arg-type]
        assert len(recorded.history()) == count
        other.use_namespace(ns)
        assert other.get_all() == {"db": {"v": 1}}

    @pytest.mark.parametrize("limit", [0, -1, 1.5, "10", True, None])
    def test_a_limit_that_is_not_a_positive_integer_is_refused(
        self, recorded: Confo, limit: object
    ) -> None:
        with pytest.raises(InvalidValueError, match="limit"):
            recorded.history(limit=limit)  # type: ignore[arg-type]

    def test_a_watch_event_carries_who_changed_it_and_why(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        """The record reaches running services: ``WatchEvent.record``."""
        recorded.set("flag", {"on": False})
        recorded.persist()
        seen = Recorder()
        other.author = "bob"
        other.use_namespace(ns)
        with recorded.watch(seen):
            other.set("flag", "on", True)
            other.persist(message="launch")
            until(lambda: seen.last().get("flag") == {"on": True})  # "latest" may collapse
            other.delete("flag")
            other.persist(message="retire it")
            until(lambda: [e.kind for e in seen.events if e.config == "flag"][-1:] == ["delete"])
        put = next(e for e in seen.events if e.value == {"on": True})
        gone = next(e for e in seen.events if e.kind == "delete")
        assert put.record is not None
        assert (put.record.author, put.record.message) == ("bob", "launch")
        assert gone.record is not None
        assert gone.record.message == "retire it"
        assert gone.record.changes["flag"] == {"before": {"on": True}, "after": None}

    # --- retention and layout -----------------------------------------------------------------

    def test_history_is_pruned_by_the_writes_to_between_limit_and_twice_it(
        self, credentials: Mapping[str, Any], keeps_history: bool
    ) -> None:
        if not keeps_history:
            pytest.skip("the backend declares history=False")
        namespace = unique()
        with connected(self.backend_type, {**credentials, "history_limit": 3}) as manager:
            manager.create_namespace(namespace)
            manager.use_namespace(namespace)
            for v in range(20):
                manager.set("db", {"v": v})
                manager.persist()
            records = manager.history(limit=50)
        assert 3 <= len(records) <= 6
        assert records[0].changes["db"]["after"] == {"v": 19}  # the newest are the ones kept
        _chain(list(reversed(records)), "db")

    def test_history_limit_0_records_nothing(
        self, credentials: Mapping[str, Any], keeps_history: bool
    ) -> None:
        namespace = unique()
        with connected(self.backend_type, {**credentials, "history_limit": 0}) as manager:
            manager.create_namespace(namespace)
            manager.use_namespace(namespace)
            manager.set("db", {"v": 1})
            manager.persist()
            with pytest.raises(HistoryUnavailableError, match="history_limit"):
                manager.history()
        if keeps_history:
            with connected(self.backend_type, credentials) as reader:
                assert reader.history(namespace) == []

    def test_history_stays_out_of_the_seeds_layout(
        self, recorded: Confo, other: Confo, ns: str
    ) -> None:
        before = set(other.get_namespaces()["all_namespaces"])
        recorded.set("db", {"v": 1})
        recorded.persist()
        recorded.set("db", {"v": 2})
        recorded.persist()
        assert set(other.get_namespaces()["all_namespaces"]) == before
        other.use_namespace(ns)
        assert other.get_all() == {"db": {"v": 2}}

    def test_a_deleted_namespace_made_again_starts_a_history_of_its_own(
        self, recorded: Confo, ns: str
    ) -> None:
        recorded.set("db", {"v": 1})
        recorded.persist()
        recorded.delete_namespace(ns)
        recorded.create_namespace(ns)
        recorded.use_namespace(ns)
        assert recorded.history() == []
        recorded.set("db", {"v": "again"})
        recorded.persist()
        (record,) = recorded.history()
        assert record.changes == {"db": {"before": None, "after": {"v": "again"}}}

    def test_a_large_persist_shares_one_persist_id(self, recorded: Confo) -> None:
        """Beyond a transaction's limits (operations, or bytes with the record beside the
        values) a persist is split: one record per transaction, one persist id for all. Where
        one transaction carries any persist, it is one record holding every configuration."""
        capabilities = recorded.capabilities()
        if capabilities.max_transaction_ops is not None:
            count, size = capabilities.max_transaction_ops + 10, 10
        elif capabilities.max_transaction_bytes is not None:
            size = 20_000
            count = capabilities.max_transaction_bytes // size + 5
        else:
            count, size = 200, 10
        for i in range(count):
            recorded.set(f"c{i:04d}", {"i": i, "pad": "x" * size})
        recorded.persist(message="bulk")
        records = [r for r in recorded.history(limit=50) if r.message == "bulk"]
        limited = capabilities.max_transaction_ops or capabilities.max_transaction_bytes
        assert (len(records) > 1) == bool(limited), [len(r.changes) for r in records]
        assert len({r.persist_id for r in records}) == 1
        touched = [name for r in records for name in r.changes]
        assert sorted(touched) == [f"c{i:04d}" for i in range(count)]
