"""Conformance tests for writes whose outcome is unknown: the answer lost after the store
applied the write, or the request lost before it got there.

Part of :class:`~confo.testing.BackendConformance`. The faults come from a wrapper plugin around
the backend's real ``confo_write`` on the real store: the write is applied (or not), then the
call fails as a cut connection makes it fail. :class:`~confo.testing.NetworkConformance` does
the same through a real TCP proxy that drops the server's answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import pytest

from confo.errors import BackendUnavailableError, ConflictError
from confo.manager import Confo
from confo.markers import hookimpl
from confo.model import Changes, WriteResult
from confo.testing.helpers import unique
from confo.testing.watching import Recorder, until


class LoseAnswers:
    """A wrapper plugin: the next write after ``lose_answer()`` reaches the store and then fails
    as if its answer was lost; after ``lose_request()``, it fails before reaching the store."""

    def __init__(self) -> None:
        self._answer = self._request = False

    def lose_answer(self) -> None:
        self._answer = True

    def lose_request(self) -> None:
        self._request = True

    @hookimpl(wrapper=True)
    def confo_write(self, namespace: str, changes: Changes) -> Any:
        if self._request:
            self._request = False
            raise BackendUnavailableError(f"the request to write {namespace!r} was lost (test)")
        result: WriteResult = yield
        if self._answer:
            self._answer = False
            raise BackendUnavailableError(f"the answer to a write of {namespace!r} was lost (test)")
        return result


def _persist_lost(manager: Confo, lose: Callable[[], None], value: int) -> None:
    """Arm the fault, set ``db.v`` to ``value`` and persist: it fails as a cut connection's."""
    lose()
    manager.set("db", "v", value)
    with pytest.raises(BackendUnavailableError):
        manager.persist()


class LostAnswerConformance:
    """A manager whose write's outcome is unknown goes on persisting: no false conflict, nothing
    lost, and a real change by someone else still a conflict."""

    backend_type: ClassVar[str]

    @pytest.fixture
    def lossy(self, credentials: Mapping[str, Any]) -> Iterator[tuple[Confo, LoseAnswers, str]]:
        """A manager whose writes go through :class:`LoseAnswers`, on a namespace of its own
        holding ``db = {"v": 1}``."""
        faults = LoseAnswers()
        with Confo() as manager:
            manager.load_backend(credentials, "lossy", self.backend_type, plugins=[faults])
            manager.activate_backend("lossy")
            namespace = unique()
            manager.create_namespace(namespace)
            manager.use_namespace(namespace)
            manager.set("db", {"v": 1})
            manager.persist()
            yield manager, faults, namespace

    def test_a_lost_answer_does_not_wedge_the_writer(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        manager, faults, ns = lossy
        _persist_lost(manager, faults.lose_answer, 2)
        other.use_namespace(ns)
        assert other.get("db") == {"v": 2}  # the store applied it
        manager.set("db", "v", 3)
        manager.persist()  # no ConflictError: the unknown write was found to be this one's
        other.reload()
        assert other.get("db") == {"v": 3}
        manager.set("db", "v", 4)
        manager.persist()  # and it goes on
        other.reload()
        assert other.get("db") == {"v": 4}

    def test_a_lost_answer_settles_at_the_next_persist(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        manager, faults, ns = lossy
        faults.lose_answer()
        manager.set("db", "v", 2)
        manager.set("new", {"made": True})
        with pytest.raises(BackendUnavailableError):
            manager.persist()
        assert manager.namespace(ns).has_unsaved_changes()  # for all it knows
        manager.persist()  # nothing left to write: both were written
        assert not manager.namespace(ns).has_unsaved_changes()
        other.use_namespace(ns)
        assert other.get_all() == {"db": {"v": 2}, "new": {"made": True}}
        # The settled revision is the store's: a further edit persists without a conflict.
        manager.set("db", "v", 5)
        manager.persist()
        other.reload()
        assert other.get("db") == {"v": 5}

    def test_a_lost_answer_to_a_delete_settles(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        manager, faults, ns = lossy
        faults.lose_answer()
        manager.delete("db")
        with pytest.raises(BackendUnavailableError):
            manager.persist()
        manager.persist()
        assert not manager.namespace(ns).has_unsaved_changes()
        manager.set("db", {"v": "again"})
        manager.persist()  # created anew: no conflict with the delete that did land
        other.use_namespace(ns)
        assert other.get("db") == {"v": "again"}

    def test_a_lost_request_is_sent_again(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        manager, faults, ns = lossy
        _persist_lost(manager, faults.lose_request, 2)
        other.use_namespace(ns)
        assert other.get("db") == {"v": 1}  # it never got there
        manager.persist()
        other.reload()
        assert other.get("db") == {"v": 2}

    def test_a_lost_answer_then_a_lost_request_still_settle(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        """A writer retrying through an outage: its first write landed (answer lost), the next
        never got there. Either may be what the store holds; neither is a conflict."""
        manager, faults, ns = lossy
        _persist_lost(manager, faults.lose_answer, 2)
        _persist_lost(manager, faults.lose_request, 3)
        manager.persist()
        other.use_namespace(ns)
        assert other.get("db") == {"v": 3}

    def test_a_change_elsewhere_after_a_lost_answer_is_a_real_conflict(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        manager, faults, ns = lossy
        _persist_lost(manager, faults.lose_answer, 2)
        other.use_namespace(ns)
        other.set("db", "v", "theirs")
        other.persist()
        manager.set("db", "v", 3)
        with pytest.raises(ConflictError) as info:
            manager.persist()
        assert info.value.configs == ["db"]
        other.reload()
        assert other.get("db") == {"v": "theirs"}  # not overwritten

    def test_a_lost_answer_to_update_does_not_wedge_the_next(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        manager, faults, ns = lossy
        faults.lose_answer()
        with pytest.raises(BackendUnavailableError):
            manager.update("db", lambda c: {**c, "v": c["v"] + 1})
        written = manager.update("db", lambda c: {**c, "v": c["v"] + 1})
        assert written == {"v": 3}  # it read the first one's write, which had landed
        assert manager.get("db") == {"v": 3}
        other.use_namespace(ns)
        assert other.get("db") == {"v": 3}

    def test_a_watch_settles_a_lost_answer(
        self, lossy: tuple[Confo, LoseAnswers, str], other: Confo
    ) -> None:
        manager, faults, ns = lossy
        seen = Recorder()
        with manager.watch(seen):
            _persist_lost(manager, faults.lose_answer, 2)
            handle = manager.namespace(ns)
            until(lambda: not handle.has_unsaved_changes())  # the push showed it landed
            other.use_namespace(ns)
            other.set("db", "v", 3)
            other.persist()
            until(lambda: manager.get("db") == {"v": 3})
