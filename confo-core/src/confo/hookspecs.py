# mypy: disable-error-code="empty-body"
# ruff: noqa: B027 (optional hooks are empty on purpose: a backend that lacks one does not override it)
"""The hooks a Confo backend implements.

Each loaded backend gets its own pluggy plugin manager holding one backend plugin (an instance of
the class its distribution registers under the ``confo.backends`` entry point) plus any wrapper
plugins passed to ``Confo.load_backend(..., plugins=[...])``. A hook call therefore always
concerns exactly one store connection, and the hooks take no "which backend" argument.

Wrappers (``@hookimpl(wrapper=True)``) see every call to every backend they are loaded with: the
place for encryption of secret fields, auditing or metrics without touching a backend; a plain
``confo_validate`` refuses a value at ``set``. A wrapper reaches only copies of what the manager
holds: what it changes in ``Changes`` goes to the store only, what it changes in a ``Snapshot``
is what the manager receives. Wrappers are objects passed to ``load_backend(...,
plugins=[...])``, or names that an installed distribution registers under the ``confo.plugins``
entry-point group.

The contract is written once, here: :class:`Backend` is both the hook specifications that
pluggy reads (every ``confo_*`` method, with its arguments, result and errors) and the base
class of a backend plugin, whose abstract methods are the required hooks
(:data:`REQUIRED_HOOKS`). A backend is an instance of a class registered under the
``confo.backends`` entry-point group, created with no arguments.

Confo calls a backend's hooks one at a time (each loaded backend has its own lock), so a
backend need not be thread-safe. ``confo_check_name`` is the exception: it runs on every ``set``
without that lock, and must not touch the store.

Rules every backend follows:

- Raise only :mod:`confo.errors` exceptions. Translate the client library's errors; name the
  namespace, configuration or key concerned, and the host and port, never a password.
- Leave the store unchanged when a call fails wherever the store allows it (transactions).
- Return data the manager may keep: no shared or cached dicts. Never change what you are given
  (``changes.put`` holds the manager's own dicts; wrappers get copies).
- Revisions (:mod:`confo.model`): a configuration's revision changes whenever its stored value
  does, by Confo or by anyone else. Writes are conditional on them (``confo_write``).

Watching (``confo_watch``) is the one hook called concurrently with others (on an instance of
its own, and with ``confo_close`` of that instance when a watch must end at once): see its
contract.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from confo.history import ChangeRecord
from confo.markers import hookspec
from confo.model import Capabilities, Changes, Snapshot, WatchFeed, WriteResult
from confo.names import NameKind
from confo.values import JSONObject


class Backend(ABC):
    """The hooks a backend implements, and the base class of a backend plugin.

    Subclass it and implement the abstract hooks (the required ones) and any others: every
    method named ``confo_*`` is then a hook (no ``@hookimpl`` marker needed, though one may set
    options such as ``tryfirst``), mypy checks each signature against the one here, and a
    missing required hook fails at ``load_backend``, naming it. A hook this class defines and a
    subclass does not override is not implemented: a backend without ``confo_watch`` cannot be
    watched. ``__init__`` takes no arguments: Confo creates the instance, then calls
    ``confo_connect``. (A plain class works too, with each hook marked ``@confo.hookimpl``.)
    """

    url_schemes: ClassVar[tuple[str, ...]] = ()
    """The URL schemes ``confo_credentials_from_url`` reads (``("redis", "rediss")``): how the
    command line finds the backend for a URL without loading every installed one."""

    @hookspec
    @abstractmethod
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        """Connect to the store and make sure Confo's root exists there.

        :param credentials: the dictionary given to ``load_backend``, less the options Confo
            handles itself (``timeout``): the rest are the backend's own, and a key it does not
            know is a mistake to refuse (:func:`confo.credentials.refuse_unknown`).
        :param timeout: seconds within which to succeed or fail.
        :raises CredentialsError: a key is missing or has the wrong type (name the key).
        :raises BackendUnavailableError: the store did not answer in time (name host and port).
        :raises BackendAuthenticationError: the store refused the credentials.
        """

    @hookspec
    def confo_check_name(self, kind: NameKind, name: str) -> None:
        """Refuse a name that the store cannot hold, beyond the shared rules of :mod:`confo.names`.

        Called before anything is written, including at ``set``, so a bad name fails early.
        Every implementation is called (plugins may add rules); the shared rules have already
        passed. Pure: it may run while another call of this backend is under way, so it must
        not touch the store.

        :param kind: ``"namespace"`` or ``"configuration"``.
        :param name: the name to check.
        :raises InvalidNameError: the store cannot hold it; say why and what to use instead.
        """

    @hookspec
    def confo_validate(self, namespace: str, config: str, values: JSONObject) -> None:
        """Refuse a configuration before it is held in memory: at ``set``, ``update`` and ``write``.

        For wrapper plugins (schemas, policies); backends rarely need it. Every implementation is
        called, with the whole configuration as it would be after the call. Pure and quick: it runs
        under the manager's lock, and must neither touch the store nor change ``values``.

        :param namespace: the namespace the configuration belongs to.
        :param config: the configuration's name.
        :param values: the configuration as it would be held (a copy; do not keep it).
        :raises InvalidValueError: the configuration is refused; say which field and why. Nothing
            is changed, in memory or in the store.
        """

    @hookspec(firstresult=True)
    @abstractmethod
    def confo_list_namespaces(self) -> list[str]:
        """Return the names of the namespaces in the store, sorted, as plain names (no prefixes).

        Read live: namespaces created by other processes show up. Should not read configurations.

        :raises BackendUnavailableError: the store went away.
        """

    @hookspec
    @abstractmethod
    def confo_create_namespace(self, namespace: str) -> None:
        """Create ``namespace`` in the store. Creating one that exists is not an error.

        :raises NamespaceExistsException: the name is taken by something that is not a namespace.
        :raises BackendUnavailableError: the store went away.
        """

    @hookspec
    @abstractmethod
    def confo_delete_namespace(self, namespace: str) -> None:
        """Delete ``namespace`` and every configuration in it, all at once where the store can.

        :raises NamespaceNotFoundError: the store has no such namespace.
        :raises BackendUnavailableError: the store went away.
        """

    @hookspec(firstresult=True)
    @abstractmethod
    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot:
        """Return the configurations of ``namespace`` with their revisions, read in bulk.

        :param namespace: the namespace to read.
        :param names: None to read every configuration; otherwise only these are needed (``update``
            reads one). A name the store lacks is simply absent from the result. An implementation
            may ignore ``names`` and return everything: the manager keeps only what it asked for.
        :returns: a :class:`~confo.model.Snapshot` whose ``revisions`` has an entry for every
            configuration in ``configs``, each read at one moment where the store allows it.
            With ``Capabilities(schemas=True)``, also the namespace's schema document
            (``schemas``, decoded with :func:`confo.schemas.decode_document`, and
            ``schemas_revision``; an empty dict and None if it has none), whatever ``names``
            asks for, read at the same moment. Keep it where the seeds' layout does not look.
        :raises NamespaceNotFoundError: the store has no such namespace.
        :raises CorruptDataError: a stored value is not a JSON object (name its key or file).
        :raises BackendUnavailableError: the store went away.
        """

    @hookspec(firstresult=True)
    @abstractmethod
    def confo_write(self, namespace: str, changes: Changes) -> WriteResult:
        """Apply ``changes`` to ``namespace``, creating the namespace if it is missing.

        Conditional unless ``changes.force``: every name in ``changes.put`` and ``changes.delete``
        must still have the revision ``changes.expected`` gives it (None: must not exist), and so
        must a name only in ``changes.expected``, which the write leaves as it is
        (``changes.checked()`` lists them all). Check and
        write atomically (a transaction, or a lock that every writer takes), so that no change made
        by anyone between the check and the write can be lost.

        With ``changes.check_schemas`` (forced or not), also conditional on the namespace's
        schema document having revision ``changes.schemas_expected`` (None: there is none), in
        each transaction; otherwise raise ``ConflictError(..., schemas=True)``. Where
        ``changes.schemas`` is not None, store it as the document
        (:func:`confo.schemas.encode_document`; ``{}`` removes it) in the same transaction, and
        return its new revision in ``WriteResult.schemas_revision``. ``confo_delete_namespace``
        deletes the document with the namespace.

        All or nothing where the store allows it (one transaction). Where a write must be split
        (the store limits a transaction's size), check every expectation before writing anything,
        and document what stays unchecked between the parts.

        :returns: a :class:`~confo.model.WriteResult` with the new revision of every name put.
        :raises ConflictError: some expectations failed; name every such configuration (and
            pass ``schemas=True`` if the schema document's did); nothing of the namespace was
            written.
        :raises PartialWriteError: a split write stopped after some parts; carry what was written.
        :raises StoreLimitError: a configuration is larger than the store accepts; nothing written.
        :raises BackendUnavailableError: the store went away; say whether anything was written.
        """

    @hookspec(firstresult=True)
    def confo_watch(self, feed: WatchFeed, stopping: threading.Event) -> None:
        """Report to ``feed`` what may change in the namespaces ``feed.namespaces()`` names, until
        ``stopping`` is set.

        Optional: a backend without it cannot be watched. Confo calls it on a thread of its own, on
        a backend instance of its own (connected with the same credentials as the one serving every
        other hook, and serving nothing else), once per loaded backend however many namespaces are
        watched: one listener connection, whether a service watches one namespace or fifty. Watch
        the whole root where the store can (a key prefix, a folder), else subscribe to each
        namespace in ``feed.namespaces()`` as it comes and goes.

        - ``feed.resync()`` once the watch is in place, and after every gap it cannot replay (a
          reconnect, a session expiry, a compacted history); ``feed.changed(namespace, None)`` once
          a subscription of one namespace is in place. Confo then reads and compares: a spurious
          call costs a read, a missing one loses a change. When in doubt, call it.
        - ``feed.changed(namespace, names)`` with the configurations that may have changed.
        - ``feed.alive()`` at least every ``feed.heartbeat`` seconds while the store answers on this
          connection (a heartbeat round trip, a message): a connection gone silent must show.
        - Return within half a second of ``stopping`` being set.

        :param feed: where changes and health go (:class:`~confo.model.WatchFeed`).
        :param stopping: set when the watch must end.
        :raises BackendUnavailableError: to give up: the connection was lost, or stayed silent for
            a few heartbeats. Confo marks the watches unhealthy, waits (exponential back-off with
            jitter, from 0.1 s up to 10 s) and calls the hook again, so do not retry in a loop of
            your own; a client library that reconnects by itself should be told to back off alike.
        """

    @hookspec(firstresult=True)
    def confo_capabilities(self) -> Capabilities:
        """Say what this backend can promise: its watch guarantee and transaction limits.

        Optional: without it, a backend that implements ``confo_watch`` is taken to promise
        ``watch="latest"``, and one that does not ``"none"``. Called after ``confo_connect``, so
        limits read from the credentials or the server may be given.

        :returns: a :class:`~confo.model.Capabilities`.
        """

    @hookspec(firstresult=True)
    def confo_history(self, namespace: str, limit: int, before: str | None) -> list[ChangeRecord]:
        """The newest change records of ``namespace``'s history, newest first.

        Optional, with ``Capabilities(history=True)``: such a backend also writes
        ``changes.record`` (when not None) in the same transaction as every change
        ``confo_write`` makes (one record per transaction of a split write, with
        ``changes.record.part(names)``), gives it an id the store orders (ids of one namespace
        sort, as strings, in the order the writes reached the store: a revision, a sequence
        number, a stream id, zero-padded), returns the ids in ``WriteResult.records``, and
        prunes the oldest records beyond twice ``changes.record.keep`` down to ``keep``.
        ``confo_delete_namespace`` deletes the namespace's history with it. Keep records where
        the seeds' layout does not look: ``confo_list_namespaces`` never shows them.

        :param limit: at most this many records (a positive integer), in one round trip where
            the store allows.
        :param before: only records older than this id (paging); None: from the newest.
        :returns: :class:`~confo.history.ChangeRecord` objects read with
            :func:`confo.history.decode_record`; ``[]`` for a namespace without history.
        :raises NamespaceNotFoundError: the namespace does not exist.
        :raises CorruptDataError: a stored record is not one this Confo reads (from
            ``decode_record``, naming its place).
        """

    @hookspec(firstresult=True)
    def confo_credentials_from_url(self, url: str, password: str | None) -> dict[str, Any] | None:
        """Read a store URL into this backend's credentials: how the ``confo`` command names stores.

        Optional: without it, the command line cannot reach this backend. Called on an instance that
        is never connected, so it must not touch the store. :func:`confo.urls.split_url` reads the
        usual ``scheme://user:password@host:port,host:port/path?option=value`` form.

        :param url: as the user wrote it, e.g. ``redis://alice@127.0.0.1:6379/0``.
        :param password: a password given apart from the URL (the command line reads
            ``CONFO_PASSWORD``); use it where the URL carries none.
        :returns: credentials for ``load_backend``, or None for a URL of a scheme this backend does
            not read (another backend may).
        :raises StoreURLError: the URL is this backend's but malformed or names an unknown option;
            say which part, never the password.
        """

    @hookspec
    @abstractmethod
    def confo_close(self) -> None:
        """Close the connection and release its threads and sockets. Called once; never raises."""


REQUIRED_HOOKS: tuple[str, ...] = tuple(sorted(Backend.__abstractmethods__))
"""The hooks every backend implements (the abstract methods of :class:`Backend`)."""

HOOKS: frozenset[str] = frozenset(name for name in vars(Backend) if name.startswith("confo_"))
"""Every hook."""
