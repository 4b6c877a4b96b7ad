"""The file backend: the shared conformance suite, plus what only files have."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from confo import Confo
from confo.errors import (
    CorruptDataError,
    CredentialsError,
    FileNotFoundException,
    InvalidNameError,
)
from confo.testing import BackendConformance, RawStore, Recorder, connected, until
from confo_file.testing import FileRaw


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("config_path")


class TestFileConformance(BackendConformance):
    backend_type = "file"

    @pytest.fixture
    def credentials(self, root: Path) -> dict[str, str]:
        return {"config_path": str(root)}

    @pytest.fixture
    def store_url(self, root: Path) -> str:
        return f"file:{root}"

    @pytest.fixture
    def raw(self, root: Path) -> RawStore:
        return FileRaw(root)


@pytest.fixture
def manager(tmp_path: Path) -> Confo:
    manager = Confo(shared=False)
    manager.load_backend({"config_path": str(tmp_path)}, "files", "file")
    manager.activate_backend("files")
    return manager


def test_missing_config_path_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundException, match="nowhere"):
        Confo(shared=False).load_backend({"config_path": str(missing)}, "f", "file")
    with pytest.raises(CredentialsError, match="config_path"):
        Confo(shared=False).load_backend({}, "f", "file")


def test_layout_is_folders_and_json_files(manager: Confo, tmp_path: Path) -> None:
    manager.create_namespace("sales")
    manager.use_namespace("sales")
    manager.set("db", {"host": "h"})
    manager.persist()
    assert json.loads((tmp_path / "sales" / "db.json").read_text()) == {"host": "h"}
    assert sorted(p.name for p in (tmp_path / "sales").iterdir()) == ["db.json"]  # no temp left


def test_hidden_folders_and_stray_files_are_not_namespaces(manager: Confo, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "README.txt").write_text("not a namespace")
    (tmp_path / "ns").mkdir()
    (tmp_path / "ns" / "notes.txt").write_text("not a configuration")
    (tmp_path / "ns" / ".db.json.tmp").write_text("{half")
    assert manager.get_namespaces()["all_namespaces"] == ["ns"]
    manager.use_namespace("ns")
    assert manager.get_all() == {}
    with pytest.raises(InvalidNameError, match="leading"):
        manager.create_namespace(".hidden")


def test_names_never_leave_config_path(manager: Confo, tmp_path: Path) -> None:
    manager.create_namespace("ns")
    manager.use_namespace("ns")
    for bad in ["../escape", "/etc/passwd", "..", "a/../../b"]:
        with pytest.raises(InvalidNameError):
            manager.set(bad, {"x": 1})
        with pytest.raises(InvalidNameError):
            manager.create_namespace(bad)
    assert sorted(p.name for p in tmp_path.parent.iterdir() if p.name == "escape") == []


def test_file_permissions_are_kept(manager: Confo, tmp_path: Path) -> None:
    manager.create_namespace("ns")
    manager.use_namespace("ns")
    manager.set("secret", {"password": "p"})
    manager.persist()
    path = tmp_path / "ns" / "secret.json"
    path.chmod(0o600)
    manager.set("secret", "password", "q")
    manager.persist()
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == {"password": "q"}


def test_name_too_long_for_a_file_system(manager: Confo) -> None:
    manager.create_namespace("ns")
    manager.use_namespace("ns")
    with pytest.raises(InvalidNameError, match="too long"):
        manager.set("é" * 130, {"x": 1})  # 130 characters, 260 bytes


WRITER = """
import sys
from confo import Confo
manager = Confo(shared=False)
manager.load_backend({"config_path": sys.argv[1]}, "f", "file")
manager.activate_backend("f")
manager.use_namespace("ns")
big = "x" * 200_000
i = 0
while True:
    i += 1
    for name in ("a", "b", "c"):
        manager.set(name, {"version": i, "pad": big})
    manager.persist()
    print(i, flush=True)
"""


FULL_DISK = """
import sys
from confo.errors import BackendUnavailableError
from confo.testing import connected
manager = connected("file", {"config_path": sys.argv[1]})
manager.create_namespace("ns")
manager.use_namespace("ns")
for i in range(30):
    manager.set(f"c{i}", {"pad": "x" * 100_000})  # 3 MB on a 2 MB file system
try:
    manager.persist()
except BackendUnavailableError as exc:
    print(exc)
"""


def test_a_persist_the_disk_cannot_hold_writes_nothing(tmp_path: Path) -> None:
    """On a real 2 MB file system (tmpfs, mounted in a mount namespace of the test's own)."""
    small = tmp_path / "small"
    small.mkdir()
    mount = f"mount -t tmpfs -o size=2m tmpfs {small}"
    script = f'{mount} && {sys.executable} -c "$0" {small} && ls {small}/ns'
    result = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script, FULL_DISK],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    message, listing = result.stdout.split("\n", 1)
    assert "Not enough free space" in message
    assert "Nothing was written" in message
    assert listing.strip() == ""  # the namespace folder is empty


FILE_SIZE_LIMIT = """
import resource, signal, sys
from confo.errors import PartialWriteError
from confo.testing import connected
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))
manager = connected("file", {"config_path": sys.argv[1]})
manager.create_namespace("ns")
manager.use_namespace("ns")
manager.set("a_small", {"v": 1})
manager.set("b_large", {"pad": "x" * 100_000})
manager.set("c_small", {"v": 3})
try:
    manager.persist()
except PartialWriteError as exc:
    print(exc)
    print("written:", sorted(exc.written))
manager.set("b_large", {"pad": "small now"})
manager.persist()  # a_small is saved: only b_large and c_small go, and nothing conflicts
print("second persist done")
"""


def test_a_write_failing_midway_says_how_far_it_got(tmp_path: Path) -> None:
    """The kernel refuses the second file (RLIMIT_FSIZE): a real write error, not a mock."""
    result = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "b_large.json" in result.stdout
    assert "1 of 3 configurations of this persist were written" in result.stdout
    assert "written: ['a_small']" in result.stdout
    assert "second persist done" in result.stdout
    names = sorted(p.name for p in (tmp_path / "ns").iterdir())
    assert names == ["a_small.json", "b_large.json", "c_small.json"]  # no temp left


def test_a_killed_persist_leaves_whole_files(tmp_path: Path) -> None:
    """SIGKILL a process in the middle of persisting: every file is an old or a new version."""
    (tmp_path / "ns").mkdir()
    for attempt in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # at least one persist done: the files exist
        time.sleep(0.01 * attempt)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        for name in ("a", "b", "c"):
            data = json.loads((tmp_path / "ns" / f"{name}.json").read_text())
            assert set(data) == {"version", "pad"}
            assert len(data["pad"]) == 200_000


RAPID_WRITER = """
import sys
from confo.testing import connected
manager = connected("file", {"config_path": sys.argv[1]})
manager.use_namespace("live")
for i in range(1, 201):
    manager.set("counter", {"n": i})
    manager.set(f"c{i % 7}", {"last": i})
    manager.persist()
"""


def test_watch_follows_rapid_persists_of_another_process_and_a_foreign_replace(
    tmp_path: Path,
) -> None:
    """200 persists in a row from another process, then a file replaced atomically by another
    program: the last event of every configuration, and get(), equal what the files hold."""
    manager = Confo(shared=False)
    manager.load_backend({"config_path": str(tmp_path)}, "files", "file")
    manager.activate_backend("files")
    manager.create_namespace("live")
    manager.use_namespace("live")
    seen = Recorder()
    with manager.watch(seen):
        subprocess.run([sys.executable, "-c", RAPID_WRITER, str(tmp_path)], check=True)
        temp = tmp_path / "live" / "editor-swap.tmp"
        temp.write_text('{"n": "replaced by an editor"}')
        os.replace(temp, tmp_path / "live" / "counter.json")
        on_disk = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "live").glob("*.json")}
        assert on_disk["counter"] == {"n": "replaced by an editor"}
        until(lambda: seen.last() == on_disk)
        until(lambda: manager.get_all() == on_disk)
    manager.close()


def test_what_dead_writers_left_is_removed_by_the_next_persist(tmp_path: Path) -> None:
    """Kill persisting processes until some temp files are left, then persist once more: they
    are gone, and another namespace's temp file (a live writer's, as far as it can tell) stays."""
    (tmp_path / "ns").mkdir()
    temps = tmp_path / ".confo-tmp"
    for attempt in range(60):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        writer.stdout.readline()
        time.sleep(0.003 * (attempt % 10))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        if any(temps.iterdir()):
            break
    assert any(temps.iterdir()), "no kill left a temp file behind: the test proved nothing"
    others = temps / "0123456789abcdef0123456789abcdef.other.tmp"
    others.write_text("{}")
    manager = Confo(shared=False)
    manager.load_backend({"config_path": str(tmp_path)}, "files", "file")
    manager.activate_backend("files")
    assert manager.get_namespaces()["all_namespaces"] == ["ns"]
    manager.use_namespace("ns")
    assert set(manager.get_all()) == {"a", "b", "c"}  # never a temp file
    manager.set("a", "version", "after")
    manager.persist()
    assert list(temps.iterdir()) == [others]
    assert sorted(p.name for p in (tmp_path / "ns").iterdir()) == ["a.json", "b.json", "c.json"]


def test_a_folder_or_fifo_named_like_a_configuration_is_corrupt_data(
    manager: Confo, tmp_path: Path
) -> None:
    manager.create_namespace("ns")
    (tmp_path / "ns" / "ok.json").write_text('{"v": 1}')
    (tmp_path / "ns" / "folder.json").mkdir()
    with pytest.raises(CorruptDataError, match=r"folder\.json.*a folder"):
        manager.use_namespace("ns")
    (tmp_path / "ns" / "folder.json").rmdir()
    os.mkfifo(tmp_path / "ns" / "pipe.json")
    with pytest.raises(CorruptDataError, match=r"pipe\.json.*a FIFO"):
        manager.use_namespace("ns")


def test_a_watch_sees_a_configuration_whose_name_starts_with_a_dot(
    manager: Confo, tmp_path: Path
) -> None:
    manager.create_namespace("ns")
    manager.use_namespace("ns")
    seen = Recorder()
    with manager.watch(seen):
        (tmp_path / "ns" / ".hidden.json").write_text('{"v": 1}')
        until(lambda: seen.last() == {".hidden": {"v": 1}})


def test_a_watch_loses_nothing_when_inotify_overflows(tmp_path: Path) -> None:
    """A persist of thousands of files overflows the kernel's inotify queue (16,384 events by
    default), and the events are lost: the watch must read everything again, not miss them."""
    credentials = {"config_path": str(tmp_path)}
    with connected("file", credentials) as watcher, connected("file", credentials) as writer:
        watcher.create_namespace("big")
        writer.use_namespace("big")
        seen = Recorder()
        with watcher.watch(seen, namespace="big") as watch:
            until(lambda: watch.healthy)
            for i in range(12_000):
                writer.set(f"c{i:05d}", {"v": i})
            writer.persist()
            until(lambda: len(seen.last()) == 12_000, within=60)


IN_PLACE_WRITER = """
import json, sys, time
path, = sys.argv[1:]
i = 0
while True:  # in place, as an editor or `echo > db.json` writes: truncate, then write
    with open(path, "wb") as file:
        file.write(json.dumps({"v": i, "pad": "x" * (i % 97)}).encode())
    i += 1
    time.sleep(0.01)  # over a clock tick: faster, mtimes repeat and no stat tells writes apart
"""


def test_a_file_written_in_place_meanwhile_is_read_with_its_own_revision(tmp_path: Path) -> None:
    """A revision stands for one content: the same revision read twice with two contents
    would be a change no watch reports, or the same value reported again at a new one."""
    from confo_file.backend import _read_file, _revision

    path = tmp_path / "db.json"
    path.write_bytes(b"{}")
    writer = subprocess.Popen([sys.executable, "-c", IN_PLACE_WRITER, str(path)])
    contents: dict[str, bytes] = {}
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            read = _read_file(str(path))
            assert read is not None
            data, info = read
            seen = contents.setdefault(_revision(info), data)
            assert seen == data, (_revision(info), seen, data)
    finally:
        writer.kill()
        writer.wait()
    assert len(contents) > 20  # the writer did write meanwhile
