"""The file backend's change records: ``<config_path>/.confo-history/<namespace>/<id>.json``.

A hidden folder, so never a namespace, and outside every namespace's folder, so never a
configuration. Files have no transactions: a persist's configuration files are renamed into
place first, then its record, written whole to a temp file, fsynced and renamed in. A crash in
between leaves a change without its record (its ``before`` then shows in the next record as a
value the chain did not have), never a record without its change, and never half a record: a
record is in the history only once renamed there. Ids are a counter under the namespace's lock
(the one every writer of the namespace holds), zero-padded so that they sort as strings.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

from confo.history import ChangeRecord, RecordDraft, decode_record

FOLDER = ".confo-history"
ID_DIGITS = 12
SUFFIX = ".json"


def folder_of(root: Path, namespace: str) -> Path:
    return root / FOLDER / namespace


def _ids(folder: Path) -> list[int]:
    """The ids of the records in ``folder``, oldest first; [] if it has none."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(
        int(name[: -len(SUFFIX)])
        for name in names
        if name.endswith(SUFFIX) and name[: -len(SUFFIX)].isdigit()
    )


def _path(folder: Path, record_id: int) -> Path:
    return folder / f"{record_id:0{ID_DIGITS}d}{SUFFIX}"


def append(root: Path, namespace: str, record: RecordDraft, temps: Path, prefix: str) -> str:
    """Add ``record`` as the namespace's newest; call with the namespace's lock held. Prunes the
    oldest beyond twice ``record.keep``, down to ``keep``. Returns the record's id. The temp
    file is named with ``prefix``, the namespace's own: one a killed writer leaves is removed
    by the namespace's next persist, as its configurations' temp files are."""
    folder = folder_of(root, namespace)
    folder.mkdir(parents=True, exist_ok=True)
    ids = _ids(folder)
    record_id = (ids[-1] if ids else 0) + 1
    fd, temp = tempfile.mkstemp(prefix=f"{prefix}.", suffix=".record.tmp", dir=temps)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(record.encode())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, _path(folder, record_id))
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync(folder)
    ids.append(record_id)
    if len(ids) > 2 * record.keep:
        for old in ids[: len(ids) - record.keep]:
            with suppress(FileNotFoundError):  # another writer's prune got there first
                os.unlink(_path(folder, old))
    return f"{record_id:0{ID_DIGITS}d}"


def read(root: Path, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
    """The newest ``limit`` records older than ``before``, newest first."""
    folder = folder_of(root, namespace)
    ids = _ids(folder)
    if before is not None:
        ids = [i for i in ids if f"{i:0{ID_DIGITS}d}" < before]
    records = []
    for record_id in reversed(ids[-limit:]):
        path = _path(folder, record_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # pruned by a writer meanwhile: it was among the oldest
            continue
        records.append(decode_record(f"{record_id:0{ID_DIGITS}d}", data, f"File {str(path)!r}"))
    return records


def _fsync(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
