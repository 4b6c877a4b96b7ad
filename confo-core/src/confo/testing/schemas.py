"""Conformance tests for schemas: kept in the store, obeyed by every writer, and a stored value
that fails its schema kept out of every live view.

Part of :class:`~confo.testing.BackendConformance`. A backend whose capabilities say
``schemas=False`` runs only the test that it says so clearly; the others need
``schemas=True`` (``Snapshot.schemas`` read with every read, ``Changes.schemas`` and
``check_schemas`` honoured by ``confo_write``).
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping
from typing import Any, ClassVar

import pytest

from confo.errors import (
    InvalidSchemaError,
    SchemaError,
    SchemaUnavailableError,
)
from confo.manager import Confo
from confo.markers import hookimpl
from confo.model import Changes
from confo.testing.helpers import BACKEND, stored, unique
from confo.testing.raw import RawStore
from confo.testing.watching import Recorder, until

PORT: dict[str, Any] = {
    "type": "object",
    "properties": {"host": {"type": "string"}, "port": {"type": "integer", "minimum": 1}},
    "required": ["host"],
}


class SchemaConformance:
    """Schemas: stored beside the namespace, checked at every write, screening every read."""

    backend_type: ClassVar[str]

    @pytest.fixture
    def keeps_schemas(self, manager: Confo) -> bool:
        return manager.capabilities().schemas

    @pytest.fixture
    def ruled(self, manager: Confo, ns: str, keeps_schemas: bool) -> Confo:
        """The manager on its own namespace, whose ``db`` holds a valid value under PORT."""
        if not keeps_schemas:
            pytest.skip("the backend declares schemas=False")
        manager.set("db", {"host": "a", "port": 5432})
        manager.persist()
        manager.set_schema("db", PORT)
        return manager

    def test_a_backend_without_schemas_says_so(
        self, manager: Confo, ns: str, keeps_schemas: bool
    ) -> None:
        if keeps_schemas:
            manager.set_schema("db", PORT)
            assert manager.get_schema("db") == PORT
        else:
            with pytest.raises(SchemaUnavailableError, match="schemas"):
                manager.set_schema("db", PORT)

    # --- keeping schemas ------------------------------------------------------------------------

    def test_a_schema_is_kept_in_the_store_and_removed_with_none(
        self, ruled: Confo, other: Confo, ns: str
    ) -> None:
        other.use_namespace(ns)
        assert other.get_schema("db") == PORT
        assert other.get_schema("cache") is None
        other.set_schema("cache", {"type": "object"})  # a schema before any value
        assert ruled.get_schemas() == {"db": PORT, "cache": {"type": "object"}}
        ruled.get_schemas()["db"]["type"] = "array"  # a copy: the view's own is untouched
        assert ruled.get_schema("db") == PORT
        before = ruled.get_namespaces()["all_namespaces"]
        other.set_schema("db", None)
        assert ruled.get_schema("db") is None
        assert ruled.get_schemas() == {"cache": {"type": "object"}}
        ruled.set("db", "port", "now anything goes")  # no schema: no rule
        assert ruled.get_namespaces()["all_namespaces"] == before  # never listed as a namespace

    @pytest.mark.parametrize(
        ("schema", "says"),
        [
            ([1, 2], "JSON object"),
            ({"type": "strnig"}, "not a valid JSON Schema"),
            ({"$ref": "https://example.com/schema.json"}, "never fetches"),
            ({"properties": {"a": {"$ref": "other.json#/x"}}}, "never fetches"),
            ({"$schema": "http://json-schema.org/draft-07/schema#"}, "2020-12"),
            ({"minimum": float("nan")}, "JSON"),
        ],
        ids=["not-object", "unknown-type", "remote-ref", "relative-ref", "old-draft", "nan"],
    )
    def test_a_schema_confo_cannot_enforce_is_refused_and_nothing_stored(
        self, ruled: Confo, schema: Any, says: str
    ) -> None:
        with pytest.raises(InvalidSchemaError, match=says):
            ruled.set_schema("db", schema)
        assert ruled.get_schema("db") == PORT

    def test_a_schema_too_large_or_too_deep_is_refused(self, ruled: Confo) -> None:
        deep: dict[str, Any] = {"type": "object"}
        for _ in range(40):
            deep = {"properties": {"a": deep}}
        with pytest.raises(InvalidSchemaError, match="deeper"):
            ruled.set_schema("db", deep)
        huge = {"enum": ["x" * 1000] * 300}
        with pytest.raises(InvalidSchemaError, match="bytes"):
            ruled.set_schema("db", huge)
        assert ruled.get_schema("db") == PORT

    def test_a_schema_the_stored_value_fails_is_refused(self, ruled: Confo) -> None:
        stricter = {**PORT, "required": ["host", "user"]}
        with pytest.raises(SchemaError, match=r"user.? is a required property") as info:
            ruled.set_schema("db", stricter)
        assert info.value.config == "db"
        assert ruled.get_schema("db") == PORT

    def test_writers_setting_schemas_of_different_configurations_lose_none(
        self, ruled: Confo, other: Confo, ns: str
    ) -> None:
        other.use_namespace(ns)
        names = [f"c{i}" for i in range(4)]
        errors: list[BaseException] = []

        def set_one(manager: Confo, name: str) -> None:
            try:
                manager.set_schema(name, {"type": "object", "title": name}, namespace=ns)
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=set_one, args=(ruled if i % 2 else other, name))
            for i, name in enumerate(names)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors
        assert [ruled.get_schema(name) for name in names] == [
            {"type": "object", "title": name} for name in names
        ]
        assert ruled.get_schema("db") == PORT

    # --- every writer obeys -------------------------------------------------------------------

    def test_set_refuses_a_value_and_memory_is_unchanged(self, ruled: Confo, ns: str) -> None:
        with pytest.raises(SchemaError) as info:
            ruled.set("db", "port", "abc")
        error = info.value
        assert isinstance(error, ValueError)
        assert (error.namespace, error.config, error.path) == (ns, "db", "/port")
        assert error.rule == "/properties/port/type"
        assert "'abc'" in str(error) or '"abc"' in str(error)
        assert ruled.get("db") == {"host": "a", "port": 5432}
        assert not ruled.namespace(ns).has_unsaved_changes()
        with pytest.raises(SchemaError, match="required"):
            ruled.delete("db", "host")
        with pytest.raises(SchemaError):
            ruled.set("db", {"port": 1})
        assert ruled.get("db") == {"host": "a", "port": 5432}

    def test_persist_checks_the_schema_the_store_holds_now(
        self, ruled: Confo, other: Confo, ns: str
    ) -> None:
        other.use_namespace(ns)
        other.get("db")  # loaded before the schema is tightened: it holds the old rule
        tighter = {**PORT, "properties": {**PORT["properties"], "port": {"maximum": 6000}}}
        ruled.set_schema("db", tighter)
        other.set("db", "port", 6001)  # fine by the old rule held in memory
        other.set("cache", {"ttl": 1})  # valid: still not written if any fails
        with pytest.raises(SchemaError, match="maximum"):
            other.persist()
        assert stored(ruled, ns) == {"host": "a", "port": 5432}
        assert stored(ruled, ns, "cache") is None
        assert other.namespace(ns).has_unsaved_changes()  # the edits are kept
        with pytest.raises(SchemaError):
            other.persist(force=True)  # forced or not: the schema holds
        other.set("db", "port", 8)
        other.persist()
        assert stored(ruled, ns) == {"host": "a", "port": 8}
        assert stored(ruled, ns, "cache") == {"ttl": 1}

    def test_write_and_update_obey_the_stored_schema(
        self, ruled: Confo, other: Confo, ns: str
    ) -> None:
        fresh = other.namespace(ns)  # never read: write() must still find the schema
        with pytest.raises(SchemaError):
            fresh.write({"db": {"host": 1}}, force=True)
        with pytest.raises(SchemaError, match="port"):
            other.update("db", lambda db: {**db, "port": 0}, namespace=ns)
        assert stored(ruled, ns) == {"host": "a", "port": 5432}
        other.update("db", lambda db: {**db, "port": 7}, namespace=ns)
        fresh.write({"db": {"host": "b"}}, force=True)
        assert stored(ruled, ns) == {"host": "b"}

    # --- what another tool stores -------------------------------------------------------------

    def test_an_invalid_stored_value_never_enters_the_view(
        self, ruled: Confo, other: Confo, raw: RawStore, ns: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        raw.put(ns, "db", b'{"host": "a", "port": "oops"}')
        ruled.reload()
        assert ruled.get("db") == {"host": "a", "port": 5432}  # the last valid value
        assert "/port" in ruled.rejected()["db"]
        assert any("does not match its schema" in r.getMessage() for r in caplog.records)
        other.use_namespace(ns)  # a manager that never saw a valid value: none in its view
        assert other.get("db", default=None) is None
        assert "db" in other.rejected()
        # update() sees what is stored, and may mend it
        other.update("db", lambda db: {**db, "port": 6})
        ruled.reload()
        assert ruled.get("db") == {"host": "a", "port": 6}
        assert ruled.rejected() == {}

    def test_an_edit_replaces_an_invalid_stored_value(
        self, ruled: Confo, raw: RawStore, ns: str
    ) -> None:
        raw.put(ns, "db", b'{"host": 5}')
        ruled.reload()
        ruled.set("db", "port", 9)  # on the last valid value: no conflict with the bad one
        ruled.persist()
        assert stored(ruled, ns) == {"host": "a", "port": 9}
        assert ruled.rejected() == {}

    def test_a_watch_rejects_an_invalid_push_and_recovers(
        self, ruled: Confo, raw: RawStore, ns: str
    ) -> None:
        seen = Recorder()
        with ruled.watch(seen):
            raw.put(ns, "db", b'{"host": "a", "port": -1}')
            until(lambda: any(e.kind == "rejected" for e in seen.events))
            rejected = next(e for e in seen.events if e.kind == "rejected")
            assert rejected.value == {"host": "a", "port": -1}
            assert rejected.error is not None
            assert "minimum" in rejected.error
            assert rejected.old == {"host": "a", "port": 5432}
            assert ruled.get("db") == {"host": "a", "port": 5432}
            assert "db" in ruled.rejected()
            raw.put(ns, "db", b'{"host": "a", "port": 2}')
            until(lambda: ruled.get("db") == {"host": "a", "port": 2})
            until(lambda: seen.events[-1].kind == "put")
        last = seen.events[-1]
        assert (last.value, last.old, last.error) == ({"host": "a", "port": 2}, rejected.old, None)
        assert ruled.rejected() == {}

    def test_a_watch_follows_a_schema_set_elsewhere(
        self, ruled: Confo, other: Confo, raw: RawStore, ns: str
    ) -> None:
        other.use_namespace(ns)
        with ruled.watch(Recorder()):
            other.set_schema("db", {**PORT, "properties": {"port": {"maximum": 6000}}})
            # the watch reads the schemas with every change it reads
            raw.put(ns, "db", b'{"host": "a", "port": 6001}')
            until(lambda: "db" in ruled.rejected())
            assert ruled.get("db") == {"host": "a", "port": 5432}
            with pytest.raises(SchemaError, match="maximum"):
                ruled.set("db", "port", 6002)

    # --- history and rollback -----------------------------------------------------------------

    def test_a_schema_change_is_recorded(self, ruled: Confo) -> None:
        if not ruled.capabilities().history:
            pytest.skip("the backend keeps no history")
        ruled.set_schema("db", None, message="no rule for now")
        removed, added, *_ = ruled.history()
        assert removed.message == "no rule for now"
        assert removed.changes == {}
        assert removed.schemas == {"db": {"before": PORT, "after": None}}
        assert added.schemas == {"db": {"before": None, "after": PORT}}
        assert [r.id for r in ruled.history(config="db")][:2] == [removed.id, added.id]

    def test_a_rollback_to_a_value_the_schema_refuses_says_so(self, ruled: Confo, ns: str) -> None:
        if not ruled.capabilities().history:
            pytest.skip("the backend keeps no history")
        ruled.set_schema("db", None)
        ruled.set("db", "port", "text")
        ruled.persist()
        bad = ruled.history(limit=1)[0].id
        ruled.set("db", "port", 1)
        ruled.persist()
        ruled.set_schema("db", PORT)
        with pytest.raises(SchemaError, match="rollback"):
            ruled.rollback(bad)
        assert stored(ruled, ns) == {"host": "a", "port": 1}

    def test_a_value_written_while_a_schema_is_set_is_checked_by_it(
        self, credentials: Mapping[str, Any], ruled: Confo, other: Confo, ns: str
    ) -> None:
        other.use_namespace(ns)
        other.set_schema("db", None)  # no rule for now: the port may be text
        meanwhile = _PersistFirst(other, "db", {"host": "a", "port": "text"})
        with Confo() as setter:
            setter.load_backend(credentials, BACKEND, self.backend_type, plugins=[meanwhile])
            setter.activate_backend(BACKEND)
            with pytest.raises(SchemaError, match="as stored now"):
                setter.set_schema("db", PORT, namespace=ns)  # its first write conflicts
        assert meanwhile.fired
        assert other.get_schema("db") is None
        assert stored(other, ns) == {"host": "a", "port": "text"}

    def test_a_schema_removed_and_set_again_binds_who_read_the_first(
        self, ruled: Confo, other: Confo, ns: str
    ) -> None:
        other.use_namespace(ns)
        other.get("db")  # holds the first schema document
        ruled.set_schema("db", None)
        ruled.set_schema("db", {**PORT, "properties": {"port": {"maximum": 6000}}})
        other.set("db", "port", 6001)  # fine by the rule other read
        with pytest.raises(SchemaError, match="maximum"):
            other.persist()
        assert stored(ruled, ns) == {"host": "a", "port": 5432}

    def test_a_reload_never_takes_an_unsaved_edit_for_the_last_valid_value(
        self, ruled: Confo, raw: RawStore, ns: str
    ) -> None:
        ruled.set("db", "port", 2)  # never persisted
        raw.put(ns, "db", b'{"host": 5}')
        ruled.reload()
        assert ruled.get("db") == {"host": "a", "port": 5432}
        assert not ruled.namespace(ns).has_unsaved_changes()

    def test_a_rejected_value_deleted_from_the_store_is_forgotten(
        self, ruled: Confo, other: Confo, raw: RawStore, ns: str
    ) -> None:
        ruled.set_schema("bad", PORT)
        raw.put(ns, "bad", b'{"port": "x"}')  # never valid: not in the view
        ruled.reload()
        assert "bad" in ruled.rejected()
        other.use_namespace(ns)
        other.set_schema("bad", None)
        other.reload()
        other.delete("bad")
        other.persist()
        with ruled.watch(Recorder()):  # a whole read of the namespace, as after a resync
            until(lambda: "bad" not in ruled.rejected())
        ruled.set("bad", {"host": "b"})
        ruled.persist()  # no conflict with the value that is gone
        assert stored(ruled, ns, "bad") == {"host": "b"}

    def test_a_deleted_namespace_takes_its_schemas(self, ruled: Confo, ns: str) -> None:
        ruled.delete_namespace(ns)
        ruled.create_namespace(ns)
        ruled.use_namespace(ns)
        assert ruled.get_schema("db") is None
        ruled.set("db", {"port": "anything"})
        ruled.persist()

    def test_a_configuration_name_is_checked(self, ruled: Confo) -> None:
        with pytest.raises(ValueError, match="name"):
            ruled.set_schema("bad/name", PORT)
        with pytest.raises(InvalidSchemaError, match="JSON object"):
            ruled.set_schema(unique("c"), "not a schema")  # type: ignore[arg-type]


class _PersistFirst:
    """A wrapper plugin: before the first schema write it sees, ``manager`` persists
    ``values`` as ``config`` (another writer landing between a read and a write)."""

    def __init__(self, manager: Confo, config: str, values: dict[str, Any]) -> None:
        self.manager, self.config, self.values = manager, config, values
        self.fired = False

    @hookimpl(wrapper=True)
    def confo_write(self, namespace: str, changes: Changes) -> Generator[None, Any, Any]:
        if changes.schemas is not None and not self.fired:
            self.fired = True
            self.manager.namespace(namespace).set(self.config, self.values)
            self.manager.namespace(namespace).persist()
        return (yield)
