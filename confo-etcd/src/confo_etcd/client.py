"""The one module that knows the etcd client library (etcd-sdk-python, imported as ``pyetcd``).

The design card named ``etcd3``, which no longer imports with current protobuf and has been
unmaintained since 2020; ``etcd-sdk-python`` keeps its API and works with current grpcio and
protobuf. Swapping it means rewriting this module only: the backend speaks in :class:`Put`,
:class:`Get` and :class:`Delete` and gets Confo errors back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Literal, NamedTuple, TypeVar

import grpc
import pyetcd
from pyetcd import etcdrpc
from pyetcd import exceptions as etcd_errors
from pyetcd.client import Endpoint, EtcdTokenCallCredentials, MultiEndpointEtcd3Client
from pyetcd.etcdrpc import kv_pb2

from confo.errors import (
    BackendAuthenticationError,
    BackendUnavailableError,
    PermissionDeniedError,
)
from confo.model import WatchFeed
from confo_etcd.settings import EtcdSettings

T = TypeVar("T")
log = logging.getLogger(__name__)

# pyetcd shuns a failed endpoint for 300 s by default: after a short outage the backend would
# refuse to work for five minutes. Retry a failed endpoint after a second instead.
ENDPOINT_RETRY_SECONDS = 1.0
CONNECT_PAUSE_SECONDS = 0.1  # doubling to 1 s between rounds of connection attempts
GRPC_OPTIONS = [
    # gRPC's default 4 MB receive limit would fail on large namespaces; etcd bounds requests.
    ("grpc.max_receive_message_length", 512 * 1024 * 1024),
    # After a failure gRPC backs off before reconnecting, by default from 1 s up to 2 minutes:
    # a member that came back would be refused for that long.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


# Tuples rather than dataclasses: a persist makes one per configuration, and tuples of strings
# are cheaper to build and drop out of the garbage collector's sight.


class Put(NamedTuple):
    key: str
    value: bytes


class Get(NamedTuple):
    key: str
    range_end: str | None = None  # with it: every key in [key, range_end)
    limit: int = 0  # 0: all
    order: Literal["key", "newest", "oldest"] = "key"  # by key, or by mod_revision
    max_mod_revision: int = 0  # 0: any; else only keys last modified at or before it
    keys_only: bool = False  # values left out (empty)


class Count(NamedTuple):
    """How many keys there are in [key, range_end): its response is an int."""

    key: str
    range_end: str


class Delete(NamedTuple):
    key: str
    range_end: str | None = None


Operation = Put | Get | Count | Delete


class Expect(NamedTuple):
    """A transaction's condition: ``key`` was last modified at ``mod_revision``, or, with None,
    does not exist."""

    key: str
    mod_revision: int | None


class KeyValue(NamedTuple):
    key: str
    value: bytes
    mod_revision: int


TxnSpec = tuple[Sequence[Operation], Sequence[Expect], Sequence[Operation]]
"""A transaction: operations, the conditions for them, and the operations otherwise."""


class TxnResult(NamedTuple):
    succeeded: bool
    revision: int  # the store's revision after the transaction (its puts' mod_revision)
    responses: list[Any]  # a Get's response is a list of KeyValue


def prefix_end(prefix: str) -> str:
    """The end of the key range holding exactly the keys that start with ``prefix``."""
    end: str = pyetcd.utils.prefix_range_end(prefix.encode()).decode()
    return end


class EtcdClient:
    """A connection to an etcd cluster: ranges and transactions, with errors made Confo's."""

    def __init__(self, settings: EtcdSettings) -> None:
        self.settings = settings
        self._etcd = self._connect()
        self._resume = 0  # the revision a watch resumes from (0: from now)

    def _connect(self) -> MultiEndpointEtcd3Client:
        settings = self.settings
        secure = settings.ca_cert is not None
        channel_credentials = (
            MultiEndpointEtcd3Client.get_secure_creds(
                settings.ca_cert, settings.cert_key, settings.cert_cert
            )
            if secure
            else None
        )
        endpoints = self._endpoints = [
            Endpoint(
                host,
                port,
                secure=secure,
                creds=channel_credentials,
                time_retry=ENDPOINT_RETRY_SECONDS,
                opts=GRPC_OPTIONS,
            )
            for host, port in settings.endpoints
        ]
        etcd = MultiEndpointEtcd3Client(
            endpoints=endpoints, timeout=settings.connect_timeout, failover=True
        )
        deadline = time.monotonic() + settings.connect_timeout
        try:
            with self._errors("connect"):
                if settings.user is not None:
                    self._on_any_endpoint(lambda: self._authenticate(etcd), deadline)
                # One round trip proves the cluster answers (and the token works).
                self._on_any_endpoint(lambda: etcd.get("/confo"), deadline)
        except BaseException:
            etcd.close()
            raise
        etcd.timeout = settings.operation_timeout
        return etcd

    def _authenticate(self, etcd: MultiEndpointEtcd3Client) -> None:
        """Get a token, as pyetcd's constructor would, but through its endpoint failover."""
        request = etcdrpc.AuthenticateRequest(
            name=self.settings.user, password=self.settings.password
        )
        try:
            response = etcd.authstub.Authenticate(request, etcd.timeout)
        except grpc.RpcError as exc:
            etcd._manage_grpc_errors(exc)  # marks a dead endpoint failed, then raises
            raise
        etcd.metadata = (("token", response.token),)
        etcd.call_credentials = grpc.metadata_call_credentials(
            EtcdTokenCallCredentials(response.token)
        )

    def _on_any_endpoint(self, call: Callable[[], T], deadline: float | None = None) -> T:
        """pyetcd marks a dead endpoint failed but does not retry: try each endpoint once.

        When every endpoint is marked failed, the marks are stale hints (the cluster may be back):
        clear them and try again rather than fail without trying. With a ``deadline`` (while
        connecting), go on trying until then, pausing between rounds: a member starting up, or
        starved on a loaded machine, refuses a first connection it would take a moment later.
        """
        attempts = len(self.settings.endpoints) + 1  # one more, if the marks are cleared
        pause = CONNECT_PAUSE_SECONDS
        attempt = 0
        while True:
            try:
                return call()
            except (
                etcd_errors.NoServerAvailableError,
                etcd_errors.ConnectionFailedError,
                etcd_errors.ConnectionTimeoutError,
            ) as exc:
                # A failed call marked its endpoint: the next one goes to another. Only when
                # none is left are the marks cleared.
                if isinstance(exc, etcd_errors.NoServerAvailableError):
                    for endpoint in self._endpoints:
                        endpoint.last_failed = 0
                attempt += 1
                if attempt < attempts:
                    continue
                if deadline is None or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def keys(self, prefix: str, limit: int = 0) -> list[str]:
        """The keys that start with ``prefix`` (at most ``limit``, unless 0), without values."""
        with self._errors(f"list keys under {prefix!r}"):
            found = self._call(
                lambda: list(self._etcd.get_prefix(prefix, keys_only=True, limit=limit))
            )
            return [meta.key.decode() for _value, meta in found]

    def transaction(
        self,
        operations: Sequence[Operation],
        expect: Sequence[Expect] = (),
        otherwise: Sequence[Operation] = (),
    ) -> TxnResult:
        """Run ``operations`` as one transaction if every ``expect`` holds, else ``otherwise``."""
        (result,) = self.transactions([(operations, expect, otherwise)])
        return result

    def transactions(self, specs: Sequence[TxnSpec]) -> list[TxnResult]:
        """Independent transactions, sent at once (gRPC futures): a caller waits one round
        trip for all of them, not one each. Each is all or nothing; together they are not."""
        requests = [
            etcdrpc.TxnRequest(
                compare=[_compare(condition) for condition in expect],
                success=[_request(operation) for operation in operations],
                failure=[_request(operation) for operation in otherwise],
            )
            for operations, expect, otherwise in specs
        ]
        with self._errors("run a transaction"):
            responses = self._call(lambda: self._txns(requests))
        return [
            TxnResult(
                r.succeeded,
                r.header.revision,
                [
                    _response(response, operation)
                    for response, operation in zip(
                        r.responses, operations if r.succeeded else otherwise, strict=True
                    )
                ],
            )
            for r, (operations, _, otherwise) in zip(responses, specs, strict=True)
        ]

    def _txns(self, requests: list[Any]) -> list[Any]:
        etcd = self._etcd
        try:
            if len(requests) == 1:  # a future starts a gRPC thread per call: 20% of a persist
                response = etcd.kvstub.Txn(
                    requests[0],
                    etcd.timeout,
                    credentials=etcd.call_credentials,
                    metadata=etcd.metadata,
                )
                return [response]
            pending = [
                etcd.kvstub.Txn.future(
                    request,
                    etcd.timeout,
                    credentials=etcd.call_credentials,
                    metadata=etcd.metadata,
                )
                for request in requests
            ]
            return [future.result() for future in pending]
        except grpc.RpcError as exc:
            etcd._manage_grpc_errors(exc)  # marks a dead endpoint failed, raises pyetcd's error
            raise

    def watch(self, prefix: str, feed: WatchFeed, stopping: threading.Event) -> None:
        """Report to ``feed`` what changes under ``prefix`` (see :func:`_report`), until
        ``stopping``.

        Each stream resumes from the revision after the last response of the one before it
        (kept on this client), so a reconnect replays what it missed; one whose history was
        compacted away starts from now. Every stream, once created, asks for a resync: after a
        reconnect the watches must show they are current again, and a full read proves it.
        Progress requests every ``feed.heartbeat`` seconds are the heartbeat: every answer is
        a sign of life, and a stream that stays silent is cancelled.

        :raises BackendUnavailableError: the stream failed or went silent; call again to resume.
        """
        while not stopping.is_set():
            if not self._watch_stream(prefix, feed, stopping):
                return  # stopping
            log.info("etcd history under %r compacted; resynchronising", prefix)

    def _watch_stream(self, prefix: str, feed: WatchFeed, stopping: threading.Event) -> bool:
        """One watch stream; True if it ended because its history was compacted."""
        create = etcdrpc.WatchCreateRequest(
            key=prefix.encode(),
            range_end=prefix_end(prefix).encode(),
            start_revision=self._resume,
            progress_notify=True,
        )
        stream = _Stream(feed.heartbeat, stopping)
        etcd = self._etcd
        call = etcdrpc.WatchStub(etcd.channel).Watch(
            stream.requests(create), credentials=etcd.call_credentials, metadata=etcd.metadata
        )
        stream.made(call)
        try:
            for response in call:
                stream.heard()
                if response.compact_revision:  # the history to resume from is gone
                    self._resume = 0
                    return True
                if response.canceled:
                    raise BackendUnavailableError(
                        f"etcd at {self.settings.describe()} cancelled the watch: "
                        f"{response.cancel_reason or 'no reason given'}"
                    )
                _report(prefix, response, feed)
                self._resume = response.header.revision + 1  # per response, never per event
        except grpc.RpcError as exc:
            if stopping.is_set():
                return False
            if not stream.silent:
                self._renew_token_if_expired(exc)
                raise _translate(exc, "watch", self.settings.describe()) from None
        finally:
            stream.ended()
        if stopping.is_set():
            return False
        raise BackendUnavailableError(
            f"etcd at {self.settings.describe()} did not answer the watch's progress requests "
            "(a silent connection)"
            if stream.silent
            else f"etcd at {self.settings.describe()} ended the watch stream"
        )

    def _renew_token_if_expired(self, exc: Exception) -> None:
        if self.settings.user is None or not isinstance(exc, grpc.RpcError):
            return
        if "invalid auth token" in str(exc.details()):
            with suppress(Exception):
                self._on_any_endpoint(lambda: self._authenticate(self._etcd))

    def close(self) -> None:
        self._etcd.close()

    def _call(self, call: Callable[[], T]) -> T:
        """Run ``call`` on any live endpoint; authenticate again if the token expired (etcd's
        simple tokens expire after 5 idle minutes by default)."""
        try:
            return self._on_any_endpoint(call)
        except grpc.RpcError as exc:
            if self.settings.user is None or "invalid auth token" not in str(exc.details()):
                raise
        self._on_any_endpoint(lambda: self._authenticate(self._etcd))
        return self._on_any_endpoint(call)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        where = self.settings.describe()
        try:
            yield
        except grpc.RpcError as exc:
            raise _translate(exc, action, where) from None
        except (etcd_errors.Etcd3Exception, ValueError) as exc:
            # ValueError: pyetcd's "Trying to use a failed node" while every endpoint is down.
            raise _unavailable(action, where, type(exc).__name__) from None


class _Stream:
    """The request side of one watch stream: the create request, then a progress request every
    heartbeat until the stream ends, stops, or goes silent; then the stream is cancelled. The
    cancel also comes when the stop came before the stream existed (it once hung stop())."""

    def __init__(self, heartbeat: float, stopping: threading.Event) -> None:
        self.heartbeat = heartbeat
        self.stopping = stopping
        self.last_heard = time.monotonic()
        self.silent = False
        self._ended = threading.Event()
        self._call: Any = None
        self._lock = threading.Lock()

    def requests(self, create: Any) -> Iterator[Any]:
        yield etcdrpc.WatchRequest(create_request=create)
        beat = time.monotonic()
        while not self._ended.is_set() and not self.stopping.wait(0.1):
            now = time.monotonic()
            if now - self.last_heard > 3 * self.heartbeat + 1:
                self.silent = True
                break
            if now - beat >= self.heartbeat:
                beat = now
                yield etcdrpc.WatchRequest(progress_request=etcdrpc.WatchProgressRequest())
        self.ended()

    def made(self, call: Any) -> None:
        with self._lock:
            self._call = call
            done = self._ended.is_set()
        if done or self.stopping.is_set():
            call.cancel()

    def heard(self) -> None:
        self.last_heard = time.monotonic()

    def ended(self) -> None:
        with self._lock:
            self._ended.set()
            call = self._call
        if call is not None:
            call.cancel()


def _report(prefix: str, response: Any, feed: WatchFeed) -> None:
    """What one watch response says: the stream is in place (a resync), ``/confo/<ns>`` (a
    namespace made or deleted) or ``/confo/<ns>/<config>`` changed, or only that etcd is
    there (a progress notification)."""
    if response.created:
        feed.resync()
        return
    feed.alive()
    for event in response.events:
        namespace, _, config = event.kv.key.decode()[len(prefix) :].partition("/")
        if config:
            if "/" not in config:
                feed.changed(namespace, [config])
        elif event.type == kv_pb2.Event.DELETE:
            # The namespace's marker deleted: the namespace may be gone. Every persist puts
            # the marker again too; that changes no configuration, and is not a full read.
            feed.changed(namespace, None)


def _request(operation: Operation) -> Any:
    if isinstance(operation, Put):
        return etcdrpc.RequestOp(
            request_put=etcdrpc.PutRequest(key=operation.key.encode(), value=operation.value)
        )
    end = operation.range_end.encode() if operation.range_end is not None else b""
    if isinstance(operation, Count):
        return etcdrpc.RequestOp(
            request_range=etcdrpc.RangeRequest(
                key=operation.key.encode(), range_end=end, count_only=True
            )
        )
    if isinstance(operation, Get):
        ranges = etcdrpc.RangeRequest
        by_key = operation.order == "key"
        return etcdrpc.RequestOp(
            request_range=etcdrpc.RangeRequest(
                key=operation.key.encode(),
                range_end=end,
                limit=operation.limit,
                max_mod_revision=operation.max_mod_revision,
                keys_only=operation.keys_only,
                sort_order=_SORT_ORDER[operation.order],
                sort_target=ranges.KEY if by_key else ranges.MOD,
            )
        )
    return etcdrpc.RequestOp(
        request_delete_range=etcdrpc.DeleteRangeRequest(key=operation.key.encode(), range_end=end)
    )


_EQUAL = etcdrpc.Compare.EQUAL
_SORT_ORDER = {
    "key": etcdrpc.RangeRequest.NONE,
    "newest": etcdrpc.RangeRequest.DESCEND,
    "oldest": etcdrpc.RangeRequest.ASCEND,
}


def _compare(condition: Expect) -> Any:
    key = condition.key.encode()
    if condition.mod_revision is None:  # absent: never created, or deleted since
        return etcdrpc.Compare(result=_EQUAL, target=etcdrpc.Compare.CREATE, key=key)
    return etcdrpc.Compare(
        result=_EQUAL, target=etcdrpc.Compare.MOD, key=key, mod_revision=condition.mod_revision
    )


def _response(response: Any, operation: Operation) -> Any:
    if isinstance(operation, Count):
        return response.response_range.count
    if response.WhichOneof("response") == "response_range":
        return [
            KeyValue(kv.key.decode(), kv.value, kv.mod_revision)
            for kv in response.response_range.kvs
        ]
    return response


AUTH_DETAILS = ("authentication failed", "user name is empty")


def _translate(exc: grpc.RpcError, action: str, where: str) -> Exception:
    code, details = exc.code(), str(exc.details())
    if "user name is empty" in details:
        return BackendAuthenticationError(
            f"etcd at {where} requires authentication to {action}: give 'user' and 'password' "
            "in the credentials (etcd accepts them over TLS only: give 'ca_cert' too)."
        )
    if code == grpc.StatusCode.PERMISSION_DENIED or "permission denied" in details:
        return PermissionDeniedError(
            f"etcd at {where} does not let this user {action}: {details}. Grant one of the "
            "user's roles the permission it needs on Confo's keys (readwrite on the prefix "
            "/confo/ to write; read to read), or use a user that has it."
        )
    if code == grpc.StatusCode.UNAUTHENTICATED or (
        any(detail in details for detail in AUTH_DETAILS)
    ):
        return BackendAuthenticationError(
            f"etcd at {where} refused to {action}: {details}. Check user and password, and "
            "the user's roles."
        )
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return _unavailable(action, where, details)
    return BackendUnavailableError(f"etcd at {where} failed to {action}: {details}")


def _unavailable(action: str, where: str, reason: str) -> BackendUnavailableError:
    return BackendUnavailableError(
        f"Could not {action}: etcd at {where} did not answer ({reason}). Check that it is "
        "running, that host and port (or endpoints) are right, and that TLS settings match "
        "(ca_cert for an https endpoint)."
    )
