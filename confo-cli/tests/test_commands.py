"""Every command through the installed ``confo`` script, against every kind of store, checked
with each store's own client in the original layout."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from clitest import CONFO, KINDS, StoreUnderTest, run

DATA = {
    "database": {"host": "db.internal", "port": 5432, "replicas": ["a", "b"], "tls": True},
    "größe": {"名前": "ünï 😀", "nested": {"deep": [1, 2.5, None, {"x": False}]}},
    "empty": {},
}


def _put(store: StoreUnderTest, namespace: str, data: dict[str, dict[str, object]]) -> None:
    """Data written by another tool, straight into the store."""
    for name, config in data.items():
        store.raw.put(namespace, name, json.dumps(config).encode())


def test_set_get_ls_rm(store: StoreUnderTest, ns: str) -> None:
    assert run("set", store.url, ns, "database", "port", "5432").code == 0
    assert run("set", store.url, ns, "database", "host", "db.internal").code == 0
    assert run("set", store.url, ns, "database", "tags", '["a", {"b": null}]').code == 0
    assert run("set", store.url, ns, "database", "version", "12", "--string").code == 0
    expected = {"port": 5432, "host": "db.internal", "tags": ["a", {"b": None}], "version": "12"}
    assert store.stored(ns, "database") == expected
    assert run("get", store.url, ns, "database").json() == expected
    assert run("get", store.url, ns, "database", "port").json() == 5432
    assert ns in run("ls", store.url).out.splitlines()
    assert run("ls", store.url, ns).out == "database\n"
    assert run("ls", store.url, ns, "--json").json() == ["database"]

    assert run("rm", store.url, ns, "database", "tags").code == 0
    assert "tags" not in store.stored(ns, "database")
    assert run("rm", store.url, ns, "database").code == 0
    assert store.stored(ns, "database") is None
    assert run("rm", store.url, ns, "--yes").code == 0
    assert ns not in run("ls", store.url).out.splitlines()


def test_a_namespace_is_deleted_only_with_yes_when_no_terminal_can_ask(
    store: StoreUnderTest, ns: str
) -> None:
    _put(store, ns, DATA)
    refused = run("rm", store.url, ns)
    assert refused.code == 2
    assert "--yes" in refused.err
    assert f"confo export URL {ns}" in refused.err
    assert ns in run("ls", store.url).out.splitlines()  # nothing deleted
    assert run("export", store.url, ns).json() == {ns: dict(sorted(DATA.items()))}


def test_set_keeps_fields_written_meanwhile_by_others(store: StoreUnderTest, ns: str) -> None:
    _put(store, ns, {"app": {"owner": "other tool"}})
    assert run("set", store.url, ns, "app", "debug", "false").code == 0
    assert store.stored(ns, "app") == {"owner": "other tool", "debug": False}


def _warning(ns: str, field: str, text: str, meant: str) -> str:
    return (
        f"confo: warning: stored {field!r} of {ns}/flags as the string {text!r}, not as JSON "
        f"{meant}: write {meant} for that, or pass --string to keep the string without this "
        "warning.\n"
    )


def test_set_warns_of_a_word_python_or_yaml_read_as_a_boolean(
    store: StoreUnderTest, ns: str
) -> None:
    typed = run("set", store.url, ns, "flags", "new_checkout", "False")
    assert (typed.code, typed.out) == (0, "")
    assert typed.err == _warning(ns, "new_checkout", "False", "false")
    assert store.stored(ns, "flags") == {"new_checkout": "False"}  # as before: a string
    for value in (["False", "--string"], ['"False"']):  # a string, said so: no warning
        kept = run("set", store.url, ns, "flags", "new_checkout", *value)
        assert (kept.code, kept.err) == (0, "")
    assert store.stored(ns, "flags") == {"new_checkout": "False"}
    assert run("set", store.url, ns, "flags", "new_checkout", "false").code == 0
    assert store.stored(ns, "flags") == {"new_checkout": False}


LOOKALIKES = {
    **dict.fromkeys(["True", "TRUE", "tRuE", "yes", "Yes", "ON", "on", " True "], "true"),
    **dict.fromkeys(["False", "FALSE", "no", "No", "OFF", "off"], "false"),
    **dict.fromkeys(["None", "NONE", "none", "Null", "NULL", "~"], "null"),
}


@pytest.mark.parametrize(("text", "meant"), LOOKALIKES.items())
def test_every_lookalike_word_is_stored_as_a_string_with_a_warning(
    stores: dict[str, StoreUnderTest], ns: str, text: str, meant: str
) -> None:
    store = stores["file"]
    typed = run("set", store.url, ns, "flags", "beta", text)
    assert (typed.code, typed.err) == (0, _warning(ns, "beta", text, meant))
    assert store.stored(ns, "flags") == {"beta": text}


@pytest.mark.parametrize("text", ['{"a":', "[1, 2", "{'a': 1}", " [1,]"])
def test_a_value_that_opens_json_and_breaks_it_is_refused_and_nothing_written(
    stores: dict[str, StoreUnderTest], ns: str, text: str
) -> None:
    store = stores["file"]
    assert run("set", store.url, ns, "flags", "beta", "true").code == 0
    typed = run("set", store.url, ns, "flags", "beta", text)
    assert typed.code == 2
    assert "looks like JSON but is not" in typed.err
    assert "--string" in typed.err
    assert store.stored(ns, "flags") == {"beta": True}
    kept = run("set", store.url, ns, "flags", "beta", text, "--string")  # the text, meant
    assert (kept.code, kept.err) == (0, "")
    assert store.stored(ns, "flags") == {"beta": text}
    fresh = f"{ns}_new"
    assert run("set", store.url, fresh, "flags", "beta", text).code == 2
    assert fresh not in run("ls", store.url).out.splitlines()  # nothing made either


@pytest.mark.parametrize("text", ["true", "null", " false ", "y", "n", "nope", "offline", "~/x"])
def test_other_values_set_without_a_warning(
    stores: dict[str, StoreUnderTest], ns: str, text: str
) -> None:
    typed = run("set", stores["file"].url, ns, "flags", "beta", text)
    assert (typed.code, typed.err) == (0, "")


def test_export_then_import_round_trips_exactly(store: StoreUnderTest, ns: str) -> None:
    _put(store, ns, DATA)
    exported = run("export", store.url, ns)
    assert exported.code == 0, exported.err
    assert exported.json() == {ns: dict(sorted(DATA.items()))}

    assert run("rm", store.url, ns, "-y").code == 0
    restored = run("import", store.url, "-", stdin=exported.out)
    assert restored.code == 0, restored.err
    assert run("export", store.url, ns).out == exported.out
    for name, config in DATA.items():
        assert store.stored(ns, name) == config


def test_import_dry_run_shows_each_change_and_writes_nothing(
    store: StoreUnderTest, ns: str
) -> None:
    before = {"kept": {"a": 1}, "changed": {"a": 1, "b": [1]}, "extra": {"a": 1}}
    _put(store, ns, before)
    dump = {
        ns: {"kept": {"a": 1}, "changed": {"a": 2, "b": [1]}, "new": {"b": True}},
        f"{ns}x": {"empty": {}},
    }
    dry = run("import", store.url, "-", "--dry-run", "--prune", stdin=json.dumps(dump))
    assert (dry.code, dry.err) == (0, "")
    assert dry.out.splitlines() == [
        f"update {ns}/changed",
        f"--- store/{ns}/changed",
        f"+++ file/{ns}/changed",
        "@@ -1,5 +1,5 @@",
        " {",
        '-  "a": 1,',
        '+  "a": 2,',
        '   "b": [',
        "     1",
        "   ]",
        f"delete {ns}/extra",
        f"--- store/{ns}/extra",
        "+++ /dev/null",
        "@@ -1,3 +0,0 @@",
        "-{",
        '-  "a": 1',
        "-}",
        f"create {ns}/new",
        "--- /dev/null",
        f"+++ file/{ns}/new",
        "@@ -0,0 +1,3 @@",
        "+{",
        '+  "b": true',
        "+}",
        f"create namespace {ns}x",
        f"create {ns}x/empty",
        "--- /dev/null",
        f"+++ file/{ns}x/empty",
        "@@ -0,0 +1 @@",
        "+{}",
        "would create 2, update 1, delete 1; 1 unchanged",
    ]
    for name, config in before.items():  # the store holds what it held
        assert store.stored(ns, name) == config
    assert store.stored(ns, "new") is None
    assert store.stored(f"{ns}x", "empty") is None
    assert f"{ns}x" not in run("ls", store.url).out.splitlines()

    assert run("import", store.url, "-", "--prune", stdin=json.dumps(dump)).code == 0
    assert store.stored(ns, "changed") == {"a": 2, "b": [1]}
    assert store.stored(ns, "new") == {"b": True}
    assert store.stored(ns, "extra") is None
    assert store.stored(f"{ns}x", "empty") == {}
    again = run("import", store.url, "-", "--dry-run", "--prune", stdin=json.dumps(dump))
    assert again.out == "would create 0, update 0, delete 0; 4 unchanged\n"


def test_cp_dry_run_shows_what_would_change_in_dst(
    store: StoreUnderTest, ns: str, tmp_path: Path
) -> None:
    (tmp_path / ns).mkdir()
    (tmp_path / ns / "app.json").write_text('{"port": 2}')
    _put(store, ns, {"app": {"port": 1}})
    dry = run("cp", f"file:{tmp_path}", store.url, ns, "--dry-run")
    assert (dry.code, dry.err) == (0, "")
    assert dry.out.splitlines()[:3] == [
        f"update {ns}/app",
        f"--- dst/{ns}/app",
        f"+++ src/{ns}/app",
    ]
    assert dry.out.splitlines()[-1] == "would create 0, update 1, delete 0; 0 unchanged"
    assert store.stored(ns, "app") == {"port": 1}


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(KINDS, 2)))
def test_cp_between_every_pair_of_store_kinds(
    stores: dict[str, StoreUnderTest], source: str, target: str, ns: str
) -> None:
    src, dst = stores[source], stores[target]
    _put(src, ns, DATA)
    _put(dst, ns, {"database": {"stale": True}, "only_there": {"kept": 1}})
    copied = run("cp", src.url, dst.url, ns)
    assert copied.code == 0, copied.err
    for name, config in DATA.items():
        assert dst.stored(ns, name) == config
    assert dst.stored(ns, "only_there") == {"kept": 1}  # cp keeps what it does not replace
    assert run("diff", src.url, dst.url, ns).code == 1
    assert run("cp", src.url, dst.url, ns, "--prune").code == 0
    assert dst.stored(ns, "only_there") is None
    assert run("diff", src.url, dst.url, ns).code == 0


def test_cp_and_import_create_a_missing_destination_folder(
    store: StoreUnderTest, ns: str, tmp_path: Path
) -> None:
    _put(store, ns, DATA)
    backup = tmp_path / "backups" / "today"
    copied = run("cp", store.url, f"file:{backup}", ns)
    assert (copied.code, copied.err) == (0, "")
    assert run("diff", store.url, f"file:{backup}", ns).code == 0
    saved = tmp_path / "saved.json"
    assert run("export", store.url, ns, "-o", str(saved)).code == 0
    imported = run("import", f"file:{tmp_path / 'restored'}", str(saved), "--prune")
    assert (imported.code, imported.err) == (0, "")
    assert run("diff", store.url, f"file:{tmp_path / 'restored'}", ns).code == 0


def test_a_missing_folder_is_created_only_by_a_write_that_needs_it(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "prod").mkdir(parents=True)
    (source / "prod" / "app.json").write_text('{"port": 1}')
    missing = tmp_path / "missing"
    dry = run("cp", f"file:{source}", f"file:{missing}", "--dry-run")
    assert (dry.code, dry.err) == (0, "")
    assert dry.out.splitlines()[:2] == ["create namespace prod", "create prod/app"]
    assert dry.out.splitlines()[-1] == "would create 1, update 0, delete 0; 0 unchanged"
    no_source = run("cp", f"file:{tmp_path / 'nope'}", f"file:{missing}")
    assert no_source.code == 2
    assert "'" + str(tmp_path / "nope") + "' is not an existing folder" in no_source.err
    no_file = run("import", f"file:{missing}", str(tmp_path / "nope.json"))
    assert no_file.code == 2
    assert not missing.exists()  # neither a dry run nor a failed read made it
    assert run("cp", f"file:{source}", f"file:{missing}", "--prune").code == 0
    assert json.loads((missing / "prod" / "app.json").read_text()) == {"port": 1}


def test_a_destination_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "source" / "prod").mkdir(parents=True)
    (tmp_path / "source" / "prod" / "app.json").write_text("{}")
    (tmp_path / "taken").write_text("not a folder")
    taken = run("cp", f"file:{tmp_path / 'source'}", f"file:{tmp_path / 'taken'}")
    assert (taken.code, taken.err.count("\n")) == (2, 1)
    assert "is not an existing folder" in taken.err
    under = run("cp", f"file:{tmp_path / 'source'}", f"file:{tmp_path / 'taken' / 'x'}")
    assert (
        under.err
        == f"confo: error: Cannot create the folder '{tmp_path}/taken/x': Not a directory.\n"
    )


def test_diff_exit_statuses_and_text(store: StoreUnderTest, ns: str, tmp_path: Path) -> None:
    _put(store, ns, {"database": {"port": 5432, "host": "a"}})
    saved = tmp_path / "saved.json"
    assert run("export", store.url, ns, "-o", str(saved)).code == 0
    same = run("diff", store.url, str(saved), ns)
    assert (same.code, same.out) == (0, "")

    assert run("set", store.url, ns, "database", "port", "5433").code == 0
    assert run("set", store.url, ns, "cache", "ttl", "60").code == 0
    changed = run("diff", str(saved), store.url, ns)
    assert changed.code == 1
    assert changed.out.splitlines() == [
        "--- /dev/null",
        f"+++ b/{ns}/cache",
        "@@ -0,0 +1,3 @@",
        "+{",
        '+  "ttl": 60',
        "+}",
        f"--- a/{ns}/database",
        f"+++ b/{ns}/database",
        "@@ -1,4 +1,4 @@",
        " {",
        '   "host": "a",',
        '-  "port": 5432',
        '+  "port": 5433',
        " }",
    ]
    later = tmp_path / "later.json"
    assert run("export", store.url, ns, "-o", str(later)).code == 0
    files = run("diff", str(saved), str(later))
    assert files.code == 1
    assert files.out == changed.out
    assert run("diff", str(later), str(later)).code == 0


def test_set_if_revision_is_a_compare_and_set(store: StoreUnderTest, ns: str) -> None:
    assert run("set", store.url, ns, "flags", "beta", "false").code == 0
    revision = run("get", store.url, ns, "flags", "--revision").out.strip()
    assert revision
    first = run("set", store.url, ns, "flags", "beta", "true", "--if-revision", revision)
    assert first.code == 0, first.err
    stale = run("set", store.url, ns, "flags", "beta", "false", "--if-revision", revision)
    assert stale.code == 4
    assert "nothing was written" in stale.err
    assert store.stored(ns, "flags") == {"beta": True}


EDITOR = """
import json, subprocess, sys
path = sys.argv[1]
config = json.load(open(path))
config["edited"] = True
json.dump(config, open(path, "w"))
if {meanwhile!r}:
    subprocess.run([{confo!r}, "set", {url!r}, {ns!r}, "app", "other", "1"], check=True)
"""


def _editor(tmp_path: Path, store: StoreUnderTest, ns: str, *, meanwhile: bool) -> dict[str, str]:
    script = tmp_path / "editor.py"
    script.write_text(
        EDITOR.format(meanwhile=meanwhile, confo=CONFO, url=store.url, ns=ns), encoding="utf-8"
    )
    return {"EDITOR": f"python3 {script}", "VISUAL": ""}


def test_edit_saves_what_the_editor_wrote(store: StoreUnderTest, ns: str, tmp_path: Path) -> None:
    _put(store, ns, {"app": {"name": "x"}})
    edited = run("edit", store.url, ns, "app", env=_editor(tmp_path, store, ns, meanwhile=False))
    assert edited.code == 0, edited.err
    assert store.stored(ns, "app") == {"name": "x", "edited": True}


def test_edit_never_overwrites_a_change_made_while_editing(
    store: StoreUnderTest, ns: str, tmp_path: Path
) -> None:
    _put(store, ns, {"app": {"name": "x"}})
    edited = run("edit", store.url, ns, "app", env=_editor(tmp_path, store, ns, meanwhile=True))
    assert edited.code == 4
    assert store.stored(ns, "app") == {"name": "x", "other": 1}  # the other writer's change
    kept = edited.err.split("Your version is in ")[1].split(":")[0]
    assert json.loads(Path(kept).read_text()) == {"name": "x", "edited": True}
    Path(kept).unlink()
