"""The file backend: ``<config_path>/<namespace>/<config>.json``.

Namespaces are folders and configurations are JSON files, so they can be edited by hand and kept
in version control. Each file is replaced atomically (temp file, fsync, rename, fsync of the
folder): a crash leaves the old file or the new one, never half of one. A persist of several files
is not one transaction, as files cannot be renamed into place all at once: it checks first that
the disk can hold all of it, and if a write still fails midway, the error says how many files were
written. (Writing every temp file before renaming any was tried: on ext4 it cost about 40% at
1,000 files, for protection against little more than the full disk the check already catches.)

Temp files are written in ``<config_path>/.confo-tmp/`` (hidden, empty but while a persist is
under way): a process killed mid-persist leaves its temp files there, and the next persist of the
namespace removes them (it holds the namespace's lock, so no live writer's file is among them).

Conflicts. A configuration's revision is its file's identity: modification time in nanoseconds,
inode and size. An atomic replace always brings a new inode, and Confo stamps each file it writes
with a modification time later than the one it replaces, so successive revisions of a file never
repeat while Confo writes it. A write takes an advisory lock (``flock``) on the namespace's folder,
checks every expected revision, renames the new files into place and lets go: readers take no
lock, and writers wait only for each other's check and renames. Another program that writes a
file in place twice within one tick of the file system's clock, at the same size, can go unseen;
one that replaces files atomically (as editors and Confo do) cannot.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
import weakref
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from confo import Backend, hookimpl
from confo import credentials as creds
from confo.errors import (
    BackendUnavailableError,
    ConflictError,
    CorruptDataError,
    CredentialsError,
    FileNotFoundException,
    InvalidNameError,
    NamespaceExistsException,
    NamespaceNotFoundError,
    PartialWriteError,
    StoreURLError,
)
from confo.history import ChangeRecord
from confo.model import Capabilities, Changes, Revision, Snapshot, WatchFeed, WriteResult
from confo.names import NameKind, check_name, is_valid
from confo.schemas import decode_document, encode_document
from confo.values import decode, encode
from confo_file import history
from confo_file.durable import fsync_folder

log = logging.getLogger(__name__)

SUFFIX = ".json"
TEMP_FOLDER = ".confo-tmp"  # in config_path: temp files of the persists under way
SCHEMAS_FOLDER = ".confo-schemas"  # in config_path: <namespace>.json, a namespace's schemas
MAX_FILE_NAME_BYTES = 255  # the limit of ext4, XFS, APFS and NTFS
READ_ATTEMPTS = 3  # reads of a file being written in place, until its stat holds still


class FileBackend(Backend):
    """Configurations as JSON files under ``credentials["config_path"]``."""

    url_schemes = ("file",)

    def __init__(self) -> None:
        self.root: Path | None = None

    def __repr__(self) -> str:
        return f"<FileBackend config_path={str(self.root)!r}>"

    @hookimpl
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        creds.refuse_unknown(credentials, ["config_path"], "file")
        path = credentials.get("config_path")
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise CredentialsError(
                "The file backend needs credentials {'config_path': '<folder>'}: the folder "
                f"that holds one sub-folder per namespace (got {path!r})."
            )
        problem = creds.text_problem(os.fsdecode(path))
        if problem:
            raise CredentialsError(f"The file backend's config_path {problem}.")
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            raise FileNotFoundException(
                f"The file backend's config_path {str(path)!r} is not an existing folder. "
                f"Create it first (mkdir -p {path}) or fix the path."
            )
        self.root = root

    @hookimpl
    def confo_credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        """``file:PATH`` (relative or absolute) or ``file://PATH``; ``file:///srv/confo`` is
        ``/srv/confo``. The path is taken as written: no options, no escapes."""
        scheme, separator, path = url.partition(":")
        if not separator or scheme.lower() != "file":
            return None
        path = path.removeprefix("//")
        if not path:
            raise StoreURLError(
                "The URL 'file:' names no folder. Write file:PATH, e.g. file:./configs."
            )
        return {"config_path": path}

    @hookimpl
    def confo_check_name(self, kind: NameKind, name: str) -> None:
        if kind == "namespace" and name.startswith("."):
            raise InvalidNameError(
                f"Invalid namespace name {name!r}: the file backend keeps hidden folders (.git, "
                "its own temp folders) out of the namespaces. Use a name without a leading '.'."
            )
        if len(name.encode()) + len(SUFFIX) > MAX_FILE_NAME_BYTES:
            raise InvalidNameError(
                f"Invalid {kind} name {name!r}: it is too long for a file name "
                f"({MAX_FILE_NAME_BYTES} bytes with {SUFFIX!r} in UTF-8). Use a shorter name."
            )

    @hookimpl
    def confo_list_namespaces(self) -> list[str]:
        with self._io("list namespaces"):
            return sorted(
                entry.name
                for entry in os.scandir(self._root())
                if entry.is_dir() and not entry.name.startswith(".") and is_valid(entry.name)
            )

    @hookimpl
    def confo_create_namespace(self, namespace: str) -> None:
        folder = self._folder(namespace)
        if folder.exists() and not folder.is_dir():
            raise NamespaceExistsException(
                f"Cannot create namespace {namespace!r}: {str(folder)!r} exists and is not a "
                "folder. Move it away or choose another name."
            )
        with self._io(f"create namespace {namespace!r}"):
            folder.mkdir(exist_ok=True)
            fsync_folder(folder.parent)

    @hookimpl
    def confo_delete_namespace(self, namespace: str) -> None:
        folder = self._existing_folder(namespace)
        with self._io(f"delete namespace {namespace!r}"):
            # Rename first so that no reader ever sees a half-deleted namespace; under the lock,
            # so that no writer renames a file into it meanwhile.
            doomed = Path(tempfile.mkdtemp(prefix=".confo-deleted-", dir=self._root()))
            records = history.folder_of(self._root(), namespace)
            document = _schemas_file(self._root(), namespace)
            with _locked(folder, create=False):
                folder.rename(doomed / namespace)
                if records.is_dir():  # its history goes with it: a new one starts afresh
                    records.rename(doomed / history.FOLDER)
                if document.exists():  # and its schemas
                    document.rename(doomed / SCHEMAS_FOLDER)
            fsync_folder(folder.parent)
            shutil.rmtree(doomed)

    @hookimpl
    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        folder = self._existing_folder(namespace)
        snapshot = Snapshot()
        with self._io(f"read namespace {namespace!r}"):
            if names is None:
                found = sorted(
                    entry.name[: -len(SUFFIX)]
                    for entry in os.scandir(folder)
                    if entry.name.endswith(SUFFIX)
                )
            else:
                found = list(names)
            base = os.path.join(folder, "")
            for name in found:
                if is_valid(name):
                    path = f"{base}{name}{SUFFIX}"
                    read = _read_file(path)
                    if read is not None:
                        snapshot.configs[name] = decode(read[0], f"File {path!r}")
                        snapshot.revisions[name] = _revision(read[1])
            document = str(_schemas_file(self._root(), namespace))
            read = _read_file(document)
            if read is not None:
                snapshot.schemas = decode_document(read[0], f"File {document!r}")
                snapshot.schemas_revision = _revision(read[1])
        return snapshot

    @hookimpl
    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        folder = self._folder(namespace)
        encoded = {name: encode(config, indent=2) + b"\n" for name, config in changes.put.items()}
        written: dict[str, Revision] = {}
        with self._io(f"write namespace {namespace!r}"), _locked(folder, create=True):
            temps = _temps_of(self._root(), folder, namespace)
            _check_revisions(self._root(), folder, namespace, changes)
            _check_free_space(folder, encoded)
            for name, data in encoded.items():
                try:
                    written[name] = _replace(folder / f"{name}{SUFFIX}", data, temps)
                except OSError as exc:
                    raise PartialWriteError(
                        f"Could not write {name}{SUFFIX} in {str(folder)!r}: {exc.strerror or exc}"
                        f". {len(written)} of {len(encoded)} configurations of this persist were "
                        "written (each file is whole, old or new); persist again to finish.",
                        written,
                    ) from exc
            for name in changes.delete:
                (folder / f"{name}{SUFFIX}").unlink(missing_ok=True)
            fsync_folder(folder)
            root = self._root()
            schemas_revision = None
            if changes.schemas is not None:
                schemas_revision = _write_schemas(root, namespace, changes.schemas)
            records = []
            if changes.record is not None:  # after the change: a crash leaves no false record
                records.append(history.append(root, namespace, changes.record))
        return WriteResult(written, records, schemas_revision)

    @hookimpl
    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        self._existing_folder(namespace)
        with self._io(f"read the history of namespace {namespace!r}"):
            return history.read(self._root(), namespace, limit, before)

    @hookimpl
    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        from watchdog.observers import Observer  # noqa: PLC0415 (starts no thread at import)

        root = self._root()
        observer = Observer()
        # The whole config_path, not each namespace's folder: one inotify watch serves every
        # namespace, and a folder deleted (renamed away) and made again would leave a watch on
        # the folder itself watching the old one.
        observer.schedule(_Events(root, feed), str(root), recursive=True)
        observer.start()
        _OVERFLOWS.feeds.add(feed)
        try:
            feed.resync()  # in place: whatever happened before is read once now
            while not stopping.wait(min(0.25, feed.heartbeat)):
                if not observer.is_alive() or not root.is_dir():
                    raise BackendUnavailableError(f"Watching {str(root)!r} stopped.")
                feed.alive()
        finally:
            _OVERFLOWS.feeds.discard(feed)
            observer.stop()
            observer.join(1.0)

    @hookimpl
    def confo_capabilities(self) -> Capabilities:
        # A persist of several files is not one transaction: no limit to declare. A name is a
        # file name with its suffix.
        return Capabilities(
            watch="latest",
            max_name_bytes=MAX_FILE_NAME_BYTES - len(SUFFIX),
            history=True,
            schemas=True,
        )

    @hookimpl
    def confo_close(self) -> None:
        self.root = None

    def _root(self) -> Path:
        if self.root is None:
            raise BackendUnavailableError("This file backend is closed; load it again.")
        return self.root

    def _folder(self, namespace: str) -> Path:
        check_name("namespace", namespace)  # defence in depth: never leave config_path
        return self._root() / namespace

    def _existing_folder(self, namespace: str) -> Path:
        folder = self._folder(namespace)
        if not folder.is_dir():
            raise NamespaceNotFoundError(
                f"Namespace {namespace!r} does not exist in {str(self._root())!r}. "
                f"Create it with create_namespace({namespace!r})."
            )
        return folder

    @contextmanager
    def _io(self, action: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise BackendUnavailableError(
                f"Could not {action} in {str(self.root)!r}: {exc.strerror or exc}."
            ) from exc


def _not_watchdogs_stop_race(record: logging.LogRecord) -> bool:
    # watchdog's inotify emitter logs this at ERROR when an event arrives while it stops, which is
    # how every watch ends; it is harmless, and would print in programs with no logging set up.
    return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_not_watchdogs_stop_race)


class _Overflows(logging.Filter):
    """The kernel's inotify queue overflowed (a persist of 10,000 files can do it): events were
    lost, and watchdog tells no handler, only its log. Every file watch then reads all it
    watches again (``resync``), and the warning becomes Confo's own note of it."""

    def __init__(self) -> None:
        super().__init__()
        self.feeds: weakref.WeakSet[WatchFeed] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "queue overflowed" not in message:
            return True
        if "events were lost" in message:
            feeds = list(self.feeds)
            log.info(
                "inotify dropped events (its queue overflowed): %d watches read again", len(feeds)
            )
            for feed in feeds:
                # Now, and once watchdog has rebuilt its watches (it does so right after this
                # message): a change between the two would otherwise reach neither.
                feed.resync()
                later = threading.Timer(1.0, feed.resync)
                later.daemon = True
                later.start()
        return False


_OVERFLOWS = _Overflows()
logging.getLogger("watchdog.observers.inotify_c").addFilter(_OVERFLOWS)
logging.getLogger("watchdog.observers.inotify").addFilter(_OVERFLOWS)


class _Events(FileSystemEventHandler):
    """Maps file system events under ``root`` to the namespaces and configurations they touch.

    A replace by Confo is a rename of a temp file onto ``<name>.json`` (its destination names the
    configuration); an editor's save, a write in place or a delete name it directly. Anything
    else happening to a namespace's folder itself (made, deleted, renamed) may change them all.
    """

    def __init__(self, root: Path, feed: WatchFeed) -> None:
        super().__init__()
        self.root = str(root)
        self.feed = feed

    # Opening and reading a file are events too, and the watch itself reads the files it is told
    # about: reacting to those would loop for ever. Only changes count.
    CHANGES = frozenset({"created", "deleted", "modified", "moved", "closed"})

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.event_type not in self.CHANGES or (
            event.is_directory and event.event_type == "modified"
        ):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            parent, file = os.path.split(os.fsdecode(raw))
            if parent == self.root and file:  # a namespace's folder itself
                self.feed.changed(file, None)
                continue
            folder, namespace = os.path.split(parent)
            if folder == self.root and file.endswith(SUFFIX):
                if namespace == SCHEMAS_FOLDER:  # its schemas: any configuration may now fail
                    self.feed.changed(file[: -len(SUFFIX)], None)
                else:
                    self.feed.changed(namespace, [file[: -len(SUFFIX)]])


def _read_file(path: str) -> tuple[bytes, os.stat_result] | None:
    """The bytes of a regular file and the stat of that very file, of one moment; None if
    there is none.

    A tool writing the file in place (an editor, ``echo > x.json``) may write while it is read:
    the bytes would then be newer than the stat taken first, and the next read would report the
    same value at a new revision. So the stat is taken again after the read, and the file read
    again while they differ (a few times; still changing, the stat before the last read is
    kept: older than the bytes, which a conditional write only ever takes for a conflict).

    Plain file descriptors: a reload opens every file of a namespace, and Python's file objects
    cost more than the read itself. O_NONBLOCK: a FIFO named like a configuration must not hang.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None  # deleted since it was listed
    try:
        for _ in range(READ_ATTEMPTS):
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise CorruptDataError(
                    f"File {path!r} is not a regular file ({_file_kind(info.st_mode)}), though "
                    "it is named like a configuration. Move it away or rename it; Confo left it "
                    "alone."
                )
            data = _read_all(fd, info.st_size)
            if _revision(os.fstat(fd)) == _revision(info):
                break
            os.lseek(fd, 0, os.SEEK_SET)
    finally:
        os.close(fd)
    return data, info


def _read_all(fd: int, size: int) -> bytes:
    chunks = [os.read(fd, size + 1)]
    while chunks[-1]:
        chunks.append(os.read(fd, 65536))
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a folder",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a device",
    }
    return next((kind for test, kind in kinds.items() if test(mode)), "a device or link")


def _revision(info: os.stat_result) -> str:
    return f"{info.st_mtime_ns}:{info.st_ino}:{info.st_size}"


def _stored_revision(path: Path) -> str | None:
    try:
        return _revision(os.stat(path))
    except FileNotFoundError:
        return None


def _check_revisions(root: Path, folder: Path, namespace: str, changes: Changes) -> None:
    """Raise ConflictError unless every file (unless ``force``) and the schema document (if
    checked) still have the revisions the write expects."""
    conflicts = (
        []
        if changes.force
        else [
            name
            for name in changes.checked()
            if _stored_revision(folder / f"{name}{SUFFIX}") != changes.expects(name)
        ]
    )
    schemas = changes.check_schemas and (
        _stored_revision(_schemas_file(root, namespace)) != changes.schemas_expected
    )
    if conflicts or schemas:
        raise ConflictError(namespace, conflicts, schemas=schemas)


def _schemas_file(root: Path, namespace: str) -> Path:
    """Where the namespace's schemas are: a hidden folder of config_path, never a namespace."""
    return root / SCHEMAS_FOLDER / f"{namespace}{SUFFIX}"


def _write_schemas(root: Path, namespace: str, schemas: dict[str, Any]) -> str | None:
    """Replace (or, for ``{}``, remove) the namespace's schema document; its new revision."""
    path = _schemas_file(root, namespace)
    if not schemas:
        with suppress(FileNotFoundError):
            path.unlink()
            fsync_folder(path.parent)
        return None
    path.parent.mkdir(exist_ok=True)
    temps = _Temps(root / TEMP_FOLDER, _temp_prefix(namespace))  # on config_path's device
    revision = _replace(path, encode_document(schemas) + b"\n", temps)
    fsync_folder(path.parent)
    return revision


@contextmanager
def _locked(folder: Path, *, create: bool) -> Iterator[None]:
    """Hold the namespace's advisory lock: ``flock`` on its folder, which every Confo writer of
    this namespace takes. The lock dies with its process, so a crashed writer blocks nobody."""
    while True:
        if create:
            folder.mkdir(exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.path.samestat(os.stat(folder), os.fstat(fd))
            except FileNotFoundError:
                same = False
            if same:
                yield
                return
            if not create:  # the namespace was deleted while we waited
                raise FileNotFoundError(2, "The namespace folder was removed", str(folder))
        finally:
            os.close(fd)  # closing the last descriptor releases the lock


def _check_free_space(folder: Path, encoded: dict[str, bytes]) -> None:
    """Refuse a persist the disk cannot hold before writing any of it: a full disk is how a
    write fails in practice, and files cannot be renamed into place all at once."""
    needed = sum(len(data) for data in encoded.values()) + 1024 * 1024
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise BackendUnavailableError(
            f"Not enough free space in {str(folder)!r} to persist {len(encoded)} configurations "
            f"({needed:,} bytes needed, {free:,} free). Nothing was written."
        )


class _Temps(NamedTuple):
    """Where a namespace's temp files go: a folder and the prefix naming them as its own."""

    folder: Path
    prefix: str


def _temps_of(root: Path, folder: Path, namespace: str) -> _Temps:
    """``<config_path>/.confo-tmp``, emptied of what dead writers of ``namespace`` left there.

    Only called under the namespace's lock: every Confo writer of the namespace holds it while
    its temp files exist, so any of the namespace's temp files found then was left by a writer
    that died (a kill mid-persist), never a live one's. Temp files are named by a digest of the
    namespace, so one namespace's persist leaves every other's alone. The folder holds only the
    files of persists under way, so listing it costs little, and no namespace is listed. It is
    hidden, so it is never a namespace. A namespace folder on another file system (a symlink)
    keeps its temp files beside its configurations instead: a rename cannot cross devices.
    """
    prefix = _temp_prefix(namespace)
    temps = root / TEMP_FOLDER
    temps.mkdir(exist_ok=True)
    if os.stat(temps).st_dev != os.stat(folder).st_dev:
        return _Temps(folder, f".{prefix}")
    dead = [entry for entry in os.scandir(temps) if entry.name.startswith(f"{prefix}.")]
    for entry in dead:
        with suppress(FileNotFoundError):
            os.unlink(entry.path)
    if dead:
        log.info("removed %d temp file(s) left by dead writers of %r", len(dead), namespace)
    return _Temps(temps, prefix)


def _temp_prefix(namespace: str) -> str:
    return hashlib.blake2b(namespace.encode(), digest_size=16).hexdigest()


def _replace(target: Path, data: bytes, temps: _Temps) -> str:
    """Write ``data`` to a durable temp file in ``temps``, then rename it over ``target``.
    Returns the new revision."""
    previous = _stored_mtime(target)
    temp, info = _write_temp(target, data, previous, temps)
    try:
        os.replace(temp, target)
    except BaseException:
        os.unlink(temp)
        raise
    return _revision(info)


def _stored_mtime(target: Path) -> int:
    try:
        return os.stat(target).st_mtime_ns
    except FileNotFoundError:
        return 0


def _write_temp(
    target: Path, data: bytes, previous_mtime: int, temps: _Temps
) -> tuple[str, os.stat_result]:
    fd, temp = tempfile.mkstemp(prefix=f"{temps.prefix}.", suffix=".tmp", dir=temps.folder)
    try:
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            # Later than the file it replaces, even within one tick of the clock, so that a
            # revision is never repeated (see the module's docstring).
            mtime = max(time.time_ns(), previous_mtime + 1)
            os.utime(file.fileno(), ns=(mtime, mtime))
            os.fsync(file.fileno())
            info = os.fstat(file.fileno())
    except BaseException:
        os.unlink(temp)
        raise
    return temp, info


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once, at import, not while threads write.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_NEW_FILE_MODE = 0o666 & ~_read_umask()


def _mode_for(target: Path) -> int:
    """Keep the permissions of the file being replaced; new files get the umask's default."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return _NEW_FILE_MODE
