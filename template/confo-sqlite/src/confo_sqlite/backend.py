"""The sqlite backend: namespaces and configurations as rows of one SQLite database file.

This is the template for a new Confo backend (docs/plugins.md walks through it). Every hook's
contract is in ``confo.hookspecs``; the comments here say how this store meets it, so that a new
author can see what to replace. Credentials: ``{"path": "<file>.db"}``, and ``timeout``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from confo import Backend, Changes, Snapshot, WriteResult
from confo.credentials import refuse_unknown, text
from confo.errors import (
    BackendUnavailableError,
    ConflictError,
    NamespaceNotFoundError,
    StoreURLError,
)
from confo.history import ChangeRecord, RecordDraft, decode_record
from confo.model import Capabilities, WatchFeed
from confo.schemas import decode_document, encode_document
from confo.values import decode, encode

SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS configs (
    namespace TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (namespace, name)
);
-- One counter for the whole database, so a revision is never handed out twice.
CREATE TABLE IF NOT EXISTS counter (revision INTEGER NOT NULL);
INSERT INTO counter SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM counter);
-- Change records (confo.history), beside the configurations and never read as one. AUTOINCREMENT:
-- an id is never handed out twice, so ids sort in the order the writes committed.
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_namespace ON history (namespace, id);
-- Each namespace's schema document (confo.schemas), read with its configurations: writes are
-- conditional on its revision (Changes.check_schemas).
CREATE TABLE IF NOT EXISTS schemas (
    namespace TEXT PRIMARY KEY REFERENCES namespaces (name) ON DELETE CASCADE,
    data BLOB NOT NULL,
    revision INTEGER NOT NULL
);
"""
TABLES = ("namespaces", "configs", "counter", "history", "schemas")
ID_DIGITS = 12  # ids are zero-padded, so that they sort as strings too

WATCH_POLL_SECONDS = 0.05


class SqliteBackend(Backend):
    """Configurations as rows of one SQLite database: credentials ``{"path": "<file>.db"}``.

    Subclassing ``confo.Backend`` makes every ``confo_*`` method a hook (no ``@hookimpl``
    needed), lets mypy check their signatures, and fails ``load_backend`` if one is missing.
    """

    url_schemes = ("sqlite",)

    def __init__(self) -> None:  # Confo creates backends with no arguments
        self.db: sqlite3.Connection | None = None
        self.path = ""

    def __repr__(self) -> str:  # shown in errors and logs: never put a password here
        return f"<SqliteBackend path={self.path!r}>"

    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        # Refuse what is missing rather than default it: a database silently made in the
        # current folder is a configuration nobody can find. text() names the key, and a key
        # this backend does not read is a typo to report (timeout is Confo's, given apart).
        refuse_unknown(credentials, ["path"], "sqlite")
        self.path = text(credentials, "path", "sqlite")
        try:
            # Confo serialises calls, so one connection may serve every thread. Autocommit
            # (isolation_level=None): transactions are begun explicitly, below. `timeout`
            # bounds how long a call waits for another process's lock.
            self.db = sqlite3.connect(
                self.path, timeout=timeout, check_same_thread=False, isolation_level=None
            )
            self.db.execute("PRAGMA foreign_keys = ON")
            # WAL: a reader reads its snapshot while another process writes, instead of
            # queueing for the lock behind racing writers (it needs a local disk, not NFS).
            self.db.execute("PRAGMA journal_mode = WAL").fetchall()
            # Only a new database takes the write lock: processes starting while others
            # write would otherwise queue for it just to learn the tables exist.
            if not self._has_schema():
                with self._transaction() as db:
                    for statement in SCHEMA.split(";"):
                        db.execute(statement)
        except sqlite3.Error as exc:
            self.confo_close()
            raise BackendUnavailableError(
                f"Cannot open SQLite database {self.path!r}: {exc}"
            ) from exc

    def _has_schema(self) -> bool:
        found = self._db().execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?, ?, ?)",
            TABLES,
        )
        (tables,) = found.fetchone()
        return bool(tables == len(TABLES))

    def confo_credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        # "sqlite:app.db": how the `confo` command names this store. Other schemes are not ours.
        scheme, _, path = url.partition(":")
        if scheme != "sqlite":
            return None
        if not path:
            raise StoreURLError("The URL 'sqlite:' names no file. Write sqlite:PATH.db.")
        return {"path": path}

    def confo_capabilities(self) -> Capabilities:
        # One transaction carries any persist; SQLite holds any name the shared rules allow.
        # history=True: confo_write writes changes.record, and confo_history reads them back.
        # schemas=True: confo_read reads the schema document, confo_write checks and writes it.
        return Capabilities(watch="latest", history=True, schemas=True)

    def confo_list_namespaces(self) -> list[str]:
        with self._errors("list namespaces"):
            names = [name for (name,) in self._db().execute("SELECT name FROM namespaces")]
        return sorted(names)  # Python's order (code points), whatever the store's collation

    def confo_create_namespace(self, namespace: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO namespaces VALUES (?)", (namespace,))

    def confo_delete_namespace(self, namespace: str) -> None:
        with self._transaction() as db:  # ON DELETE CASCADE takes its configurations too
            if not db.execute("DELETE FROM namespaces WHERE name = ?", (namespace,)).rowcount:
                raise NamespaceNotFoundError(f"Namespace {namespace!r} does not exist.")

    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        # One read transaction: the configurations and their schemas are of one moment.
        with self._errors(f"read namespace {namespace!r}"), self._reading() as db:
            if not db.execute("SELECT 1 FROM namespaces WHERE name = ?", (namespace,)).fetchone():
                raise NamespaceNotFoundError(f"Namespace {namespace!r} does not exist.")
            # fetchall: a cursor left half-read would keep the database locked after an error.
            # `names` (None: all) lets a store read less; reading all is allowed, and simpler.
            query = "SELECT name, data, revision FROM configs WHERE namespace = ?"
            rows = db.execute(query, (namespace,)).fetchall()
            document = db.execute(
                "SELECT data, revision FROM schemas WHERE namespace = ?", (namespace,)
            ).fetchone()
        snapshot = Snapshot()
        if document is not None:  # the schemas, with every read: writes are checked by them
            where = f"{self.path}: schemas of namespace {namespace!r}"
            snapshot.schemas = decode_document(document[0], where)
            snapshot.schemas_revision = document[1]
        for name, data, revision in rows:
            # decode() raises CorruptDataError naming this location for anything not a JSON
            # object: say where it is as a user would look for it.
            where = f"{self.path}: namespace {namespace!r}, configuration {name!r}"
            snapshot.configs[name] = decode(data, where)
            snapshot.revisions[name] = revision
        return snapshot

    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        with self._transaction() as db:  # the check and the write: atomic, all or nothing
            self._check(db, namespace, changes)
            db.execute("INSERT OR IGNORE INTO namespaces VALUES (?)", (namespace,))
            (revision,) = db.execute(
                "UPDATE counter SET revision = revision + 1 RETURNING revision"
            ).fetchone()
            db.executemany(
                "INSERT OR REPLACE INTO configs VALUES (?, ?, ?, ?)",
                [(namespace, n, encode(config), revision) for n, config in changes.put.items()],
            )
            db.executemany(
                "DELETE FROM configs WHERE namespace = ? AND name = ?",
                [(namespace, name) for name in changes.delete],
            )
            if changes.schemas:
                db.execute(
                    "INSERT OR REPLACE INTO schemas VALUES (?, ?, ?)",
                    (namespace, encode_document(changes.schemas), revision),
                )
            elif changes.schemas is not None:  # {}: the namespace has no schemas any more
                db.execute("DELETE FROM schemas WHERE namespace = ?", (namespace,))
            record = changes.record
            records = [] if record is None else [self._record(db, namespace, record)]
        schemas_revision = revision if changes.schemas else None
        return WriteResult(dict.fromkeys(changes.put, revision), records, schemas_revision)

    def _check(self, db: sqlite3.Connection, namespace: str, changes: Changes) -> None:
        # Unless forced, every configuration as expected; forced or not, the schema document
        # too where the write was checked against it (a schema set meanwhile must be obeyed).
        query = "SELECT revision FROM configs WHERE namespace = ? AND name = ?"
        conflicts = []
        for name in [] if changes.force else changes.checked():
            row = db.execute(query, (namespace, name)).fetchone()
            if (row[0] if row else None) != changes.expects(name):
                conflicts.append(name)
        schemas = False
        if changes.check_schemas:
            row = db.execute(
                "SELECT revision FROM schemas WHERE namespace = ?", (namespace,)
            ).fetchone()
            schemas = (row[0] if row else None) != changes.schemas_expected
        if conflicts or schemas:
            raise ConflictError(namespace, conflicts, schemas=schemas)

    def _record(self, db: sqlite3.Connection, namespace: str, record: RecordDraft) -> str:
        """Append the change record in the write's own transaction, and prune: beyond twice
        ``keep`` records, the oldest go, down to ``keep``."""
        cursor = db.execute(
            "INSERT INTO history (namespace, data) VALUES (?, ?)", (namespace, record.encode())
        )
        record_id = cursor.lastrowid
        keep = record.keep
        (count,) = db.execute(
            "SELECT count(*) FROM history WHERE namespace = ?", (namespace,)
        ).fetchone()
        if count > 2 * keep:
            db.execute(
                "DELETE FROM history WHERE namespace = ? AND id NOT IN "
                "(SELECT id FROM history WHERE namespace = ? ORDER BY id DESC LIMIT ?)",
                (namespace, namespace, keep),
            )
        return f"{record_id:0{ID_DIGITS}d}"

    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        with self._errors(f"read the history of namespace {namespace!r}"), self._reading() as db:
            if not db.execute("SELECT 1 FROM namespaces WHERE name = ?", (namespace,)).fetchone():
                raise NamespaceNotFoundError(f"Namespace {namespace!r} does not exist.")
            older = int(before) if before is not None and before.isdigit() else None
            rows = db.execute(
                "SELECT id, data FROM history WHERE namespace = ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (namespace, older if older is not None else 2**62, limit),
            ).fetchall()
        return [
            decode_record(
                f"{record_id:0{ID_DIGITS}d}",
                data,
                f"{self.path}: history of namespace {namespace!r}, record {record_id}",
            )
            for record_id, data in rows
        ]

    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        # SQLite pushes nothing to other processes. Poll its change counter, which moves when
        # another connection commits, and let Confo read and compare every watched namespace:
        # a spurious call costs a read, a missed one would lose a change. The first poll says
        # "the watch is in place"; each answer is a sign of life.
        last = None
        while True:
            (version,) = self._db().execute("PRAGMA data_version").fetchone()
            if last is None:
                feed.resync()
            elif version != last:
                for namespace in feed.namespaces():
                    feed.changed(namespace, None)
            last = version
            feed.alive()
            if stopping.wait(WATCH_POLL_SECONDS):
                return

    def confo_close(self) -> None:
        # Release the connection (its file descriptor): the suite checks nothing is left open.
        if self.db is not None:
            self.db.close()
            self.db = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock first, so no other writer can change what the
        check read before the write commits."""
        db = self._db()
        with self._errors("write"):
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN")  # deferred: a snapshot, no lock another writer waits for
        try:
            yield db
        finally:
            if db.in_transaction:  # SQLite may have ended it on an error: keep that error
                db.execute("ROLLBACK")  # a read has nothing to keep

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Only confo.errors leave a hook: the client library's own become Confo's."""
        try:
            yield
        except sqlite3.Error as exc:
            raise BackendUnavailableError(
                f"Could not {what} in SQLite database {self.path!r}: {exc}"
            ) from exc

    def _db(self) -> sqlite3.Connection:
        if self.db is None:
            raise BackendUnavailableError(f"The sqlite backend for {self.path!r} is closed.")
        return self.db
