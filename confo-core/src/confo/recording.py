"""A namespace's history as the manager uses it: the record each write carries, history read
back page by page, and what a rollback must write.

The records themselves (and their stored form) are :mod:`confo.history`; the store writes them
in the change's own transaction (``Changes.record``).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace

from confo.aliases import JSONObject
from confo.errors import ConfoError, HistoryUnavailableError, InvalidValueError, RecordNotFoundError
from confo.history import ChangeRecord, Diff, draft
from confo.model import Changes
from confo.store import Store

log = logging.getLogger(__name__)

PAGE = 200  # records read per round trip while looking for one configuration's or one id


def with_record(
    store: Store,
    changes: Changes,
    diff: Diff,
    *,
    author: str,
    message: str | None,
    schemas: Diff | None = None,
) -> Changes:
    """``changes`` carrying their change record, where the store keeps history; ``schemas``
    the schema changes they make."""
    if not changes or not store.keeps_history:
        return changes
    record = draft(diff, author=author, message=message, keep=store.history_limit, schemas=schemas)
    return replace(changes, record=record)


def check_limit(limit: object) -> int:
    """A positive integer, or InvalidValueError naming it."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidValueError(
            f"history() takes a limit of at least 1 record, an int (got {limit!r})."
        )
    return limit


def check_history(store: Store) -> None:
    """Refuse history calls on a store without it, saying why."""
    if store.keeps_history:
        return
    if store.history_limit == 0:
        raise HistoryUnavailableError(
            f"Backend {store.name!r} was loaded with history_limit=0: it keeps no history. "
            "Load it without that option (or with history_limit=N) to record changes."
        )
    raise HistoryUnavailableError(
        f"The {store.backend_type!r} backend keeps no change history (its capabilities say "
        "history=False)."
    )


def read(store: Store, namespace: str, config: str | None, limit: int) -> list[ChangeRecord]:
    """The newest ``limit`` records of ``namespace`` (only those touching ``config``, if
    given), newest first: one round trip unless ``config`` filters most of them out."""
    check_history(store)
    check_limit(limit)
    if config is None:
        return store.history(namespace, limit, None)
    found: list[ChangeRecord] = []
    before: str | None = None
    while len(found) < limit:
        page = store.history(namespace, PAGE, before)
        found += [record for record in page if record.touches(config)]
        if len(page) < PAGE:
            break
        before = page[-1].id
    return found[:limit]


def down_to(store: Store, namespace: str, record_id: object) -> list[ChangeRecord]:
    """The history from the newest record down to ``record_id`` (included), newest first.

    :raises RecordNotFoundError: the history holds no such record (unknown, or pruned).
    """
    check_history(store)
    if not isinstance(record_id, str) or not record_id:
        raise InvalidValueError(f"A record id is a non-empty string (got {record_id!r}).")
    records: list[ChangeRecord] = []
    before: str | None = None
    while True:
        page = store.history(namespace, PAGE, before)
        for record in page:
            records.append(record)
            if record.id == record_id:
                return records
        if len(page) < PAGE:
            oldest = records[-1].id if records else None
            kept = f"; the oldest kept is {oldest!r}" if oldest else "; it has none"
            raise RecordNotFoundError(
                f"Namespace {namespace!r} has no change record {record_id!r} in its history"
                f"{kept}. history() (confo history) lists the ids (older ones are pruned beyond "
                "history_limit)."
            )
        before = page[-1].id


class RecordFinder:
    """The change records behind a batch of watch events (``WatchEvent.record``): the newest
    records of the namespace, read once, on first use, from the dispatcher's thread."""

    NEWEST = 20  # a batch is what one read found changed: its records are among the newest

    def __init__(self, store: Store, namespace: str) -> None:
        self._store = store
        self._namespace = namespace
        self._records: list[ChangeRecord] | None = None

    def find(self, config: str, value: JSONObject | None) -> ChangeRecord | None:
        """The newest record that left ``config`` holding ``value``; None if there is none
        (another tool's change, or one pruned already)."""
        if self._records is None:
            try:
                self._records = self._store.history(self._namespace, self.NEWEST, None)
            except ConfoError as exc:  # the event stands without it
                log.info("no change record for a watch event of %r: %s", self._namespace, exc)
                self._records = []
        for record in self._records:
            sides = record.changes.get(config)
            if sides is not None and sides["after"] == value:
                return copy.deepcopy(record)  # each callback its own: it may change it
        return None
