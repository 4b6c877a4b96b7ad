"""The ZooKeeper backend's schema documents: the znode ``/confo-schemas/<namespace>``.

Beside ``/confo``, never under it, as the history is. A write conditional on the document
(``Changes.check_schemas``) carries a guard in each of its multis
(:func:`~confo_zookeeper.transactions.expectation`). A schema change is itself one
conditional operation on the document, which is deleted only with its namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

from confo.model import Changes
from confo.schemas import encode_document
from confo_zookeeper.transactions import Operation, expectation, version_of

ROOT = "/confo-schemas"
NAME = ""  # the document among a write's names: no configuration is named so


def path(namespace: str) -> str:
    return f"{ROOT}/{namespace}"


def ensure_root(client: KazooClient, wait: Callable[[Any], Any]) -> None:
    """Create ``/confo-schemas`` if missing: a guard's ``create`` needs its parent."""
    with suppress(NodeExistsError):
        wait(client.create_async(ROOT))


def guard(namespace: str, changes: Changes) -> list[Operation]:
    """The operations that fail a multi unless the document has the expected version."""
    if not changes.check_schemas or changes.schemas is not None:
        return []  # unchecked, or the write of the document itself checks it
    return expectation(path(namespace), changes.schemas_expected)


def write(namespace: str, changes: Changes) -> list[Operation]:
    """The conditional write of the document, if the change has one. Removing the last
    schema leaves an empty document rather than deleting the znode: one made again would start
    at version 0, a version a manager may still hold from the old one."""
    if changes.schemas is None:
        return []
    expected, where = changes.schemas_expected, path(namespace)
    data = encode_document(changes.schemas)
    if expected is None:
        return [Operation("create", where, data, config=NAME)]
    return [Operation("set", where, data, version=version_of(expected), config=NAME)]


def changed(version: int | None, changes: Changes) -> bool:
    """Whether the document (its version, None if absent) is not what the write expects."""
    return changes.check_schemas and version != changes.schemas_expected
