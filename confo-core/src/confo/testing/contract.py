"""The parts of the hook contract that a backend can break while its users' calls still work:
sorted names, deletes that delete, the errors each hook owes, close, credentials, name limits.

Each test here failed against a deliberately broken variant of the template backend before it
was written (``tests/test_broken_backends.py`` keeps it so). Part of :class:`BackendConformance`.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from confo.discovery import backend_class
from confo.errors import CredentialsError, InvalidNameError, NamespaceNotFoundError
from confo.hookspecs import Backend
from confo.manager import Confo
from confo.model import Capabilities, Changes
from confo.names import MAX_NAME_LENGTH
from confo.store import Store
from confo.testing.helpers import BACKEND, connected, unique
from confo.testing.raw import RawStore
from confo.urls import parse_store_url

EMOJI = "\U0001f600"


class ContractConformance:
    """Mixed into :class:`~confo.testing.BackendConformance`; uses its fixtures."""

    backend_type: ClassVar[str]
    optional_credentials: ClassVar[frozenset[str]] = frozenset({"timeout"})
    """Credentials that the ``credentials`` fixture gives but the backend may do without (it
    documents a default). Every other key must be refused when missing or of the wrong type."""

    # --- namespaces --------------------------------------------------------------------------

    def test_namespaces_are_listed_sorted(self, manager: Confo, raw: RawStore) -> None:
        prefix = unique("sorted")
        names = [f"{prefix}_{suffix}" for suffix in ("d", "B", "c", "a", "é", "A1")]
        for name in names[:3]:
            manager.create_namespace(name)
        for name in names[3:]:  # made by another tool, found in the store's own order
            raw.put(name, "c", b"{}")
        listed = manager.get_namespaces()["all_namespaces"]
        assert listed == sorted(listed)
        assert [name for name in listed if name.startswith(prefix)] == sorted(names)

    def test_a_deleted_namespace_leaves_nothing_behind(
        self, manager: Confo, raw: RawStore, ns: str
    ) -> None:
        manager.set("db", {"host": "old"})
        manager.set("cache", {"ttl": 1})
        manager.persist()
        manager.delete_namespace(ns)
        assert raw.get(ns, "db") is None
        assert raw.get(ns, "cache") is None
        manager.create_namespace(ns)  # the same name again starts empty
        manager.use_namespace(ns)
        assert manager.get_all() == {}

    def test_deleting_a_missing_namespace_fails_naming_it(self, manager: Confo, ns: str) -> None:
        missing = unique("missing")
        with pytest.raises(NamespaceNotFoundError, match=missing):
            manager.delete_namespace(missing)
        assert ns in manager.get_namespaces()["all_namespaces"]

    # --- close -------------------------------------------------------------------------------

    def test_close_releases_connections_and_threads(self, credentials: Mapping[str, Any]) -> None:
        """Five backends loaded, used and closed must leave no socket, file or thread each.

        The closed backends are kept referenced meanwhile: what a close leaves open must not
        be hidden by the garbage collector closing it later.
        """
        cycles = 5
        kept = [self._use_and_close(credentials)]  # client libraries may keep one-off globals
        before = _resources()
        kept += [self._use_and_close(credentials) for _ in range(cycles)]
        deadline = time.monotonic() + 5  # threads and sockets may take a moment to wind down
        while True:
            grown = [after - start for after, start in zip(_resources(), before, strict=True)]
            if max(grown) < cycles or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        descriptors, threads = grown
        assert descriptors < cycles, f"{descriptors} file descriptors left open by confo_close"
        assert threads < cycles, f"{threads} threads left running by confo_close"
        assert len(kept) == cycles + 1

    def _use_and_close(self, credentials: Mapping[str, Any]) -> Store:
        store = Store(BACKEND, self.backend_type)
        store.connect(credentials)
        name = unique()
        store.create_namespace(name)
        store.write(name, Changes({"db": {"v": 1}}, set(), {"db": None}))
        assert store.read(name).configs == {"db": {"v": 1}}
        assert name in store.list_namespaces()
        store.close()
        return store

    # --- credentials -------------------------------------------------------------------------

    @pytest.fixture
    def store_url(self, credentials: Mapping[str, Any]) -> str | None:
        """The URL the ``confo`` command names the store under test by (``sqlite:PATH``), for a
        backend that implements ``confo_credentials_from_url``; None for one that does not."""
        return None

    def test_the_store_url_leads_to_the_same_store(
        self, store_url: str | None, manager: Confo, ns: str
    ) -> None:
        """The command line reaches a store through the URL its backend reads: that URL, read
        by ``confo.urls.parse_store_url``, must give credentials for this very store."""
        cls = backend_class(self.backend_type)
        reads_urls = getattr(cls, "confo_credentials_from_url", None) not in (
            None,
            getattr(Backend, "confo_credentials_from_url", None),
        )
        if store_url is None:
            assert not reads_urls, "the backend reads store URLs: provide the store_url fixture"
            return
        assert reads_urls, "store_url is given, but the backend reads no URL"
        address = parse_store_url(store_url)
        assert address.backend_type == self.backend_type
        assert store_url.partition(":")[0] in getattr(cls, "url_schemes", ())
        manager.set("db", {"via": "url"})
        manager.persist()
        with connected(self.backend_type, address.credentials) as other:
            other.use_namespace(ns)
            assert other.get("db") == {"via": "url"}

    def test_empty_credentials_are_refused(self) -> None:
        with pytest.raises(CredentialsError):
            connected(self.backend_type, {}).close()

    def test_each_credential_is_needed(self, credentials: Mapping[str, Any]) -> None:
        """A missing key fails naming it, rather than falling back to some default store."""
        for key in sorted(set(credentials) - self.optional_credentials):
            rest = {k: v for k, v in credentials.items() if k != key}
            with pytest.raises(CredentialsError, match=key):
                connected(self.backend_type, rest).close()

    def test_credentials_of_the_wrong_type_are_refused(
        self, credentials: Mapping[str, Any]
    ) -> None:
        for key in sorted(credentials):
            with pytest.raises(CredentialsError, match=key):
                connected(self.backend_type, {**credentials, key: object()}).close()

    def test_a_credential_the_backend_does_not_know_is_refused(
        self, credentials: Mapping[str, Any]
    ) -> None:
        """A typo (one key misspelled) must not be ignored: it names the key, the closest one
        the backend takes, and the keys it takes. Nothing connects."""
        key = sorted(credentials)[0]
        typo = key[:-1] + ("x" if key[-1] != "x" else "y")
        wrong = {k: v for k, v in credentials.items() if k != key} | {typo: credentials[key]}
        with pytest.raises(CredentialsError) as info:
            connected(self.backend_type, wrong).close()
        assert repr(typo) in str(info.value)
        assert repr(key) in str(info.value)
        with pytest.raises(CredentialsError, match="no_such_credential"):
            connected(self.backend_type, {**credentials, "no_such_credential": 1}).close()

    def test_the_core_options_are_not_the_backends_to_check(
        self, credentials: Mapping[str, Any]
    ) -> None:
        """``timeout`` is Confo's, for every backend: taken out before the backend checks the
        keys it knows."""
        connected(self.backend_type, {**credentials, "timeout": 7}).close()
        with pytest.raises(CredentialsError, match="timeout"):
            connected(self.backend_type, {**credentials, "timeout": "soon"}).close()

    # --- names -------------------------------------------------------------------------------

    def test_the_longest_names_fit_and_one_more_character_does_not(
        self, manager: Confo, other: Confo
    ) -> None:
        limit = _capabilities(manager).max_name_bytes
        namespace = _longest(unique("long"), limit)
        config = _longest("config", limit)
        manager.create_namespace(namespace)
        manager.use_namespace(namespace)
        manager.set(config, {"v": 1})
        manager.persist()
        other.use_namespace(namespace)
        assert other.get_all() == {config: {"v": 1}}
        assert namespace in other.get_namespaces()["all_namespaces"]
        for kind, name in (("namespace", namespace), ("configuration", config)):
            with pytest.raises(InvalidNameError):
                manager.check_name(kind, name + "x")  # type: ignore[arg-type]
        before = manager.get_namespaces()["all_namespaces"]
        with pytest.raises(InvalidNameError):
            manager.create_namespace(namespace + "x")
        with pytest.raises(InvalidNameError):
            manager.set(config + "x", {"v": 1})
        assert manager.get_namespaces()["all_namespaces"] == before

    def test_names_beyond_the_basic_plane_as_declared(self, manager: Confo, ns: str) -> None:
        name = f"smile {EMOJI}"
        if _capabilities(manager).names_outside_bmp:
            manager.set(name, {"v": 1})
            manager.persist()
            manager.reload()
            assert manager.get(name) == {"v": 1}
            manager.create_namespace(unique(EMOJI))
        else:
            with pytest.raises(InvalidNameError, match="U\\+1F600"):
                manager.set(name, {"v": 1})
            with pytest.raises(InvalidNameError):
                manager.create_namespace(unique(EMOJI))
            manager.persist()
            assert manager.get_all() == {}


def _capabilities(manager: Confo) -> Capabilities:
    return manager.capabilities(BACKEND)


def _longest(prefix: str, max_bytes: int | None) -> str:
    """The longest name starting with ``prefix`` the limits allow, mostly of two-byte letters,
    so that a backend counting characters where it should count bytes is caught."""
    name = prefix
    room = max_bytes if max_bytes is not None else 4 * MAX_NAME_LENGTH
    while len(name) < MAX_NAME_LENGTH and len(name.encode()) + 2 <= room:
        name += "é"
    while len(name) < MAX_NAME_LENGTH and len(name.encode()) < room:
        name += "x"
    return name


def _resources() -> tuple[int, int]:
    """Open file descriptors (sockets included) and running threads of this process.

    Garbage is collected first: what earlier tests left unreferenced (a broken backend's
    unclosed connections) would otherwise be freed while the count runs, and hide its growth.
    """
    gc.collect()
    fds = Path("/proc/self/fd")
    descriptors = len(os.listdir(fds)) if fds.is_dir() else 0
    return descriptors, threading.active_count()
