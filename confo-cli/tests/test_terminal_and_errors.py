"""What the command promises beyond its data: one-line errors with their exit statuses, no
password in any output, decoration only on a terminal, help, completion, and watch."""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from clitest import CONFO, Result, StoreUnderTest, run

from confo.testing import TCPProxy, free_port, unique
from confo_cli import failures
from confo_redis.testing import RedisServer

CANARY = "canary-Pa55-w0rd"


def _one_line_error(result: Result, code: int) -> None:
    assert result.code == code, (result.code, result.err)
    assert result.out == ""
    assert result.err.startswith("confo: error: ")
    assert result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["get"], 2, "Missing argument 'URL'"),
        (["ls", "no-scheme-here"], 2, "is not a store URL"),
        (["ls", "nosuch://host"], 2, "reads nosuch: URLs"),
        (["ls", "redis://host:99999"], 2, "Bad port '99999'"),
        (["ls", "redis://127.0.0.1:6379/x"], 2, "database number"),
        (["ls", "etcd://127.0.0.1?colour=red"], 2, "Unknown option 'colour'"),
        (["ls", "etcds://127.0.0.1"], 2, "add ?ca_cert=PATH"),
        (["ls", "file:/nonexistent/folder"], 2, "is not an existing folder"),
        (["import", "file:/tmp", "/nonexistent.json"], 2, "No export file"),
        (["diff", "old.json", "new.json"], 2, "neither an export file nor a store URL"),
        (["frobnicate"], 2, "No such command 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_naming_it(args: list[str], code: int, says: str) -> None:
    result = run(*args)
    _one_line_error(result, code)
    assert says in result.err


def test_missing_things_are_named(store: StoreUnderTest, ns: str) -> None:
    missing_namespace = run("get", store.url, ns, "database")
    _one_line_error(missing_namespace, 2)
    assert f"No namespace {ns!r}" in missing_namespace.err
    missing_delete = run("rm", store.url, ns)
    _one_line_error(missing_delete, 2)
    assert f"No namespace {ns!r}" in missing_delete.err
    assert run("set", store.url, ns, "database", "port", "1").code == 0
    missing_config = run("get", store.url, ns, "cache")
    _one_line_error(missing_config, 2)
    assert "No configuration 'cache'" in missing_config.err
    assert "'database'" in missing_config.err  # what there is instead
    _one_line_error(run("rm", store.url, ns, "database", "nope"), 2)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:{port}",
        "zookeeper://127.0.0.1:{port}",
        "etcd://127.0.0.1:{port}",
    ],
)
def test_an_unreachable_store_fails_within_the_connect_timeout(url: str) -> None:
    started = time.monotonic()
    result = run("--timeout", "1", "ls", url.format(port=free_port()))
    _one_line_error(result, 3)
    # 1 s to connect, plus the interpreter's start and imports on a loaded machine: a client
    # library's own retries (20 s on Redis, 10 s on ZooKeeper once) would pass 30 s.
    assert time.monotonic() - started < 30


def test_bad_json_in_an_import_file_names_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"prod": {"db": {"port": 5432,}}}')
    result = run("import", f"file:{tmp_path}", str(bad))
    _one_line_error(result, 2)
    assert "line 1, column 31" in result.err


@pytest.fixture(scope="module")
def secured_redis() -> Iterator[RedisServer]:
    with RedisServer(extra_args=("--requirepass", CANARY)) as server:
        yield server


def test_a_refused_password_from_the_environment_names_the_variable(
    secured_redis: RedisServer, redis_server: RedisServer
) -> None:
    """The library's advice names redis_password, which a command line user never typed: a
    password exported for another store is the likely cause, so the variable is named."""
    wrong = run("ls", f"redis://127.0.0.1:{secured_redis.port}/0", env={"CONFO_PASSWORD": "x1"})
    unasked = run("ls", f"redis://127.0.0.1:{redis_server.port}/0", env={"CONFO_PASSWORD": "x2"})
    in_url = run("ls", f"redis://:x3@127.0.0.1:{redis_server.port}/0", env={"CONFO_PASSWORD": "x4"})
    assert (wrong.code, unasked.code, in_url.code) == (3, 2, 2)
    assert "came from CONFO_PASSWORD" in wrong.err
    assert "came from CONFO_PASSWORD" in unasked.err
    assert "CONFO_PASSWORD" not in in_url.err  # the URL's own password was used
    for result in (wrong, unasked, in_url):
        assert not {"x1", "x2", "x3", "x4"} & set(result.err.replace(":", " ").split())


def test_a_password_never_appears_in_any_output(secured_redis: RedisServer) -> None:
    host = f"127.0.0.1:{secured_redis.port}"
    env = {"CONFO_PASSWORD": CANARY}
    results = [
        run("set", f"redis://:{CANARY}@{host}/0", "app", "db", "port", "1"),
        run("get", f"redis://{host}/0", "app", "db", env=env),
        run("get", f"redis://{host}/0", "app", "missing", env=env),
        run("ls", f"redis://:wrong-{CANARY}@{host}/0"),
        run("ls", f"redis://:{CANARY}@127.0.0.1:{free_port()}/0"),
        run("ls", f"redis://:{CANARY}@{host}/0?bogus=1"),
        run("ls", f"redis://:{CANARY}@{host}:1:2/0"),
        run("ls", f"zookeeper://admin:{CANARY}@127.0.0.1:{free_port()}", "--timeout", "1"),
        run("ls", f"etcd://admin:{CANARY}@127.0.0.1:{free_port()}/path"),
        run("cp", f"redis://{host}/0", f"redis://:{CANARY}@127.0.0.1:{free_port()}", env=env),
    ]
    assert [r.code for r in results[:3]] == [0, 0, 2]
    assert results[1].json() == {"port": 1}
    for result in results:
        assert CANARY not in result.out + result.err, result


def _on_a_terminal(*args: str, typed: str | None = None) -> str:
    """Run with stdout and stderr on a pseudo-terminal, as a person at a shell sees it; with
    ``typed``, stdin too, and that typed at it."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [CONFO, *args],
        stdin=follower if typed is not None else None,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(follower)
    if typed is not None:
        os.write(leader, typed.encode() + b"\n")
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        try:
            chunk = os.read(leader, 65536) if ready else b""
        except OSError:  # the terminal closed: the process is done
            chunk = b""
        if not chunk:
            break
        output += chunk
    process.wait(timeout=30)
    os.close(leader)
    return output.decode()


def test_on_a_terminal_a_namespace_is_deleted_once_its_name_is_typed(
    store: StoreUnderTest, ns: str
) -> None:
    assert run("set", store.url, ns, "database", "port", "5432").code == 0
    wrong = _on_a_terminal("rm", store.url, ns, typed="prod")
    assert "Type" in wrong
    assert "1 configurations" in wrong
    assert "Not deleted" in wrong
    assert ns in run("ls", store.url).out.splitlines()
    right = _on_a_terminal("rm", store.url, ns, typed=ns)
    assert f"deleted namespace {ns}" in right
    assert ns not in run("ls", store.url).out.splitlines()


def test_tables_and_colour_on_a_terminal_only(store: StoreUnderTest, ns: str) -> None:
    assert run("set", store.url, ns, "database", "port", "5432").code == 0
    table = _on_a_terminal("ls", store.url, ns)
    assert "configuration" in table
    assert "fields" in table
    assert "revision" in table
    assert run("ls", store.url, ns).out == "database\n"

    dump = run("export", store.url, ns).json()
    dump[ns]["database"]["port"] = 5433
    saved = Path(os.environ.get("TMPDIR", "/tmp")) / f"{ns}.json"
    saved.write_text(json.dumps(dump))
    try:
        terminal = _on_a_terminal("diff", store.url, str(saved), ns)
        piped = run("diff", store.url, str(saved), ns)
    finally:
        saved.unlink()
    assert "\x1b[" in terminal  # ANSI colour
    assert piped.code == 1
    assert "\x1b[" not in piped.out


def test_every_command_has_help_with_an_example() -> None:
    commands = ["ls", "get", "set", "rm", "export", "import", "cp", "diff", "watch", "edit"]
    listed = run("--help")
    assert listed.code == 0
    for command in commands:
        assert command in listed.out
        helped = run(command, "--help")
        assert helped.code == 0
        assert "Examples:" in helped.out, command


def test_the_help_lists_every_exit_status() -> None:
    said = " ".join(run("--help").out.split())  # the epilog, wrapped at any width
    codes = {name: value for name, value in vars(failures).items() if name.isupper()}
    for name, code in codes.items():
        if name != "OK":
            assert re.search(rf"[:,] {code} \w", said), (name, code)


def test_version_and_python_m() -> None:
    assert run("--version").out.startswith("confo 0.3.0")
    module = subprocess.run(
        [sys.executable, "-m", "confo_cli", "--version"], capture_output=True, text=True, check=True
    )
    assert module.stdout.startswith("confo 0.3.0")


def test_shell_completion_offers_the_store_s_namespaces(store: StoreUnderTest, ns: str) -> None:
    assert run("set", store.url, ns, "database", "port", "1").code == 0
    script = run(env={"_CONFO_COMPLETE": "bash_source"})
    assert "complete " in script.out
    words = {"COMP_WORDS": f"confo get {store.url} {ns[:6]}", "COMP_CWORD": "3"}
    offered = run(env={"_CONFO_COMPLETE": "bash_complete", **words})
    assert f"plain,{ns}" in offered.out.splitlines()
    words = {"COMP_WORDS": f"confo get {store.url} {ns} da", "COMP_CWORD": "4"}
    assert "plain,database" in run(env={"_CONFO_COMPLETE": "bash_complete", **words}).out


class Lines:
    """A child's output, line by line, with a wait for the next. A thread reads it: select()
    on the pipe cannot see lines already in the text stream's buffer, and lost them."""

    def __init__(self, stream: IO[str] | None) -> None:
        assert stream is not None
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def next(self, timeout: float) -> str:
        """The next line, or "" if none came within ``timeout`` seconds."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""


def test_watch_prints_one_json_line_per_change(store: StoreUnderTest, ns: str) -> None:
    assert run("set", store.url, ns, "database", "port", "0").code == 0
    watcher = subprocess.Popen(
        [CONFO, "watch", store.url, ns], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    printed = Lines(watcher.stdout)
    try:
        line = ""
        for attempt in range(1, 40):  # the watch is in place once a change comes through
            assert run("set", store.url, ns, "database", "port", str(attempt)).code == 0
            line = printed.next(0.5)
            if line:
                break
        event = json.loads(line)
        assert (event["namespace"], event["config"], event["kind"]) == (ns, "database", "put")
        assert event["value"]["port"] >= 1
        assert event["revision"] is not None

        assert run("rm", store.url, ns, "database").code == 0
        for _ in range(60):  # the puts still under way, then the delete; "" ends it
            event = json.loads(printed.next(10) or "{}")
            if not event or event.get("kind") == "delete":
                break
        assert event == {
            "namespace": ns,
            "config": "database",
            "kind": "delete",
            "value": None,
            "revision": None,
        }
    finally:
        watcher.send_signal(signal.SIGINT)
        code = watcher.wait(timeout=10)
        errors = watcher.stderr.read()  # type: ignore[union-attr]
    assert code == 0, errors
    assert errors == ""


def test_watch_says_when_it_loses_and_regains_the_store(redis_server: RedisServer) -> None:
    """The watcher reaches Redis through a proxy that then refuses every connection: one line
    on stderr says the store is lost, another that it is back, and the changes made meanwhile
    come through."""
    ns = unique()
    direct = f"redis://127.0.0.1:{redis_server.port}"
    with TCPProxy(redis_server.port) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}"
        assert run("set", direct, ns, "database", "port", "0").code == 0
        watcher = subprocess.Popen(
            [CONFO, "watch", url, ns], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        printed, said = Lines(watcher.stdout), Lines(watcher.stderr)
        try:
            for attempt in range(1, 40):  # the watch is in place once a change comes through
                assert run("set", direct, ns, "database", "port", str(attempt)).code == 0
                if printed.next(0.5):
                    break
            proxy.cut()
            assert "lost the store" in said.next(30)
            assert run("set", direct, ns, "database", "port", "999").code == 0
            proxy.restore()
            assert "is back" in said.next(30)
            for _ in range(60):
                event = json.loads(printed.next(10) or "{}")
                if not event or event.get("value") == {"port": 999}:
                    break
            assert event["value"] == {"port": 999}
        finally:
            watcher.send_signal(signal.SIGINT)
            code = watcher.wait(timeout=10)
    assert code == 0
