"""Least privilege: a service reads its configuration with an identity that may only read.

Mix :class:`ReadOnlyConformance` in beside :class:`~confo.testing.BackendConformance` for a
store with access control, and provide ``read_only`` (credentials of an identity that may do
everything, and of one that may only read, on the same running store).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest

from confo.errors import PermissionDeniedError
from confo.manager import Confo
from confo.testing.helpers import connected, unique
from confo.testing.watching import Recorder, until


class ReadOnlyConformance:
    """For a store with access control: an identity that may only read loads, reads, reloads
    and watches, and a write it may not make is a ``PermissionDeniedError`` naming the right.

    Fixture ``read_only``: (credentials of a writer, credentials of a read-only identity), on a
    store of its own where the writer made Confo's root and granted the reader read access.
    """

    backend_type: ClassVar[str]

    @pytest.fixture
    def read_only(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """(a writer's credentials, a read-only identity's credentials)."""
        raise NotImplementedError("a backend with access control provides this fixture")

    @contextmanager
    def _writer_and_reader(
        self, read_only: tuple[Mapping[str, Any], Mapping[str, Any]]
    ) -> Iterator[tuple[Confo, Confo, str]]:
        """Both identities connected, and a namespace the writer made holding ``db``."""
        writer_credentials, reader_credentials = read_only
        name = unique("ro")
        with (
            connected(self.backend_type, writer_credentials) as writer,
            connected(self.backend_type, reader_credentials) as reader,
        ):
            writer.create_namespace(name)
            writer.use_namespace(name)
            writer.set("db", {"host": "a"})
            writer.persist()
            yield writer, reader, name

    def test_a_read_only_identity_loads_reads_reloads_and_watches(
        self, read_only: tuple[Mapping[str, Any], Mapping[str, Any]]
    ) -> None:
        with self._writer_and_reader(read_only) as (writer, reader, name):
            assert name in reader.get_namespaces()["all_namespaces"]
            reader.use_namespace(name)
            assert reader.get("db") == {"host": "a"}
            seen = Recorder()
            with reader.watch(seen):
                writer.set("db", "host", "b")
                writer.persist()
                until(lambda: seen.last() == {"db": {"host": "b"}})
                assert reader.get("db") == {"host": "b"}  # the live view follows
            writer.set("db", "host", "c")
            writer.persist()
            reader.reload()
            assert reader.get("db") == {"host": "c"}

    def test_a_read_only_identity_may_not_write_and_is_told_why(
        self, read_only: tuple[Mapping[str, Any], Mapping[str, Any]]
    ) -> None:
        with self._writer_and_reader(read_only) as (writer, reader, name):
            reader.use_namespace(name)
            reader.set("db", "host", "evil")
            for call in (
                reader.persist,
                lambda: reader.persist(force=True),
                lambda: reader.update("db", lambda config: {"host": "evil"}),
                lambda: reader.create_namespace(unique("ro")),
                lambda: reader.delete_namespace(name),
            ):
                with pytest.raises(PermissionDeniedError):
                    call()
            assert reader.get("db") == {"host": "evil"}  # the edit is kept, unsaved
            writer.reload()
            assert writer.get_all() == {"db": {"host": "a"}}
            assert name in writer.get_namespaces()["all_namespaces"]
