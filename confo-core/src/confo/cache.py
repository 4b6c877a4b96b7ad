"""Last known good: each namespace as last read from its store, kept in the ``cache_dir``.

A backend loaded with the ``cache_dir`` credential saves every namespace it reads from the store
(use, reload, a watch, a persist's result), so that a service can start, and keep serving, while
its store is down (the offline mode of :mod:`confo.store`). Only values that passed their schema
are saved: a rejected one is saved as the last valid value the live view kept, or not at all.

Layout: ``<cache_dir>/<backend type>-<store id>/<namespace id>.json``. The store id is a digest
of the credentials without Confo's own options and without anything named like a secret (so a
cache never serves another store's values, and holds no password, not even hashed); the
namespace id is a digest of its name, so any name makes a safe file name.

Each file is written whole to a temporary file in the same folder, flushed to the disk, and
renamed over the old one: readers, other processes of the service, a crash or a SIGKILL in the
middle never leave a torn file in its place, at worst a stray temporary file that readers never
open and later writers remove. A file is three lines. The header (JSON) names the format and its
version, the store id, the namespace and when it was read; the body (JSON) holds the values,
their revisions and the namespace's schemas; the last line is the SHA-256 of the two. A file that
fails any check (truncated, corrupt, another store's, a newer format, older than
``max_staleness``) is ignored with a warning: never served, never a crash.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from confo.model import Snapshot

log = logging.getLogger(__name__)

FORMAT = "confo-cache"
VERSION = 1
SECRET_WORDS = ("pass", "secret", "token", "auth", "credential")
"""Credentials named with any of these are left out of the store id (and of the cache)."""
TUNING_WORDS = ("timeout", "interval", "poll", "retr", "wait", "heartbeat")
"""Credentials named with any of these tune the client, not say which store: left out of the
store id too, so that tuning one does not lose the cache."""
FUTURE_SLACK = 300.0
"""Seconds a cache file's read_at may lie ahead of this clock (another host's) and be used."""
STRAY_AFTER = 600.0
"""Seconds after which a temporary file is taken for one a killed writer left, and removed."""
IDLE = 2.0
"""Seconds the cache's writer thread waits for work before it ends (the next save starts one)."""
CLOSE_WITHIN = 2.0
"""Seconds closing a backend waits for its last saves to reach the disk."""


def store_id(backend_type: str, credentials: Mapping[str, Any]) -> str:
    """What tells one store from another: a digest of the backend type and the credentials
    without secrets. Two processes of a service that reach one store share it."""
    kept = {
        str(key): str(value)  # a port given as "6379" or 6379 is one store
        for key, value in credentials.items()
        if not any(word in str(key).lower() for word in (*SECRET_WORDS, *TUNING_WORDS))
    }
    text = orjson.dumps([backend_type, kept], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(text).hexdigest()[:24]


@dataclass(frozen=True)
class Cached:
    """One namespace as the cache holds it, and when it was read from the store (UTC)."""

    namespace: str
    snapshot: Snapshot
    read_at: datetime

    def age(self) -> float:
        """Seconds since it was read from the store."""
        return max(0.0, time.time() - self.read_at.timestamp())


class UnusableCacheFile(Exception):
    """Why one cache file cannot be served."""


class SnapshotCache:
    """The cache files of one store, in ``folder``, refusing any older than ``max_staleness``
    seconds (None: any age)."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        backend_type: str,
        credentials: Mapping[str, Any],
        max_staleness: float | None = None,
    ) -> None:
        self.store = store_id(backend_type, credentials)
        self.backend_type = backend_type
        self.folder = Path(folder).expanduser() / f"{backend_type}-{self.store}"
        self.max_staleness = max_staleness

    def __repr__(self) -> str:
        return f"<SnapshotCache {str(self.folder)!r}>"

    def path(self, namespace: str) -> Path:
        digest = hashlib.sha256(namespace.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.folder / f"{digest}.json"

    # --- writing -----------------------------------------------------------------------------

    def save(self, namespace: str, snapshot: Snapshot, read_at: datetime) -> None:
        """Replace the namespace's file, atomically (see the module's docstring).

        :raises OSError: the folder cannot be made or written; the old file is left whole.
        """
        body = orjson.dumps(
            {
                "configs": snapshot.configs,
                "revisions": snapshot.revisions,
                "schemas": snapshot.schemas,
                "schemas_revision": snapshot.schemas_revision,
            }
        )
        header = orjson.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "backend_type": self.backend_type,
                "store": self.store,
                "namespace": namespace,
                "read_at": read_at.isoformat(),
            }
        )
        content = header + b"\n" + body
        checksum = b"sha256:" + hashlib.sha256(content).hexdigest().encode()
        self.folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.mkdir(mode=0o700, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)  # mode 0600
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(content + b"\n" + checksum + b"\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path(namespace))
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise
        _sync_folder(self.folder)

    def sweep(self) -> None:
        """Remove the temporary files writers killed mid-write left behind."""
        try:
            strays = list(self.folder.glob(".tmp-*"))
        except OSError:
            return
        for stray in strays:
            with suppress(OSError):
                if time.time() - stray.stat().st_mtime > STRAY_AFTER:
                    stray.unlink()

    # --- reading -----------------------------------------------------------------------------

    def load(self, namespace: str) -> Cached | None:
        """The namespace as cached; None, with a warning saying why, if its file is unusable
        (none at all is no warning)."""
        path = self.path(namespace)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, MemoryError) as exc:
            log.warning("Ignoring cache file %s: it cannot be read (%r).", path, exc)
            return None
        try:
            return self._parse(data, namespace)
        except UnusableCacheFile as exc:
            log.warning("Ignoring cache file %s of namespace %r: %s", path, namespace, exc)
            return None

    def newest(self) -> Cached | None:
        """The most recently read usable namespace of this store's cache (warning about every
        unusable file): whether the cache can serve at all, and how old it is."""
        try:
            paths = sorted(self.folder.glob("[0-9a-f]*.json"))
        except OSError:
            return None
        found: list[Cached] = []
        for path in paths:
            try:
                cached = self._parse(path.read_bytes(), None)
            except (OSError, MemoryError, UnusableCacheFile) as exc:
                log.warning("Ignoring cache file %s: %s", path, exc)
                continue
            if self.path(cached.namespace) == path:  # else: renamed by hand, not ours
                found.append(cached)
        return max(found, key=lambda cached: cached.read_at, default=None)

    def _parse(self, data: bytes, namespace: str | None) -> Cached:
        content, _, trailer = data.removesuffix(b"\n").rpartition(b"\n")
        line, newline, body = content.partition(b"\n")
        header = _json_object(line, "its header")
        if header.get("format") != FORMAT:
            raise UnusableCacheFile("it is not a Confo cache file.")
        if header.get("version") != VERSION:
            raise UnusableCacheFile(
                f"it is in format version {header.get('version')!r}, and this Confo reads "
                f"version {VERSION} (a newer Confo wrote it?)."
            )
        if header.get("store") != self.store or header.get("backend_type") != self.backend_type:
            raise UnusableCacheFile("it holds another store's values.")
        if namespace is not None and header.get("namespace") != namespace:
            raise UnusableCacheFile("it holds another namespace.")
        if not newline or trailer != b"sha256:" + hashlib.sha256(content).hexdigest().encode():
            raise UnusableCacheFile("its checksum does not match (truncated or corrupt).")
        read_at = _read_at(header.get("read_at"))
        snapshot = _snapshot(_json_object(body, "its body"))
        cached = Cached(str(header.get("namespace")), snapshot, read_at)
        ahead = cached.read_at.timestamp() - time.time()
        if ahead > FUTURE_SLACK:
            raise UnusableCacheFile(
                f"its read_at lies {describe_age(ahead)} in the future (a clock set back?), so "
                "its age cannot be told."
            )
        if self.max_staleness is not None and cached.age() > self.max_staleness:
            raise UnusableCacheFile(
                f"it was read {describe_age(cached.age())} ago, longer than max_staleness "
                f"({self.max_staleness:g} s) allows."
            )
        return cached


class CacheWriter:
    """Saves namespaces to a :class:`SnapshotCache` on a thread of its own, off the caller's
    path. Saves of one namespace coalesce: the latest view is written, once. The thread ends
    when idle for :data:`IDLE` seconds, and the next save starts another. What is pending when
    the interpreter exits is written first (within :data:`CLOSE_WITHIN`), closed or not: a
    script that exits right after reading still leaves its cache."""

    def __init__(self, cache: SnapshotCache) -> None:
        _LIVE.add(self)
        self.cache = cache
        self._cond = threading.Condition()
        # namespace -> what to save and when it was read (called on the writer thread)
        self._pending: dict[str, Callable[[], tuple[Snapshot, float] | None]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False
        self._swept = False

    def want(self, namespace: str, take: Callable[[], tuple[Snapshot, float] | None]) -> None:
        """Save what ``take()`` returns for ``namespace``: what to save, and when it was read
        from the store (a time.time()); None: nothing."""
        with self._cond:
            if self._closed:
                return
            self._pending[namespace] = take
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"confo-cache {self.cache.folder.name}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def close(self) -> None:
        """Write what is pending (within :data:`CLOSE_WITHIN` seconds) and save nothing more."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(CLOSE_WITHIN)

    def _run(self) -> None:
        if not self._swept:
            self._swept = True
            self.cache.sweep()
        while True:
            with self._cond:
                if not self._pending and not self._closed:
                    self._cond.wait(IDLE)
                if not self._pending:
                    self._thread = None
                    return
                jobs, self._pending = self._pending, {}
            for namespace, take in jobs.items():
                self._save(namespace, take)

    def _save(self, namespace: str, take: Callable[[], tuple[Snapshot, float] | None]) -> None:
        try:
            taken = take()
            if taken is not None:
                snapshot, read_at = taken
                self.cache.save(namespace, snapshot, datetime.fromtimestamp(read_at, timezone.utc))
        except Exception as exc:  # a full disk must not end the thread, nor reach the caller
            log.warning(
                "Could not save namespace %r to the cache in %s (%s): the previous file, if "
                "any, is kept.",
                namespace,
                self.cache.folder,
                exc,
            )


_LIVE: weakref.WeakSet[CacheWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_LIVE):
        writer.close()


def describe_age(seconds: float) -> str:
    """``42 s``, ``3 min``, ``5 h``, ``2 days``: an age as a person reads it."""
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UnusableCacheFile(f"{what} is not JSON (truncated or corrupt).") from exc
    if not isinstance(value, dict):
        raise UnusableCacheFile(f"{what} is not a JSON object.")
    return value


def _read_at(value: object) -> datetime:
    try:
        read_at = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise UnusableCacheFile(f"its read_at {value!r} is not a time.") from exc
    if read_at.tzinfo is None:
        raise UnusableCacheFile(f"its read_at {value!r} has no time zone.")
    return read_at


def _snapshot(body: dict[str, Any]) -> Snapshot:
    configs, revisions = body.get("configs"), body.get("revisions")
    schemas, schemas_revision = body.get("schemas"), body.get("schemas_revision")
    if not isinstance(configs, dict) or not all(isinstance(v, dict) for v in configs.values()):
        raise UnusableCacheFile("its configurations are not JSON objects.")
    if not isinstance(revisions, dict) or revisions.keys() != configs.keys():
        raise UnusableCacheFile("its revisions do not match its configurations.")
    if not all(map(_is_revision, revisions.values())) or not (
        schemas_revision is None or _is_revision(schemas_revision)
    ):
        raise UnusableCacheFile("it holds a revision that is neither a number nor a text.")
    if not isinstance(schemas, dict) or not all(isinstance(v, dict) for v in schemas.values()):
        raise UnusableCacheFile("its schemas are not JSON objects.")
    return Snapshot(configs, revisions, schemas, schemas_revision)


def _is_revision(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: the folder's entry is on the disk)."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
