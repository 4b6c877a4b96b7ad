"""The etcd backend, in the original Confo's layout.

    /confo/<namespace>            marks a namespace (an empty value)
    /confo/<namespace>/<config>   a configuration's JSON

A namespace that has configurations but no marker (keys put with ``etcdctl``) exists too.
Reading a namespace is one transaction of two range reads (the marker and the configurations, at
one revision); listing namespaces reads keys only. A persist is one transaction while it fits
etcd's limits (128 operations and 1.5 MiB by default); a larger one is split, in order, into
transactions that do (see docs/backends/etcd.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confo import hookimpl
from confo.batching import apply_in_order, split
from confo.errors import BackendUnavailableError, NamespaceNotFoundError
from confo.model import Changes, Snapshot
from confo.names import is_valid
from confo.values import decode, encode
from confo_etcd.client import Delete, EtcdClient, Get, Operation, Put, prefix_end
from confo_etcd.settings import EtcdSettings

ROOT = "/confo"
KEY_OVERHEAD = 32  # bytes of framing per operation in a transaction request, generously


class EtcdBackend:
    """Configurations as etcd keys under ``/confo``."""

    def __init__(self) -> None:
        self.client: EtcdClient | None = None
        self.settings: EtcdSettings | None = None

    def __repr__(self) -> str:
        where = self.settings.describe() if self.settings else "not connected"
        user = self.settings.user if self.settings else None
        return f"<EtcdBackend {where} user={user!r}>"

    @hookimpl
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        self.settings = EtcdSettings.from_credentials(credentials, timeout)
        self.client = EtcdClient(self.settings)

    @hookimpl
    def confo_list_namespaces(self) -> list[str]:
        names = {key[len(ROOT) + 1 :].split("/", 1)[0] for key in self._etcd().keys(f"{ROOT}/")}
        return sorted(name for name in names if is_valid(name))

    @hookimpl
    def confo_create_namespace(self, namespace: str) -> None:
        self._etcd().transaction([Put(_key(namespace), b"")])

    @hookimpl
    def confo_delete_namespace(self, namespace: str) -> None:
        prefix = _key(namespace) + "/"
        marker, configs = self._etcd().transaction(
            [Delete(_key(namespace)), Delete(prefix, prefix_end(prefix))]
        )
        if marker.response_delete_range.deleted + configs.response_delete_range.deleted == 0:
            raise NamespaceNotFoundError(f"Namespace {namespace!r} does not exist in etcd.")

    @hookimpl
    def confo_read(self, namespace: str) -> Snapshot:
        prefix = _key(namespace) + "/"
        marker, items = self._etcd().transaction(
            [Get(_key(namespace)), Get(prefix, prefix_end(prefix))]
        )
        if not marker and not items:
            raise NamespaceNotFoundError(
                f"Namespace {namespace!r} does not exist in etcd (no key {_key(namespace)!r}). "
                f"Create it with create_namespace({namespace!r})."
            )
        start = len(prefix)
        return Snapshot(
            {
                key[start:]: decode(value, f"etcd key {key!r}")
                for key, value in items
                # A deeper key (a/b) or a bare prefix was put by another tool: not a configuration.
                if "/" not in key[start:] and len(key) > start
            }
        )

    @hookimpl
    def confo_write(self, namespace: str, changes: Changes) -> None:
        operations: list[Operation] = [Put(_key(namespace), b"")]
        operations += [Put(_key(namespace, n), encode(c)) for n, c in changes.put.items()]
        operations += [Delete(_key(namespace, name)) for name in changes.delete]
        settings, client = self._settings(), self._etcd()
        groups = split(
            operations,
            _size,
            settings.max_request_bytes,
            settings.max_txn_ops,
            name=lambda op: f"etcd key {op.key!r}",
        )
        apply_in_order(groups, client.transaction, "etcd")

    @hookimpl
    def confo_close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _etcd(self) -> EtcdClient:
        if self.client is None:
            raise BackendUnavailableError("This etcd backend is closed; load it again.")
        return self.client

    def _settings(self) -> EtcdSettings:
        assert self.settings is not None
        return self.settings


def _key(namespace: str, config: str | None = None) -> str:
    return f"{ROOT}/{namespace}" if config is None else f"{ROOT}/{namespace}/{config}"


def _size(operation: Operation) -> int:
    value = operation.value if isinstance(operation, Put) else b""
    return len(operation.key.encode()) + len(value) + KEY_OVERHEAD
