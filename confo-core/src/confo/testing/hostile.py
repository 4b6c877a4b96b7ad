"""The malformed-input corpus (:mod:`confo.testing.corpus`) put to a backend: every input gets a
Confo error that names it, or is stored and read back exactly; nothing stored before is harmed.

Part of :class:`~confo.testing.BackendConformance`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from confo.errors import (
    ConfoError,
    CorruptDataError,
    CredentialsError,
    InvalidNameError,
    InvalidValueError,
    NamespaceNotFoundError,
)
from confo.manager import Confo
from confo.testing.corpus import (
    BAD_SECONDS,
    BAD_TEXT_CREDENTIALS,
    CORRUPT_DATA,
    EDGE_NAMES,
    EDGE_VALUES,
    MUST_REFUSE_NAMES,
    UNSTORABLE_VALUES,
)
from confo.testing.helpers import connected, unique
from confo.testing.raw import RawStore


def _cases(corpus: list[tuple[str, Any]]) -> pytest.MarkDecorator:
    values = [value for _, value in corpus]
    return pytest.mark.parametrize("case", values, ids=[i for i, _ in corpus])


def _exact(value: object) -> str:
    """A form that tells 1 from 1.0 and -0.0 from 0.0, unlike ``==``."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True)


class HostileInputConformance:
    """Mixed into :class:`~confo.testing.BackendConformance`; uses its fixtures."""

    backend_type: ClassVar[str]

    @_cases(MUST_REFUSE_NAMES)
    def test_bad_names_fail_before_any_write(self, manager: Confo, ns: str, case: str) -> None:
        manager.set("kept", {"v": 1})
        manager.persist()
        before = manager.get_namespaces()["all_namespaces"]
        for call in (
            lambda: manager.create_namespace(case),
            lambda: manager.use_namespace(case),
            lambda: manager.delete_namespace(case),
            lambda: manager.namespace(case),
            lambda: manager.set(case, {"a": 1}),
            lambda: manager.update(case, lambda config: {"a": 1}),
        ):
            with pytest.raises(InvalidNameError):
                call()
        manager.persist()  # nothing refused was left pending
        assert manager.get_namespaces()["all_namespaces"] == before
        manager.reload()
        assert manager.get_all() == {"kept": {"v": 1}}

    @_cases(EDGE_NAMES)
    def test_edge_names_as_namespaces_are_taken_whole_or_refused(
        self, manager: Confo, other: Confo, case: str
    ) -> None:
        before = manager.get_namespaces()["all_namespaces"]
        try:
            manager.create_namespace(case)
        except InvalidNameError:
            assert manager.get_namespaces()["all_namespaces"] == before
            with pytest.raises(InvalidNameError):
                manager.use_namespace(case)
            return
        try:
            manager.use_namespace(case)
            manager.set("c", {"v": 1})
            manager.persist()
            assert case in other.get_namespaces()["all_namespaces"]
            other.use_namespace(case)
            assert other.get_all() == {"c": {"v": 1}}
        finally:
            manager.delete_namespace(case)
        assert case not in other.get_namespaces()["all_namespaces"]

    @_cases(EDGE_NAMES)
    def test_edge_names_as_configurations_are_taken_whole_or_refused(
        self, manager: Confo, other: Confo, ns: str, case: str
    ) -> None:
        try:
            manager.set(case, {"v": 1})
        except InvalidNameError:
            manager.persist()
            other.use_namespace(ns)
            assert other.get_all() == {}
            return
        manager.set("neighbour", {"v": 2})
        manager.persist()
        other.use_namespace(ns)
        assert other.get_all() == {case: {"v": 1}, "neighbour": {"v": 2}}
        manager.delete(case)
        manager.persist()
        other.reload()
        assert other.get_all() == {"neighbour": {"v": 2}}

    @_cases(UNSTORABLE_VALUES)
    def test_values_the_store_cannot_hold_fail_at_set(
        self, manager: Confo, other: Confo, ns: str, case: object
    ) -> None:
        manager.set("db", {"port": 1})
        manager.persist()
        with pytest.raises(InvalidValueError, match="db"):
            manager.set("db", "port", case)
        with pytest.raises(InvalidValueError, match="db"):
            manager.set("db", {"port": case})
        with pytest.raises(InvalidValueError, match="fresh"):
            manager.set("fresh", {"port": case})
        assert manager.get_all() == {"db": {"port": 1}}
        manager.set("db", "port", 2)
        manager.persist()  # nothing refused was left pending to poison it
        other.use_namespace(ns)
        assert other.get_all() == {"db": {"port": 2}}

    def test_edge_values_come_back_exactly(self, manager: Confo, other: Confo, ns: str) -> None:
        config = dict(EDGE_VALUES)
        manager.set("edges", config)
        manager.persist()
        other.use_namespace(ns)
        stored = other.get("edges")
        for name, value in EDGE_VALUES:
            assert _exact(stored[name]) == _exact(value), name
        other.set("edges", "touched", True)  # what was read can be written back as it is
        other.persist()
        manager.reload()
        assert _exact(manager.get("edges")) == _exact({**config, "touched": True})

    @_cases(CORRUPT_DATA)
    def test_corrupt_stored_data_is_named_and_left_alone(
        self, manager: Confo, raw: RawStore, case: bytes
    ) -> None:
        name = unique()
        raw.put(name, "good", b'{"ok": true}')
        raw.put(name, "broken", case)
        with pytest.raises(CorruptDataError, match="broken"):
            manager.use_namespace(name)
        with pytest.raises(CorruptDataError, match="broken"):
            manager.update("broken", lambda config: {"fixed": True}, namespace=name)
        assert raw.get(name, "broken") == case
        assert raw.get(name, "good") == b'{"ok": true}'

    def test_empty_stored_data_is_empty_or_corrupt(self, manager: Confo, raw: RawStore) -> None:
        name = unique()
        raw.put(name, "empty", b"")
        try:
            manager.use_namespace(name)
        except CorruptDataError as exc:
            error: CorruptDataError | None = exc
        else:
            error = None
            assert manager.get("empty") == {}
        assert error is None or "empty" in str(error)

    @_cases(BAD_TEXT_CREDENTIALS)
    def test_text_credentials_that_cannot_be_right_are_refused(
        self,
        credentials: Mapping[str, Any],
        case: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # A backend may take such a value as a relative path and create what it names: in a
        # folder of the test's own, never in the working directory.
        monkeypatch.chdir(tmp_path)
        texts = [key for key, value in credentials.items() if isinstance(value, str)]
        for key in texts:
            # Accepted is allowed too (a newline may be part of a valid password): what counts
            # is that nothing but a Confo error comes out.
            with contextlib.suppress(ConfoError):
                connected(self.backend_type, {**credentials, key: case}).close()

    @_cases(BAD_SECONDS)
    def test_timeouts_that_cannot_be_right_are_refused(
        self, credentials: Mapping[str, Any], case: object
    ) -> None:
        with pytest.raises(CredentialsError, match="timeout"):
            connected(self.backend_type, {**credentials, "timeout": case}).close()

    def test_a_missing_namespace_is_named_by_every_call(self, manager: Confo) -> None:
        missing = unique("missing")
        for call in (
            lambda: manager.use_namespace(missing),
            lambda: manager.delete_namespace(missing),
            lambda: manager.namespace(missing).get_all(),
        ):
            with pytest.raises(NamespaceNotFoundError, match=missing):
                call()

    def test_an_update_in_a_namespace_deleted_elsewhere_names_it_and_makes_none(
        self, manager: Confo, other: Confo
    ) -> None:
        """update() reads its one configuration by name, with no read of the namespace first:
        a store must tell a missing configuration from a missing namespace, and the write must
        not make the namespace again."""
        gone = unique("gone")
        manager.create_namespace(gone)
        handle = manager.namespace(gone)  # held here, then deleted by another process
        other.delete_namespace(gone)
        with pytest.raises(NamespaceNotFoundError, match=gone):
            handle.update("db", lambda config: {**config, "n": 1})
        assert gone not in other.get_namespaces()["all_namespaces"]
