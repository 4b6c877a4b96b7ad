"""The ZooKeeper backend's schema documents: the znode ``/confo-schemas/<namespace>``.

Beside ``/confo``, never under it, as the history is. A write conditional on the document
(``Changes.check_schemas``) carries a guard in each of its multis: a ``check`` of the
document's version, or, where there must be none, a ``create`` and ``delete`` of it (the only
way a multi can require a znode to be absent). A schema change is itself one conditional
operation on the document.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

from confo.model import Changes, Revision
from confo.schemas import encode_document
from confo_zookeeper.transactions import Operation

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
    expected = changes.schemas_expected
    if expected is None:
        return [Operation("create", path(namespace)), Operation("delete", path(namespace))]
    return [Operation("check", path(namespace), version=_version(expected))]


def write(namespace: str, changes: Changes) -> list[Operation]:
    """The conditional write (or removal) of the document, if the change has one."""
    if changes.schemas is None:
        return []
    expected, where = changes.schemas_expected, path(namespace)
    if not changes.schemas:
        if expected is None:
            return []  # none to remove (the guard is then a create and delete)
        return [Operation("delete", where, version=_version(expected), config=NAME)]
    data = encode_document(changes.schemas)
    if expected is None:
        return [Operation("create", where, data, config=NAME)]
    return [Operation("set", where, data, version=_version(expected), config=NAME)]


def changed(version: int | None, changes: Changes) -> bool:
    """Whether the document (its version, None if absent) is not what the write expects."""
    return changes.check_schemas and version != changes.schemas_expected


def _version(revision: Revision) -> int:
    return revision if isinstance(revision, int) else -2  # not a version: can only conflict
