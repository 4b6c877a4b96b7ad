"""The records exchanged between the manager and backend plugins.

They are dataclasses rather than bare dicts so that fields can be added without breaking a
backend: a field added later always has a default.

Revisions make persist conflict-safe. A revision is an opaque token a backend hands out with each
configuration it reads or writes (etcd's mod_revision, a znode's version, a digest of what Redis
holds, a file's identity). The core only stores revisions and gives them back, compared for
equality; only the backend knows what one means. Its one promise: if the stored configuration
changed, its revision changed too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from confo.aliases import JSONObject, Revision

if TYPE_CHECKING:
    from confo.history import RecordDraft

__all__ = [
    "Capabilities",
    "Changes",
    "JSONObject",
    "Revision",
    "Snapshot",
    "WatchFeed",
    "WriteResult",
]


@dataclass
class Snapshot:
    """What a namespace (or some of its configurations) holds in the store at one moment.

    ``configs`` maps each configuration name to its JSON object; ``revisions`` maps the same names
    to the revision each was read at. The manager takes ownership of the dicts: a backend must not
    keep references to them.
    """

    configs: dict[str, JSONObject] = field(default_factory=dict)
    revisions: dict[str, Revision] = field(default_factory=dict)
    # The namespace's schemas (Capabilities.schemas), read at the same moment: each
    # configuration's JSON Schema by name, and the schema document's revision (None: none
    # stored). Read with every read, ``names`` or not: a write is checked against them.
    schemas: dict[str, JSONObject] = field(default_factory=dict)
    schemas_revision: Revision | None = None
    # Filled by the manager, never by a backend: stored values that fail their schema, kept out
    # of ``configs``: name -> (value, revision, error message).
    rejected: dict[str, tuple[JSONObject, Revision, str]] = field(default_factory=dict)


@dataclass
class Changes:
    """What one ``persist`` writes to one namespace.

    ``put`` maps configuration names to their whole new JSON object; ``delete`` names the
    configurations to remove. A name is never in both.

    ``expected`` gives, for every name in ``put`` and ``delete``, the revision the store must still
    hold for the write to go ahead, or None where the configuration must not exist yet. Unless
    ``force`` is set, a backend that finds any other revision writes nothing of this namespace and
    raises :class:`~confo.errors.ConflictError` naming every such configuration. ``expected``
    may also name a configuration in neither ``put`` nor ``delete``: the write is conditional
    on it too, and leaves it as it is (``set_schema`` depends so on the value it checked). With
    ``force`` the write is unconditional (last writer wins), and deleting a missing name is not
    an error.

    ``schemas`` (None: unchanged) is the namespace's whole new schema document to store
    (``{}``: remove it). With ``check_schemas``, the write is also conditional on the document
    still having revision ``schemas_expected`` (None: there must be none), in every transaction
    of a split write, force or not; otherwise the backend raises
    ``ConflictError(..., schemas=True)`` and writes nothing of that transaction.

    ``record`` (None: the namespace keeps no history) is the change record to append to the
    namespace's history in the same transaction as the change: its stored form is
    ``record.encode()``; a write split into several transactions writes ``record.part(names)``
    with each, and prunes the oldest records beyond ``record.keep`` (see ``confo_history``).
    """

    put: dict[str, JSONObject] = field(default_factory=dict)
    delete: set[str] = field(default_factory=set)
    expected: dict[str, Revision | None] = field(default_factory=dict)
    force: bool = False
    record: RecordDraft | None = None
    schemas: dict[str, JSONObject] | None = None
    check_schemas: bool = False
    schemas_expected: Revision | None = None

    def __bool__(self) -> bool:
        return bool(self.put or self.delete or self.schemas is not None)

    def expects(self, name: str) -> Revision | None:
        """The revision ``name`` must have in the store; None: it must not exist."""
        return self.expected.get(name)

    def checked(self) -> list[str]:
        """Every name whose revision the write depends on: those put, deleted and only
        checked (in ``expected`` alone), in that order."""
        return list(dict.fromkeys([*self.put, *self.delete, *self.expected]))

    def only_checked(self) -> list[str]:
        """The names in ``expected`` that the write neither puts nor deletes."""
        return [name for name in self.expected if name not in self.put and name not in self.delete]


@dataclass
class WriteResult:
    """What a write left in the store: the new revision of every configuration it put, and the
    ids of the change records it appended (one per transaction; none without ``record``), and
    the new revision of the schema document where ``Changes.schemas`` stored one."""

    revisions: dict[str, Revision] = field(default_factory=dict)
    records: list[str] = field(default_factory=list)
    schemas_revision: Revision | None = None  # the schema document's, if the write stored it


WatchGuarantee = Literal["none", "latest", "every"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can promise (``confo_capabilities``); fields are added with defaults.

    ``watch``: ``"none"`` (no ``confo_watch``), ``"latest"`` (every change reaches the watch,
    but values between two reads may collapse into the latest), or ``"every"`` (every stored
    revision is delivered). ``max_transaction_ops`` and ``max_transaction_bytes``: beyond these
    a persist is split into several transactions (None: no limit, or not transactional).

    Names: every backend takes names of up to 200 characters (:mod:`confo.names`).
    ``max_name_bytes`` lowers that to so many bytes of UTF-8 (a file name's 255 bytes), and
    ``names_outside_bmp`` says whether characters beyond U+FFFF (emoji) may be used. Their
    ``confo_check_name`` refuses what these exclude; the conformance suite checks both ways.

    ``history``: the backend writes ``Changes.record`` with each change and implements
    ``confo_history`` (the conformance suite's history tests run for it).

    ``schemas``: the backend keeps each namespace's schema document (``Snapshot.schemas``,
    ``Changes.schemas`` and ``check_schemas``; the suite's schema tests run for it).

    ``watch_scope``: ``"store"`` (the listener's subscription covers every namespace once it is
    in place) or ``"namespace"`` (it subscribes to each watched namespace on its own, as a
    Redis pattern per namespace, and calls ``WatchFeed.placed`` once each is in place): a
    watch of a namespace is then healthy only once its subscription is.
    """

    watch: WatchGuarantee = "none"
    max_transaction_ops: int | None = None
    max_transaction_bytes: int | None = None
    max_name_bytes: int | None = None
    names_outside_bmp: bool = True
    history: bool = False
    schemas: bool = False
    watch_scope: Literal["store", "namespace"] = "store"


class WatchFeed(Protocol):
    """What a backend's ``confo_watch`` reports to: the one listener of a loaded backend.

    The listener serves every watched namespace of the backend at once, on one connection of its
    own; Confo reads what it is told may have changed, compares revisions, and keeps the health
    of every watch (``Watch.healthy``) from what it is told here. Every method is thread-safe and
    quick: call it from a client library's callback thread as well.
    """

    heartbeat: float
    """Seconds: prove the store is alive (``alive()``) at least this often while connected.
    A listener that says nothing for a few heartbeats is taken to be cut off or frozen."""

    def namespaces(self) -> frozenset[str]:
        """The namespaces watched now. The set changes while the watch runs: look again at least
        every half second where the store needs a subscription per namespace."""
        ...

    def changed(self, namespace: str, names: Collection[str] | None) -> None:
        """These configurations of ``namespace`` may have changed (put or deleted); None: any
        of them may have (the namespace itself was made or deleted, or a subscription to it
        was just put in place). Names of namespaces not watched are ignored, so a backend that
        watches its whole root may report everything it sees."""
        ...

    def resync(self) -> None:
        """The listener is in place (first, or after a gap it cannot replay: a reconnect, a
        session expiry, a compacted history): Confo reads every watched namespace whole, and the
        watches are healthy again once that is done."""
        ...

    def alive(self) -> None:
        """The store just showed a sign of life on the listener's connection (a heartbeat's
        answer, a message)."""
        ...

    def placed(self, namespace: str) -> None:
        """With ``Capabilities(watch_scope="namespace")``: the subscription to ``namespace``
        is in place (first, or again after the connection was lost), so changes to it reach
        the listener from now on; Confo then reads the namespace whole. Saying it again is
        harmless. A subscription put back without the listener losing the store (a client
        library resubscribing by itself) is no new placement: call ``changed(namespace,
        None)`` for what it may have missed."""
        ...

    def lost(self, reason: str) -> None:
        """The listener lost the store (say why, never a password): its watches turn unhealthy
        at once and one warning is logged per outage. Raising from ``confo_watch`` does the same;
        this is for client libraries that reconnect by themselves."""
        ...
