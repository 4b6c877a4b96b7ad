"""confo history, show and rollback, and -m on the writing commands, on every kind of store."""

from __future__ import annotations

import json
from pathlib import Path

from clitest import StoreUnderTest, run


def _ids(store: StoreUnderTest, ns: str, *extra: str) -> list[str]:
    listed = run("history", store.url, ns, *extra)
    assert listed.code == 0, listed.err
    return listed.out.split()


def test_writing_commands_record_their_message_and_author(store: StoreUnderTest, ns: str) -> None:
    env = {"CONFO_AUTHOR": "ops@deploy"}
    assert run("set", store.url, ns, "db", "pool", "10", "-m", "first", env=env).code == 0
    assert run("set", store.url, ns, "db", "pool", "20", "--message", "raise", env=env).code == 0
    assert run("rm", store.url, ns, "db", "pool", "-m", "drop the field", env=env).code == 0
    records = run("history", store.url, ns, "--json").json()
    assert [r["message"] for r in records] == ["drop the field", "raise", "first"]
    assert {r["author"] for r in records} == {"ops@deploy"}
    assert records[1]["changes"] == {"db": {"before": {"pool": 10}, "after": {"pool": 20}}}
    assert records[0]["changes"]["db"]["after"] == {}


def test_history_of_one_configuration_with_a_limit(store: StoreUnderTest, ns: str) -> None:
    for value in ("1", "2", "3"):
        assert run("set", store.url, ns, "a", "v", value).code == 0
    assert run("set", store.url, ns, "b", "v", "1").code == 0
    assert len(_ids(store, ns)) == 4
    assert len(_ids(store, ns, "a")) == 3
    assert len(_ids(store, ns, "a", "--limit", "2")) == 2
    bad = run("history", store.url, ns, "--limit", "0")
    assert bad.code == 2
    assert "limit" in bad.err.lower()


def test_show_prints_who_why_and_the_diff(store: StoreUnderTest, ns: str) -> None:
    run("set", store.url, ns, "db", "host", '"a"')
    run("set", store.url, ns, "db", "host", '"b"', "-m", "move the db")
    newest = _ids(store, ns)[0]
    shown = run("show", store.url, ns, newest)
    assert shown.code == 0, shown.err
    assert "# move the db" in shown.out
    assert '-  "host": "a"' in shown.out
    assert '+  "host": "b"' in shown.out
    record = run("show", store.url, ns, newest, "--json").json()
    assert record["id"] == newest
    missing = run("show", store.url, ns, "no-such-id")
    assert missing.code == 2
    assert "no-such-id" in missing.err


def test_rollback_dry_run_writes_nothing_then_rollback_restores(
    store: StoreUnderTest, ns: str
) -> None:
    run("set", store.url, ns, "db", "pool", "10")
    good = _ids(store, ns)[0]
    run("set", store.url, ns, "db", "pool", "99", "-m", "typo")
    run("set", store.url, ns, "extra", "x", "1")
    dry = run("rollback", store.url, ns, good, "--dry-run")
    assert dry.code == 0, dry.err
    assert '-  "pool": 99' in dry.out
    assert '+  "pool": 10' in dry.out
    assert store.stored(ns, "db") == {"pool": 99}  # nothing written
    done = run("rollback", store.url, ns, good, "db", "-m", "undo the typo")
    assert done.code == 0, done.err
    assert store.stored(ns, "db") == {"pool": 10}
    assert store.stored(ns, "extra") == {"x": 1}  # only db was rolled back
    newest = run("history", store.url, ns, "--json", "--limit", "1").json()[0]
    assert newest["message"] == "undo the typo"
    whole = run("rollback", store.url, ns, good)
    assert whole.code == 0, whole.err
    assert store.stored(ns, "extra") is None  # created after: deleted by a namespace rollback
    unknown = run("rollback", store.url, ns, "0000")
    assert unknown.code == 2
    assert "0000" in unknown.err


def test_import_and_cp_take_a_message(store: StoreUnderTest, ns: str, tmp_path: Path) -> None:
    dump = json.dumps({ns: {"db": {"v": 1}}})
    assert run("import", store.url, "-", "-m", "restore backup", stdin=dump).code == 0
    assert run("history", store.url, ns, "--json").json()[0]["message"] == "restore backup"
    copy = f"file:{tmp_path / 'copy'}"
    assert run("cp", store.url, copy, ns, "-m", "snapshot").code == 0
    (record,) = run("history", copy, ns, "--json").json()
    assert record["message"] == "snapshot"
    assert record["changes"] == {"db": {"before": None, "after": {"v": 1}}}
