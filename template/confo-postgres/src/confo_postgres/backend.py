"""The postgres backend: namespaces and configurations as rows of two PostgreSQL tables.

The template for a backend of a store reached over a network (docs/plugins.md, "A store over a
network"); the SQLite template shows the hooks themselves. What this one adds: every call
bounded by a timeout whatever the peer does, a connection given up on any network error and made
again on the next call, conflicts decided inside one transaction, and a watch on a connection of
its own that proves the server alive and lets Confo reconnect it with back-off.

Credentials: ``host``, ``port``, ``database``, ``user``, ``password`` (optional: a server may
trust the user), ``operation_timeout`` (seconds, default 10), and Confo's ``timeout``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import pg8000.native
from pg8000.exceptions import DatabaseError, InterfaceError

from confo import Backend, Changes, Snapshot, WriteResult
from confo.credentials import optional_text, port, refuse_unknown, seconds, text
from confo.errors import (
    BackendAuthenticationError,
    BackendUnavailableError,
    ConflictError,
    NamespaceNotFoundError,
    StoreURLError,
)
from confo.history import ChangeRecord, RecordDraft, decode_record
from confo.model import Capabilities, WatchFeed
from confo.schemas import decode_document, encode_document
from confo.urls import split_url
from confo.values import decode, encode

BACKEND = "postgres"
CREDENTIALS = ["host", "port", "database", "user", "password", "operation_timeout"]
DEFAULT_PORT = 5432
CHANNEL = "confo"  # NOTIFY channel; the payload is the namespace that changed
WATCH_POLL_SECONDS = 0.1

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS confo_namespaces (name text PRIMARY KEY)",
    """CREATE TABLE IF NOT EXISTS confo_configs (
        namespace text NOT NULL REFERENCES confo_namespaces (name) ON DELETE CASCADE,
        name text NOT NULL,
        data bytea NOT NULL,
        revision bigint NOT NULL,
        PRIMARY KEY (namespace, name)
    )""",
    # One sequence for every write: a revision is never handed out twice, even across rollbacks.
    "CREATE SEQUENCE IF NOT EXISTS confo_revision",
    # Change records (confo.history), written in the change's own transaction.
    """CREATE TABLE IF NOT EXISTS confo_history (
        id bigserial PRIMARY KEY,
        namespace text NOT NULL REFERENCES confo_namespaces (name) ON DELETE CASCADE,
        data bytea NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS confo_history_by_namespace ON confo_history (namespace, id)",
    # Each namespace's schema document (confo.schemas), read with its configurations.
    """CREATE TABLE IF NOT EXISTS confo_schemas (
        namespace text PRIMARY KEY REFERENCES confo_namespaces (name) ON DELETE CASCADE,
        data bytea NOT NULL,
        revision bigint NOT NULL
    )""",
]
ID_DIGITS = 19  # a bigserial, zero-padded: ids sort as strings too
# The schema document comes as one more row, with no name (one statement: one snapshot).
READ_ALL = (
    "SELECT c.name, c.data, c.revision FROM confo_namespaces n "
    "LEFT JOIN confo_configs c ON c.namespace = n.name WHERE n.name = :ns "
    "UNION ALL SELECT NULL, s.data, s.revision FROM confo_schemas s WHERE s.namespace = :ns"
)
READ_SOME = (
    "SELECT c.name, c.data, c.revision FROM confo_namespaces n "
    "LEFT JOIN confo_configs c ON c.namespace = n.name AND c.name = ANY(:names) "
    "WHERE n.name = :ns "
    "UNION ALL SELECT NULL, s.data, s.revision FROM confo_schemas s WHERE s.namespace = :ns"
)
SCHEMA_LOCK = 7_115_000  # an advisory lock: two first connects would race on CREATE otherwise
AUTH_FAILED = {"28P01", "28000"}  # invalid_password, invalid_authorization_specification


class PostgresBackend(Backend):
    """Configurations as rows of PostgreSQL tables ``confo_namespaces`` and ``confo_configs``."""

    url_schemes = ("postgresql", "postgres")

    def __init__(self) -> None:
        self.db: pg8000.native.Connection | None = None
        self.settings: dict[str, Any] = {}
        self.endpoint = ""

    def __repr__(self) -> str:  # shown in errors and logs: never the password
        return f"<PostgresBackend {self.endpoint}>"

    # --- connecting --------------------------------------------------------------------------

    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        refuse_unknown(credentials, CREDENTIALS, BACKEND)
        self.settings = {
            "host": text(credentials, "host", BACKEND),
            "port": port(credentials, "port", BACKEND),
            "database": text(credentials, "database", BACKEND),
            "user": text(credentials, "user", BACKEND),
            "password": optional_text(credentials, "password", BACKEND),
            "timeout": timeout,
            "operation_timeout": seconds(credentials, "operation_timeout", BACKEND, 10.0),
        }
        s = self.settings
        self.endpoint = f"postgresql://{s['user']}@{s['host']}:{s['port']}/{s['database']}"
        with self._errors("connect"):
            db = self._db()
            db.run("SELECT pg_advisory_lock(:key)", key=SCHEMA_LOCK)
            try:
                for statement in SCHEMA:
                    db.run(statement)
            finally:
                db.run("SELECT pg_advisory_unlock(:key)", key=SCHEMA_LOCK)

    def _connect(self) -> pg8000.native.Connection:
        """A new connection: ``timeout`` bounds reaching the server and logging in, and
        ``operation_timeout`` every later read on the socket (a frozen peer included)."""
        s = self.settings
        sock = socket.create_connection((s["host"], s["port"]), timeout=s["timeout"])
        try:
            db = pg8000.native.Connection(
                s["user"],
                database=s["database"],
                password=s["password"],
                sock=sock,
                application_name="confo",
            )
        except (InterfaceError, DatabaseError):
            sock.close()
            raise
        except Exception as exc:  # the login's own library (scramp) refusing a user or password
            sock.close()
            raise BackendAuthenticationError(
                f"Could not log in to PostgreSQL at {self.endpoint}: the user or password cannot "
                f"be sent ({type(exc).__name__}). Check them for control characters."
            ) from None
        sock.settimeout(s["operation_timeout"])
        return db

    def _db(self) -> pg8000.native.Connection:
        """The connection, made again if the last one failed (see :meth:`_errors`)."""
        if not self.settings:
            raise BackendUnavailableError("This postgres backend is closed; load it again.")
        if self.db is None:
            self.db = self._connect()
        return self.db

    def confo_credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        # postgresql://user[:password]@host[:port]/database, as libpq writes it.
        if url.partition("://")[0].lower() not in self.url_schemes:
            return None
        parts = split_url(url)
        host, number = parts.single_host(DEFAULT_PORT)
        database = parts.path.strip("/")
        if not database:
            raise StoreURLError(f"The URL {parts.url!r} names no database: add /DATABASE.")
        user, secret = parts.login(password, user_required=True, password_required=False)
        if user is None:
            raise StoreURLError(f"The URL {parts.url!r} names no user: write USER@{host}.")
        return {
            "host": host,
            "port": number,
            "database": database,
            "user": user,
            "password": secret,
            **parts.options({"operation_timeout": "operation_timeout"}),
        }

    def confo_capabilities(self) -> Capabilities:
        # One transaction carries any persist; text columns hold any name the rules allow.
        return Capabilities(watch="latest", history=True, schemas=True)

    # --- namespaces ---------------------------------------------------------------------------

    def confo_list_namespaces(self) -> list[str]:
        with self._errors("list namespaces"):
            rows = self._db().run("SELECT name FROM confo_namespaces")
        return sorted(name for (name,) in rows)  # Python's order, whatever the collation

    def confo_create_namespace(self, namespace: str) -> None:
        with self._transaction(f"create namespace {namespace!r}") as db:
            db.run("INSERT INTO confo_namespaces VALUES (:ns) ON CONFLICT DO NOTHING", ns=namespace)
            db.run("SELECT pg_notify(:channel, :ns)", channel=CHANNEL, ns=namespace)

    def confo_delete_namespace(self, namespace: str) -> None:
        with self._transaction(f"delete namespace {namespace!r}") as db:
            # ON DELETE CASCADE takes its configurations too.
            if not db.run(
                "DELETE FROM confo_namespaces WHERE name = :ns RETURNING 1", ns=namespace
            ):
                raise self._no_namespace(namespace)
            db.run("SELECT pg_notify(:channel, :ns)", channel=CHANNEL, ns=namespace)

    def _no_namespace(self, namespace: str) -> NamespaceNotFoundError:
        return NamespaceNotFoundError(
            f"Namespace {namespace!r} does not exist in PostgreSQL at {self.endpoint}. "
            f"Create it with create_namespace({namespace!r})."
        )

    # --- reading and writing -------------------------------------------------------------------

    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        # One round trip: no row at all means no namespace; a row of NULLs, an empty one.
        params: dict[str, Any] = {"ns": namespace}
        if names is not None:
            params["names"] = list(names)
        with self._errors(f"read namespace {namespace!r}"):
            rows = self._db().run(READ_ALL if names is None else READ_SOME, **params)
        if not rows:
            raise self._no_namespace(namespace)
        snapshot = Snapshot()
        for name, data, revision in rows:
            if name is None and data is not None:
                where = f"PostgreSQL {self.endpoint}: confo_schemas of namespace {namespace!r}"
                snapshot.schemas = decode_document(bytes(data), where)
                snapshot.schemas_revision = revision
            if name is None:
                continue
            where = f"PostgreSQL {self.endpoint}: namespace {namespace!r}, configuration {name!r}"
            snapshot.configs[name] = decode(bytes(data), where)
            snapshot.revisions[name] = revision
        return snapshot

    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        with self._transaction(f"write namespace {namespace!r}") as db:
            db.run("INSERT INTO confo_namespaces VALUES (:ns) ON CONFLICT DO NOTHING", ns=namespace)
            ((revision,),) = db.run("SELECT nextval('confo_revision')")
            schemas = _schemas_changed(db, namespace, changes)
            conflicts = [
                *(n for n in changes.put if not self._put(db, namespace, changes, n, revision)),
                *(n for n in changes.delete if not self._delete(db, namespace, changes, n)),
                *(n for n in changes.only_checked() if not _unchanged(db, namespace, changes, n)),
            ]
            if conflicts or schemas:  # raised inside the transaction: it rolls back
                raise ConflictError(namespace, conflicts, schemas=schemas)
            _store_schemas(db, namespace, changes, revision)
            record = changes.record
            records = [] if record is None else [_append(db, namespace, record)]
            db.run("SELECT pg_notify(:channel, :ns)", channel=CHANNEL, ns=namespace)
        schemas_revision = revision if changes.schemas else None
        return WriteResult(dict.fromkeys(changes.put, revision), records, schemas_revision)

    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        older = int(before) if before is not None and before.isdigit() else 2**62
        with self._errors(f"read the history of namespace {namespace!r}"):
            rows = self._db().run(
                "SELECT n.name, h.id, h.data FROM confo_namespaces n LEFT JOIN LATERAL "
                "(SELECT id, data FROM confo_history WHERE namespace = n.name AND id < :older "
                "ORDER BY id DESC LIMIT :limit) h ON true WHERE n.name = :ns",
                ns=namespace,
                older=older,
                limit=limit,
            )
        if not rows:
            raise self._no_namespace(namespace)
        return [
            decode_record(
                f"{record_id:0{ID_DIGITS}d}",
                bytes(data),
                f"PostgreSQL {self.endpoint}: confo_history row {record_id}",
            )
            for _name, record_id, data in rows
            if record_id is not None
        ]

    def _put(
        self,
        db: pg8000.native.Connection,
        namespace: str,
        changes: Changes,
        name: str,
        revision: int,
    ) -> bool:
        """Write one configuration if it still holds the revision the write expects; False on
        a conflict. Each statement waits for a concurrent writer's row lock and then checks
        the row as committed, so two writers can never both win (READ COMMITTED suffices)."""
        row = {"ns": namespace, "name": name, "data": encode(changes.put[name]), "rev": revision}
        expected = changes.expects(name)
        if changes.force:
            sql = (
                "INSERT INTO confo_configs VALUES (:ns, :name, :data, :rev) "
                "ON CONFLICT (namespace, name) DO UPDATE "
                "SET data = excluded.data, revision = excluded.revision RETURNING 1"
            )
        elif expected is None:  # new: someone else's row of that name is a conflict
            sql = (
                "INSERT INTO confo_configs VALUES (:ns, :name, :data, :rev) "
                "ON CONFLICT DO NOTHING RETURNING 1"
            )
        else:
            sql = (
                "UPDATE confo_configs SET data = :data, revision = :rev "
                "WHERE namespace = :ns AND name = :name AND revision = :expected RETURNING 1"
            )
            row["expected"] = expected
        return bool(db.run(sql, **row))

    def _delete(
        self, db: pg8000.native.Connection, namespace: str, changes: Changes, name: str
    ) -> bool:
        """Delete one configuration if unchanged since read (any, with force); False on a
        conflict (it changed, or another writer deleted it first)."""
        sql = "DELETE FROM confo_configs WHERE namespace = :ns AND name = :name"
        row: dict[str, Any] = {"ns": namespace, "name": name}
        if not changes.force:
            sql += " AND revision = :expected"
            row["expected"] = changes.expects(name)
        return bool(db.run(sql + " RETURNING 1", **row)) or changes.force

    # --- watching ------------------------------------------------------------------------------

    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        # NOTIFY pushes, but pg8000 reads notifications only along with an answer: a SELECT 1
        # each tenth of a second is both the pump and the heartbeat. A network error raises:
        # Confo marks the watches unhealthy and calls this again, backing off.
        with self._errors("watch"):
            db = self._connect()  # its own: the hooks' connection is not shared with a thread
        try:
            with self._errors("watch"):
                db.run(f"LISTEN {CHANNEL}")
                feed.resync()  # listening: Confo reads every watched namespace once
                while not stopping.is_set():
                    db.run("SELECT 1")
                    feed.alive()
                    self._report(db, feed)
                    stopping.wait(WATCH_POLL_SECONDS)
        finally:
            _close(db)

    def _report(self, db: pg8000.native.Connection, feed: WatchFeed) -> None:
        notices = db.notifications
        if len(notices) == notices.maxlen:  # full: some may have been dropped, read everything
            notices.clear()
            feed.resync()
            return
        changed = set()
        while notices:
            _pid, _channel, payload = notices.popleft()
            changed.add(payload)
        for namespace in changed:
            feed.changed(namespace, None)

    def confo_close(self) -> None:
        if self.db is not None:
            _close(self.db)
            self.db = None
        self.settings = {}

    # --- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, action: str) -> Iterator[pg8000.native.Connection]:
        with self._errors(action):
            db = self._db()
            db.run("BEGIN")
            try:
                yield db
            except BaseException:
                usable = self.db is db  # not dropped: a conflict, not a network error
                if usable:
                    db.run("ROLLBACK")
                raise
            db.run("COMMIT")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Only confo.errors leave a hook. A network error also drops the connection: its
        protocol state is unknown (a half-read answer), and the next call connects anew."""
        try:
            yield
        except (InterfaceError, OSError) as exc:
            self._drop()
            raise BackendUnavailableError(
                f"Could not {action}: PostgreSQL at {self.endpoint} did not answer "
                f"({_reason(exc)}). Check that it is running and that host and port are right."
            ) from None
        except DatabaseError as exc:
            code = _field(exc, "C")
            if code in AUTH_FAILED:
                self._drop()
                raise BackendAuthenticationError(
                    f"PostgreSQL at {self.endpoint} refused the login while trying to {action}. "
                    "Check user and password."
                ) from None
            raise BackendUnavailableError(
                f"Could not {action}: PostgreSQL at {self.endpoint} answered {code} "
                f"({_field(exc, 'M')})."
            ) from None

    def _drop(self) -> None:
        if self.db is not None:
            _close(self.db)
            self.db = None


def _schemas_changed(db: pg8000.native.Connection, namespace: str, changes: Changes) -> bool:
    """Whether the schema document is not at the revision the write was checked against. The
    namespace's row is locked first (shared; a schema change locks it exclusively), so no
    schema change commits between this check and the write's commit."""
    if not changes.check_schemas:
        return False
    if changes.schemas is not None:
        db.run("SELECT 1 FROM confo_namespaces WHERE name = :ns FOR UPDATE", ns=namespace)
    else:
        db.run("SELECT 1 FROM confo_namespaces WHERE name = :ns FOR SHARE", ns=namespace)
    rows = db.run("SELECT revision FROM confo_schemas WHERE namespace = :ns", ns=namespace)
    return (rows[0][0] if rows else None) != changes.schemas_expected


def _unchanged(db: pg8000.native.Connection, namespace: str, changes: Changes, name: str) -> bool:
    """Whether a configuration the write only depends on still has the expected revision."""
    rows = db.run(
        "SELECT revision FROM confo_configs WHERE namespace = :ns AND name = :name FOR SHARE",
        ns=namespace,
        name=name,
    )
    return changes.force or (rows[0][0] if rows else None) == changes.expects(name)


def _store_schemas(
    db: pg8000.native.Connection, namespace: str, changes: Changes, revision: int
) -> None:
    if changes.schemas:
        db.run(
            "INSERT INTO confo_schemas VALUES (:ns, :data, :revision) ON CONFLICT (namespace) "
            "DO UPDATE SET data = EXCLUDED.data, revision = EXCLUDED.revision",
            ns=namespace,
            data=encode_document(changes.schemas),
            revision=revision,
        )
    elif changes.schemas is not None:  # {}: the namespace has no schemas any more
        db.run("DELETE FROM confo_schemas WHERE namespace = :ns", ns=namespace)


def _append(db: pg8000.native.Connection, namespace: str, record: RecordDraft) -> str:
    """Insert the change record (in the write's transaction) and prune beyond twice ``keep``."""
    ((record_id,),) = db.run(
        "INSERT INTO confo_history (namespace, data) VALUES (:ns, :data) RETURNING id",
        ns=namespace,
        data=record.encode(),
    )
    ((count,),) = db.run("SELECT count(*) FROM confo_history WHERE namespace = :ns", ns=namespace)
    if count > 2 * record.keep:
        db.run(
            "DELETE FROM confo_history WHERE namespace = :ns AND id NOT IN (SELECT id FROM "
            "confo_history WHERE namespace = :ns ORDER BY id DESC LIMIT :keep)",
            ns=namespace,
            keep=record.keep,
        )
    return f"{record_id:0{ID_DIGITS}d}"


def _field(exc: DatabaseError, key: str) -> str:
    """A field of PostgreSQL's error (C: the SQLSTATE code, M: the message)."""
    fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    return str(fields.get(key, "?"))


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return str(cause) or type(cause).__name__


def _close(db: pg8000.native.Connection) -> None:
    """Close without waiting on a dead peer: the goodbye message is best effort."""
    with suppress(InterfaceError, OSError):
        db.close()
