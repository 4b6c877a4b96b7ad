"""The change record's stored form, and what rollback computes from a history: no store needed."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from confo.errors import CorruptDataError
from confo.history import ChangeRecord, decode_record, default_author, draft, state_after


def _stored(**fields: object) -> bytes:
    record = {
        "confo_record": 1,
        "time": "2026-12-02T10:00:00+00:00",
        "author": "ana",
        "message": None,
        "persist": "p1",
        "changes": {"db": {"before": None, "after": {"v": 1}}},
        "schemas": {},
    }
    return json.dumps({**record, **fields}).encode()


def test_a_draft_reads_back_as_the_record_it_was() -> None:
    written = draft(
        {"db": {"before": {"v": 1}, "after": None}}, author="bob", message="why", keep=10
    )
    record = decode_record("7", written.encode(), "test")
    assert record == ChangeRecord(
        "7",
        written.time,
        "bob",
        "why",
        {"db": {"before": {"v": 1}, "after": None}},
        {},
        written.persist_id,
    )
    assert record.time.tzinfo is not None
    part = written.part(["other"])
    assert part.changes == {}
    assert part.persist_id == written.persist_id


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (_stored(confo_record=2), "format version 2"),
        (json.dumps({"host": "db"}).encode(), "no format version"),
        (_stored(time="yesterday"), "damaged"),
        (_stored(time="2026-12-02T10:00:00"), "time zone"),
        (_stored(author=5), "damaged"),
        (_stored(changes={"db": {"after": {}}}), "before and after"),
        (_stored(changes={"db": {"before": None, "after": [1]}}), "not an object"),
        (b"not json", "not hold valid JSON"),
    ],
)
def test_a_record_this_confo_cannot_read_is_refused_naming_its_place(
    data: bytes, says: str
) -> None:
    with pytest.raises(CorruptDataError, match="key k/1") as info:
        decode_record("1", data, "key k/1")
    assert says in str(info.value)


def _record(record_id: str, **changes: tuple[object, object]) -> ChangeRecord:
    diff = {name: {"before": b, "after": a} for name, (b, a) in changes.items()}
    return ChangeRecord(record_id, datetime.now(timezone.utc), "x", None, diff)  # type: ignore[arg-type]


def test_the_state_after_a_record_is_each_later_change_undone() -> None:
    newest_first = [
        _record("4", db=({"v": 3}, {"v": 4}), new=(None, {"n": 1})),
        _record("3", db=({"v": 2}, {"v": 3})),
        _record("2", db=({"v": 1}, {"v": 2}), cache=({"t": 1}, None)),
        _record("1", db=(None, {"v": 1})),
    ]
    assert state_after("2", newest_first) == {"db": {"v": 2}, "new": None}
    assert state_after("1", newest_first) == {"db": {"v": 1}, "new": None, "cache": {"t": 1}}
    assert state_after("1", newest_first, "cache") == {"cache": {"t": 1}}
    assert state_after("4", newest_first) == {}


def test_the_author_is_the_environment_s_else_user_at_host() -> None:
    assert default_author({"CONFO_AUTHOR": " deploy-bot "}) == "deploy-bot"
    assert "@" in default_author({})
    assert default_author({"CONFO_AUTHOR": "  "}) == default_author({})
