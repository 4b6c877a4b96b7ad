"""The file backend's change records on disk: append-only logs that a crash can tear only at
the end, that readers read backwards, and that the next writer repairs."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from confo.errors import CorruptDataError
from confo.manager import Confo
from confo.testing import connected
from confo_file import history


def _recorded(root: Path, limit: int = 100) -> Confo:
    manager = connected("file", {"config_path": str(root), "history_limit": limit})
    if "ns" not in manager.get_namespaces()["all_namespaces"]:
        manager.create_namespace("ns")
    manager.use_namespace("ns")
    return manager


def _segments(root: Path) -> list[Path]:
    return sorted((root / history.FOLDER / "ns").iterdir())


def _persist(manager: Confo, *values: int) -> None:
    for v in values:
        manager.set("db", {"v": v})
        manager.persist(message=f"v{v}")


def test_records_are_lines_of_one_log_kept_private(tmp_path: Path) -> None:
    manager = _recorded(tmp_path)
    _persist(manager, 1, 2)
    (segment,) = _segments(tmp_path)
    assert segment.name == "000000000001.log"
    assert os.stat(segment).st_mode & 0o777 == 0o600  # records hold every value twice
    lines = segment.read_bytes().splitlines()
    ids = [line.split(b" ", 2)[0] for line in lines]
    assert ids == [b"000000000001", b"000000000002"]
    record = json.loads(lines[-1].split(b" ", 2)[2])
    assert record["changes"] == {"db": {"before": {"v": 1}, "after": {"v": 2}}}
    assert [r.id for r in manager.history()] == ["000000000002", "000000000001"]


@pytest.mark.parametrize("cut", ["mid-line", "before its newline"])
def test_a_torn_last_line_is_never_read_and_the_next_writer_cuts_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, cut: str
) -> None:
    """What a crash mid-append leaves: the start of a line without its newline. Cut just
    before the newline, its checksum passes: it is torn all the same (the next writer cuts
    it and gives its id out again), so no reader may ever show it."""
    manager = _recorded(tmp_path)
    _persist(manager, 1, 2, 3)
    (segment,) = _segments(tmp_path)
    data = segment.read_bytes()
    kept = data[: data.rindex(b"\n", 0, -1) + 1]  # records 1 and 2
    segment.write_bytes(data[: len(kept) + 40] if cut == "mid-line" else data[:-1])
    assert [r.message for r in manager.history()] == ["v2", "v1"]
    with caplog.at_level(logging.WARNING, "confo_file"):
        _persist(manager, 4)
    assert "torn change record" in caplog.text
    assert segment.read_bytes().startswith(kept)
    newest, *rest = manager.history()
    assert newest.id == "000000000003"
    assert newest.changes["db"] == {"before": {"v": 3}, "after": {"v": 4}}
    assert [r.id for r in rest] == ["000000000002", "000000000001"]


def test_a_damaged_line_is_skipped_with_a_warning_and_its_neighbours_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = _recorded(tmp_path)
    _persist(manager, 1, 2, 3)
    (segment,) = _segments(tmp_path)
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"v":2', b'"v":9')  # a bit flipped, or an edit by hand
    segment.write_bytes(b"".join(lines))
    with caplog.at_level(logging.WARNING, "confo_file"):
        found = manager.history()
    assert [r.id for r in found] == ["000000000003", "000000000001"]
    assert "damaged change record" in caplog.text
    assert str(segment) in caplog.text
    _persist(manager, 4)  # the damaged line's id still counts: ids never repeat
    assert manager.history()[0].id == "000000000004"


def test_a_record_of_a_newer_format_is_refused_naming_its_file_and_id(tmp_path: Path) -> None:
    manager = _recorded(tmp_path)
    _persist(manager, 1)
    (segment,) = _segments(tmp_path)
    body = b'{"confo_record":2,"time":"2026-12-02T10:00:00+00:00","author":"x","changes":{}}'
    with segment.open("ab") as file:
        file.write(b"000000000002 %08x " % zlib.crc32(body) + body + b"\n")
    with pytest.raises(CorruptDataError, match="format version 2") as caught:
        manager.history()
    assert str(segment) in str(caught.value)
    assert "000000000002" in str(caught.value)


def test_records_longer_than_a_read_block_read_back_across_segments(tmp_path: Path) -> None:
    manager = _recorded(tmp_path, limit=3)
    pads = [chr(ord("a") + i) * (history.BLOCK + 1000 * i) for i in range(8)]
    for i, pad in enumerate(pads):
        manager.set("db", {"i": i, "pad": pad})
        manager.persist()
    found = manager.history(limit=50)
    assert 3 <= len(found) <= 6
    assert [r.changes["db"]["after"]["i"] for r in found] == list(range(7, 7 - len(found), -1))
    assert all(r.changes["db"]["after"]["pad"] == pads[7 - n] for n, r in enumerate(found))
    assert len(_segments(tmp_path)) == 2
    page = history.read(tmp_path, "ns", 2, before=found[1].id)  # what paging asks for
    assert [r.id for r in page] == [r.id for r in found[2:4]]


KILLED_WRITER = """
import sys
from confo.testing import connected
manager = connected("file", {"config_path": sys.argv[1], "history_limit": 3})
manager.use_namespace("ns")
pad = "x" * 1_000_000
i = int(sys.argv[2])
while True:
    i += 1
    manager.set("db", {"version": i, "pad": pad})
    print(i, flush=True)
    manager.persist()
"""


def test_writers_killed_mid_record_never_leave_one_that_reads_as_a_change(tmp_path: Path) -> None:
    """SIGKILL recording processes at random moments of their persists (a record of 2 MB
    takes a while to write) until one dies mid-line: readers never see a torn record, the
    next writer cuts it off, and its record follows on from what the store holds."""
    setup = _recorded(tmp_path, limit=3)
    setup.set("db", {"version": 0, "pad": ""})
    setup.persist()
    torn = 0
    for attempt in range(80):
        writer = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, str(tmp_path), str(1000 * attempt)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # the first persist is under way
        time.sleep(0.002 * (attempt % 15))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        torn += not _segments(tmp_path)[-1].read_bytes().endswith(b"\n")
        setup.reload()
        for record in setup.history(limit=10):  # whole records only, never an error
            assert set(record.changes["db"]["after"]) == {"version", "pad"}
        if torn >= 2:
            break
    assert torn >= 2, "no kill landed in the middle of a record: the test proved nothing"
    setup.reload()
    held = setup.get_all()["db"]
    setup.set("db", {"version": "after", "pad": ""})
    setup.persist()
    newest = setup.history(limit=1)[0]
    assert newest.changes["db"] == {"before": held, "after": {"version": "after", "pad": ""}}
    assert all(segment.read_bytes().endswith(b"\n") for segment in _segments(tmp_path))
