"""Change records: who changed which configurations of a namespace, when, why, from what to what.

Every change Confo makes to a namespace appends one record to the namespace's history, written by
the backend in the same transaction as the change (``Changes.record``). This module is the record
itself and its stored form, the same bytes on every store: a JSON object

    {"confo_record": 1, "time": "2026-12-02T10:00:00.123456+00:00", "author": "ana@build-7",
     "message": "raise the pool", "persist": "5f0c...", "changes": {"db": {"before": {...},
     "after": {...}}}, "schemas": {}}

``confo_record`` is the format's version: a reader refuses a newer one (or a record that is not
Confo's) with :class:`~confo.errors.CorruptDataError` naming where it lies, rather than guess. The
record's id is not in it: the store hands it out (etcd's revision, a sequential znode, a stream
id, a counter under a folder's lock), so ids of one namespace sort in the order the changes
reached the store without the writers ever conflicting on a counter of their own.
"""

from __future__ import annotations

import functools
import getpass
import os
import socket
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from confo.aliases import JSONObject
from confo.errors import CorruptDataError
from confo.values import decode, encode_compact

FORMAT = 1
DEFAULT_LIMIT = 100
"""Records kept per namespace unless ``history_limit`` says otherwise (0: no history)."""

Diff = dict[str, dict[str, "JSONObject | None"]]
"""``{config: {"before": value or None, "after": value or None}}``: None where absent."""


@dataclass(frozen=True)
class ChangeRecord:
    """One change to a namespace, as its history holds it.

    ``id`` sorts (as a string) in the order the changes reached the store; ``changes`` maps each
    configuration touched to ``{"before": ..., "after": ...}`` (None where absent); ``schemas``
    the same for schema changes. ``persist_id`` is shared by the records of one persist that
    the store had to split into several transactions.
    """

    id: str
    time: datetime
    author: str
    message: str | None
    changes: Diff
    schemas: Diff = field(default_factory=dict)
    persist_id: str = ""

    def touches(self, config: str) -> bool:
        """Whether the record changed ``config`` or its schema."""
        return config in self.changes or config in self.schemas


@dataclass(frozen=True)
class RecordDraft:
    """A record before the store gives it an id: what a backend writes beside a change.

    ``keep`` is the namespace's ``history_limit``: a backend keeps at least that many records and
    at most twice that many, pruning the oldest as it writes.
    """

    time: datetime
    author: str
    message: str | None
    changes: Diff
    persist_id: str
    keep: int = DEFAULT_LIMIT
    schemas: Diff = field(default_factory=dict)

    def part(self, names: Collection[str]) -> RecordDraft:
        """The record of one transaction of a split write: only ``names``, the same persist."""
        wanted = set(names)
        return RecordDraft(
            self.time,
            self.author,
            self.message,
            {name: diff for name, diff in self.changes.items() if name in wanted},
            self.persist_id,
            self.keep,
            self.schemas,  # a schema change is one transaction of its own, never split
        )

    def encode(self) -> bytes:
        """The stored form (see the module's docstring)."""
        return encode_compact(
            {
                "confo_record": FORMAT,
                "time": self.time.isoformat(),
                "author": self.author,
                "message": self.message,
                "persist": self.persist_id,
                "changes": self.changes,
                "schemas": self.schemas,
            }
        )

    def stored(self, record_id: str) -> ChangeRecord:
        """The record as the history holds it once the store gave it ``record_id``."""
        return ChangeRecord(
            record_id,
            self.time,
            self.author,
            self.message,
            self.changes,
            self.schemas,
            self.persist_id,
        )


def diff(
    before: Mapping[str, JSONObject], put: Mapping[str, JSONObject], delete: Collection[str]
) -> Diff:
    """Each configuration a write touches, from what ``before`` holds for it (None: absent) to
    what the write leaves (``put``'s value, or None for one in ``delete``)."""
    changes: Diff = {name: {"before": before.get(name), "after": put[name]} for name in put}
    changes.update({name: {"before": before.get(name), "after": None} for name in delete})
    return changes


def draft(
    changes: Diff, *, author: str, message: str | None, keep: int, schemas: Diff | None = None
) -> RecordDraft:
    """A new record of ``changes``, stamped now (UTC), with a new persist id."""
    return RecordDraft(
        datetime.now(timezone.utc),
        author,
        message,
        changes,
        uuid.uuid4().hex,
        keep,
        schemas or {},
    )


def decode_record(record_id: str, data: bytes | str, where: str) -> ChangeRecord:
    """Read a stored record; ``where`` names its place (a key, a znode, a file) in errors.

    :raises CorruptDataError: not a Confo record, a newer format, or fields of the wrong type.
    """
    raw = decode(data, where)
    version = raw.get("confo_record")
    if version != FORMAT:
        found = "no format version" if version is None else f"format version {version!r}"
        raise CorruptDataError(
            f"{where} is not a change record this Confo can read ({found}; it reads version "
            f"{FORMAT}). A newer Confo or another tool wrote it: upgrade, or remove it."
        )
    try:
        return ChangeRecord(
            record_id,
            _time(raw["time"]),
            _text(raw["author"]),
            None if raw.get("message") is None else _text(raw["message"]),
            _diff(raw.get("changes", {})),
            _diff(raw.get("schemas", {})),
            _text(raw.get("persist", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptDataError(
            f"{where} is a damaged change record ({type(exc).__name__}: {exc}). Remove it; "
            "the history reads on without it."
        ) from None


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _time(value: object) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("a time without its time zone")
    return moment


def _diff(value: object) -> Diff:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of configurations, found {type(value).__name__}")
    diff: Diff = {}
    for name, sides in value.items():
        if not isinstance(sides, dict) or set(sides) != {"before", "after"}:
            raise ValueError(f"configuration {name!r} lacks its before and after")
        for side in ("before", "after"):
            if sides[side] is not None and not isinstance(sides[side], dict):
                raise TypeError(f"the {side} of {name!r} is not an object")
        diff[name] = {"before": sides["before"], "after": sides["after"]}
    return diff


def default_author(environ: Mapping[str, str] = os.environ) -> str:
    """``CONFO_AUTHOR``, else ``user@host``: who a manager's records say made the change."""
    given = environ.get("CONFO_AUTHOR", "").strip()
    return given or _user_at_host()


@functools.cache  # a password-database lookup per change record would cost more than its JSON
def _user_at_host() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container without /etc/passwd entry)
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def state_after(
    record_id: str, newer_first: list[ChangeRecord], config: str | None = None
) -> dict[str, JSONObject | None]:
    """What the configurations changed since ``record_id`` held right after it: for each one a
    later record touched (only ``config``, if given), the ``before`` of the earliest such record
    (None: it did not exist then). ``newer_first`` is the history down to ``record_id``, newest
    first, ending with that record."""
    target: dict[str, JSONObject | None] = {}
    for record in newer_first:
        if record.id == record_id:
            break
        for name, sides in record.changes.items():
            if config is None or name == config:
                target[name] = sides["before"]  # an older record's overwrites: it comes later
    return target


def describe(records: list[ChangeRecord]) -> list[dict[str, Any]]:
    """The records as JSON-ready dicts (``confo history --json``, the console)."""
    return [
        {
            "id": record.id,
            "time": record.time.isoformat(),
            "author": record.author,
            "message": record.message,
            "persist": record.persist_id,
            "changes": record.changes,
            "schemas": record.schemas,
        }
        for record in records
    ]
