"""The file backend's change records: append-only logs in ``<config_path>/.confo-history/``.

A namespace's history is a folder of segments, ``.confo-history/<namespace>/<first id>.log``,
each a run of records, one per line: ``<id> <crc32 of the JSON> <record JSON>``. A hidden folder,
so never a namespace, and outside every namespace's folder, so never a configuration.

Why a log and not a file per record: a line and one ``fdatasync`` are the whole price of a
record, where a file of its own cost a temp file, its fsync, a rename, the folder's fsync and a
listing to find the next id (a persist of one configuration took 1.9x as long as without
history; with the log, 1.45x: the one device flush the change's own two cannot share). Reading
the newest records reads the log backwards from its end, so ``history(limit=50)`` reads 50 lines
of one file, not 50 files.

Files have no transactions: a persist's configuration files are renamed into place (and their
folder fsynced) first, then its record appended and synced. A crash in between leaves a change
without its record (its ``before`` then shows in the next record as a value the chain did not
have), never a record without its change. A crash mid-append leaves a torn last line: its
checksum (or its missing newline) gives it away, readers skip it, and the next writer cuts it
off before appending. Ids are a counter under the namespace's lock (the one every writer of the
namespace holds), zero-padded so that they sort as strings. Retention: a writer whose segment
holds ``keep`` records starts a new one and deletes all but the one it filled, so between
``keep`` and twice ``keep`` records are kept (after ``history_limit`` is lowered, the segment
being filled may hold more until it is deleted in turn).
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from confo.history import ChangeRecord, RecordDraft, decode_record
from confo_file.durable import fsync_folder

log = logging.getLogger(__name__)

FOLDER = ".confo-history"
ID_DIGITS = 12
SUFFIX = ".log"
BLOCK = 64 * 1024  # bytes read at a time, from the end backwards
_HEAD = ID_DIGITS + 1 + 8 + 1  # "<id> <crc32> " before each record's JSON


def folder_of(root: Path, namespace: str) -> Path:
    return root / FOLDER / namespace


def append(root: Path, namespace: str, record: RecordDraft) -> str:
    """Add ``record`` as the namespace's newest, durably; call with the namespace's lock held.
    Returns the record's id."""
    folder = folder_of(root, namespace)
    segments = _segments(folder)
    if not segments:
        _make(folder)
    first = segments[-1] if segments else 1
    fd = _open(_path(folder, first))
    try:
        last = _last_id(fd)
        record_id = first if last is None else last + 1
        rotated = record_id - first >= record.keep
        if rotated:  # retention: a new segment; all but the one just filled go
            newer = _open(_path(folder, record_id))
            os.close(fd)
            fd, first = newer, record_id
        created = os.fstat(fd).st_size == 0
        body = record.encode()
        _write_all(fd, b"%0*d %08x " % (ID_DIGITS, record_id, zlib.crc32(body)) + body + b"\n")
        os.fdatasync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_folder(folder)
    if rotated:
        for old in segments[:-1]:
            _path(folder, old).unlink(missing_ok=True)
    return f"{record_id:0{ID_DIGITS}d}"


def read(root: Path, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
    """The newest ``limit`` records older than ``before``, newest first."""
    folder = folder_of(root, namespace)
    records: list[ChangeRecord] = []
    for first in reversed(_segments(folder)):
        path = _path(folder, first)
        try:
            file = open(path, "rb")  # noqa: SIM115 (read lazily, closed below)
        except FileNotFoundError:  # pruned by a writer meanwhile: it held the oldest
            continue
        with file:
            size = os.fstat(file.fileno()).st_size
            for torn, line in _lines_backwards(file.fileno(), size):
                if torn:  # being appended now, or cut short: never a record, even if whole
                    continue
                if before is not None and line[:ID_DIGITS].decode(errors="replace") >= before:
                    continue  # a page further back: newer lines are not checked again
                found = _decode(line, path)
                if found is None:
                    continue
                where = f"File {str(path)!r}, record {found[0]}"
                records.append(decode_record(found[0], found[1], where))
                if len(records) == limit:
                    return records
    return records


def _segments(folder: Path) -> list[int]:
    """The first ids of ``folder``'s segments, oldest first; [] if it has none."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(
        int(name[: -len(SUFFIX)])
        for name in names
        if name.endswith(SUFFIX) and name[: -len(SUFFIX)].isdigit()
    )


def _path(folder: Path, first: int) -> Path:
    return folder / f"{first:0{ID_DIGITS}d}{SUFFIX}"


def _open(path: Path) -> int:
    # 0600: records hold every value twice, secrets included
    return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # a short write (a signal, a full disk) leaves a torn line: the next cuts it
        view = view[os.write(fd, view) :]


def _make(folder: Path) -> None:
    """Create ``folder`` (and ``.confo-history``), durably."""
    for made in (folder.parent, folder):
        if not made.is_dir():
            made.mkdir(exist_ok=True)
            fsync_folder(made.parent)


def _last_id(fd: int) -> int | None:
    """The id of the segment's last record; None if it has none. A torn last line (a writer
    killed mid-append, or a crash) is cut off first: only writers, under the lock, call this.
    A whole line that fails its checksum (edited by hand) is left, and its id still counts."""
    size = os.fstat(fd).st_size
    for torn, line in _lines_backwards(fd, size):
        if torn:
            log.warning("cut off a torn change record (%d bytes) left by a crash", len(line))
            os.ftruncate(fd, size - len(line))
            continue
        head = line[:ID_DIGITS]
        if len(head) == ID_DIGITS and head.isdigit():
            return int(head)
    return None


def _lines_backwards(fd: int, size: int) -> Iterator[tuple[bool, bytes]]:
    """The lines of ``fd``'s first ``size`` bytes, last first, without their newlines, each
    with whether it is torn (a last line that lacks its newline). Reads :data:`BLOCK` bytes
    at a time, so the newest records cost what they weigh, however long the log."""
    final = True  # the next part is what follows the last newline
    later: list[bytes] = []  # the start of a line whose beginning lies in an earlier block
    position = size
    while position > 0:
        start = max(0, position - BLOCK)
        parts = os.pread(fd, position - start, start).split(b"\n")
        position = start
        if len(parts) == 1 and position > 0:
            later.append(parts[0])
            continue
        parts[-1] += b"".join(reversed(later))
        later = [parts.pop(0)] if position > 0 else []
        for part in reversed(parts):
            if part or not final:
                yield final, part
            final = False


def _decode(line: bytes, path: Path) -> tuple[str, bytes] | None:
    """A whole line's id and record JSON; None (logged) for a damaged one, which is never
    read as a change."""
    head, body = line[:_HEAD], line[_HEAD:]
    parts = head.split(b" ")
    if (
        len(parts) == 3
        and len(parts[0]) == ID_DIGITS
        and parts[0].isdigit()
        and parts[1] == b"%08x" % zlib.crc32(body)
    ):
        return parts[0].decode(), body
    log.warning("skipped a damaged change record in %s: its checksum fails", path)
    return None
