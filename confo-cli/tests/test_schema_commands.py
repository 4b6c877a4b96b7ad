"""confo schema, and every writing command refusing what a schema refuses, on every kind of
store: exit status 5, the rule in the message, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitest import StoreUnderTest, run

FLAGS = {
    "type": "object",
    "properties": {
        "new_checkout": {"type": "boolean"},
        "port": {"type": "integer"},
        "zip": {"type": "string"},
        "mode": {"enum": ["a", "b"]},
    },
}
INVALID = 5


@pytest.fixture
def ruled(store: StoreUnderTest, ns: str) -> StoreUnderTest:
    """``ns/flags`` holds {"new_checkout": true} under the schema FLAGS."""
    assert run("set", store.url, ns, "flags", "new_checkout", "true").code == 0
    done = run("schema", store.url, ns, "flags", "-", "-m", "flags", stdin=json.dumps(FLAGS))
    assert done.code == 0, done.err
    return store


def test_schema_shows_sets_and_removes(ruled: StoreUnderTest, ns: str) -> None:
    shown = run("schema", ruled.url, ns, "flags")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out) == FLAGS
    assert run("schema", ruled.url, ns, "flags", "--rm").code == 0
    none = run("schema", ruled.url, ns, "flags")
    assert none.code == 0
    assert none.out == ""  # (a note on a terminal says there is none)
    records = run("history", ruled.url, ns, "--json").json()
    assert records[0]["schemas"] == {"flags": {"before": FLAGS, "after": None}}
    assert records[1]["message"] == "flags"


def test_set_reads_value_by_the_schema(ruled: StoreUnderTest, ns: str) -> None:
    refused = run("set", ruled.url, ns, "flags", "new_checkout", "False")
    assert refused.code == INVALID
    assert "write false" in refused.err
    assert ruled.stored(ns, "flags") == {"new_checkout": True}
    assert run("set", ruled.url, ns, "flags", "new_checkout", "false").code == 0
    assert run("set", ruled.url, ns, "flags", "zip", "5432").code == 0  # a string field
    assert run("set", ruled.url, ns, "flags", "mode", "b").code == 0
    assert ruled.stored(ns, "flags") == {"new_checkout": False, "zip": "5432", "mode": "b"}
    # A string field takes a template's text, though it opens like JSON.
    assert run("set", ruled.url, ns, "flags", "zip", "{{ zip }}").code == 0
    assert ruled.stored(ns, "flags")["zip"] == "{{ zip }}"


def test_set_refuses_a_value_the_schema_refuses(ruled: StoreUnderTest, ns: str) -> None:
    refused = run("set", ruled.url, ns, "flags", "port", "abc")
    assert refused.code == INVALID
    assert "/port" in refused.err
    assert "integer" in refused.err
    assert "Nothing was written" in refused.err
    refused = run("set", ruled.url, ns, "flags", "mode", "c")
    assert refused.code == INVALID
    assert ruled.stored(ns, "flags") == {"new_checkout": True}


def test_import_and_edit_refuse_and_write_nothing(
    ruled: StoreUnderTest, ns: str, tmp_path: Path
) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({ns: {"flags": {"port": "x"}, "other": {"a": 1}}}))
    refused = run("import", ruled.url, str(dump))
    assert refused.code == INVALID, refused.err
    assert ruled.stored(ns, "other") is None  # nothing of the namespace
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\nprintf \'{"new_checkout": "yes"}\' > "$1"\n')
    script.chmod(0o755)
    edited = run("edit", ruled.url, ns, "flags", env={"EDITOR": str(script), "VISUAL": ""})
    assert edited.code == INVALID
    kept = edited.err.rsplit(" ", 1)[-1].rstrip(".\n")
    assert json.loads(Path(kept).read_text()) == {"new_checkout": "yes"}  # the text is kept
    assert ruled.stored(ns, "flags") == {"new_checkout": True}


def test_cp_into_a_store_with_schemas_obeys_them(
    ruled: StoreUnderTest, ns: str, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    assert run("set", f"file:{source}", ns, "flags", "port", '"text"').code == 0
    copied = run("cp", f"file:{source}", ruled.url)
    assert copied.code == INVALID, copied.err
    assert ruled.stored(ns, "flags") == {"new_checkout": True}


@pytest.mark.parametrize(
    ("text", "says"),
    [("not json", "is not JSON"), ('{"type": "strnig"}', "not a valid JSON Schema")],
)
def test_a_bad_schema_file_is_refused(ruled: StoreUnderTest, ns: str, text: str, says: str) -> None:
    refused = run("schema", ruled.url, ns, "flags", "-", stdin=text)
    assert refused.code == 2
    assert says in refused.err
    assert json.loads(run("schema", ruled.url, ns, "flags").out) == FLAGS


def test_a_schema_the_stored_value_fails_is_refused(ruled: StoreUnderTest, ns: str) -> None:
    stricter = {**FLAGS, "required": ["port"]}
    refused = run("schema", ruled.url, ns, "flags", "-", stdin=json.dumps(stricter))
    assert refused.code == INVALID
    assert "port" in refused.err
    assert json.loads(run("schema", ruled.url, ns, "flags").out) == FLAGS
