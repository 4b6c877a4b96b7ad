"""Deliberately broken variants of the template backend (confo-sqlite), one mistake each.

Every one still serves a user's set/get/persist: the mistakes are the ones the conformance
suite exists to catch. ``test_broken_backends.py`` runs the suite against each and requires it
to fail, naming the tests that must catch it here.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from confo import Changes, Snapshot, WriteResult
from confo.history import ChangeRecord, RecordDraft
from confo.model import Capabilities, WatchFeed
from confo_sqlite import SqliteBackend


class Unsorted(SqliteBackend):
    """Lists namespaces in reverse order (users saw ['c', 'b', 'a'])."""

    def confo_list_namespaces(self) -> list[str]:
        return sorted(super().confo_list_namespaces(), reverse=True)


class ShallowDelete(SqliteBackend):
    """Deletes the namespace but leaves its configurations, which come back when the name is
    created again."""

    def confo_delete_namespace(self, namespace: str) -> None:
        db = self._db()
        db.execute("PRAGMA foreign_keys = OFF")
        try:
            super().confo_delete_namespace(namespace)
        finally:
            db.execute("PRAGMA foreign_keys = ON")


class QuietDelete(SqliteBackend):
    """Deleting a namespace that does not exist succeeds silently."""

    def confo_delete_namespace(self, namespace: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM namespaces WHERE name = ?", (namespace,))


class NoClose(SqliteBackend):
    """``confo_close`` does nothing: every load leaves a database connection open."""

    def confo_close(self) -> None:
        pass


class DefaultPath(SqliteBackend):
    """A missing ``path`` silently falls back to a database in the current folder."""

    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        super().confo_connect({"path": "confo-default.db", **credentials}, timeout)


class LenientTypes(SqliteBackend):
    """Takes any object as the path, through str()."""

    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        super().confo_connect({**credentials, "path": str(credentials.get("path"))}, timeout)


class BlindWrite(SqliteBackend):
    """Ignores the expected revisions: last writer wins, edits are lost silently."""

    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        forced = Changes(changes.put, changes.delete, changes.expected, force=True)
        return super().confo_write(namespace, forced)


class UnheldLimit(SqliteBackend):
    """Declares a name limit of 64 bytes but takes longer names."""

    def confo_capabilities(self) -> Capabilities:
        return Capabilities(watch="latest", max_name_bytes=64)


class DeafWatch(SqliteBackend):
    """Says the watch is in place, then never reports a change."""

    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        feed.resync()
        while not stopping.wait(0.1):
            feed.alive()


class OldestFirst(SqliteBackend):
    """``confo_history`` lists the oldest records first: the newest are cut off by a limit."""

    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        return list(reversed(super().confo_history(namespace, limit, before)))


class NoPrune(SqliteBackend):
    """Keeps every change record for ever, whatever ``history_limit`` says."""

    def _record(self, db: sqlite3.Connection, namespace: str, record: RecordDraft) -> str:
        return super()._record(db, namespace, replace(record, keep=10**9))


class Unguarded(SqliteBackend):
    """Writes without checking the schema document's revision: a schema set meanwhile is not
    obeyed."""

    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        return super().confo_write(namespace, replace(changes, check_schemas=False))


class SchemaBlind(SqliteBackend):
    """Reads configurations without their namespace's schemas."""

    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        return replace(super().confo_read(namespace, names), schemas={}, schemas_revision=None)


VARIANTS: dict[str, tuple[type[SqliteBackend], set[str]]] = {
    "broken_unsorted": (Unsorted, {"test_namespaces_are_listed_sorted"}),
    "broken_shallow_delete": (ShallowDelete, {"test_a_deleted_namespace_leaves_nothing_behind"}),
    "broken_quiet_delete": (QuietDelete, {"test_deleting_a_missing_namespace_fails_naming_it"}),
    "broken_no_close": (NoClose, {"test_close_releases_connections_and_threads"}),
    "broken_default_path": (
        DefaultPath,
        {"test_empty_credentials_are_refused", "test_each_credential_is_needed"},
    ),
    "broken_lenient_types": (LenientTypes, {"test_credentials_of_the_wrong_type_are_refused"}),
    "broken_blind_write": (BlindWrite, {"test_stale_persist_conflicts_and_force_overwrites"}),
    "broken_unheld_limit": (
        UnheldLimit,
        {"test_the_longest_names_fit_and_one_more_character_does_not"},
    ),
    "broken_deaf_watch": (DeafWatch, {"test_watch_delivers_puts_and_deletes"}),
    "broken_oldest_first": (OldestFirst, {"test_records_are_newest_first_and_form_a_chain"}),
    "broken_no_prune": (
        NoPrune,
        {"test_history_is_pruned_by_the_writes_to_between_limit_and_twice_it"},
    ),
    "broken_unguarded": (Unguarded, {"test_persist_checks_the_schema_the_store_holds_now"}),
    "broken_schema_blind": (
        SchemaBlind,
        {
            "test_an_invalid_stored_value_never_enters_the_view",
            "test_a_schema_is_kept_in_the_store_and_removed_with_none",
        },
    ),
}
"""Backend type -> (class, the suite's tests that must fail against it)."""
