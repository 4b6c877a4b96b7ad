"""The price of safe change: schemas, measured against the same work without them.

- ``reload()`` of a namespace of 1,000 configurations, each with a schema, against the same
  reload of one without (the schema document is read in the same round trip, every value
  checked);
- ``set()`` of one field with a schema against ``set()`` without (memory only: the check is
  all the difference);
- one check of one configuration by each validator measured before choosing (jsonschema-rs,
  fastjsonschema, jsonschema), where installed (``make bench`` installs them).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from harness import Contender, compare

from confo import Changes, Namespace
from confo.testing import connected

SIZE = 1_000
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "pool": {"type": "integer", "minimum": 1},
        "version": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["host", "port"],
    "additionalProperties": False,
}


def _config(i: int) -> dict[str, Any]:
    return {
        "host": f"db{i}.internal",
        "port": 5432 + i % 100,
        "pool": 10,
        "version": 0,
        "tags": ["a", "b"],
    }


def _filled(manager: Any, ns: str, n: int, *, ruled: bool) -> Namespace:
    manager.create_namespace(ns)
    handle: Namespace = manager.namespace(ns)
    for i in range(n):
        handle.set(f"c{i:05d}", _config(i))
    handle.persist()
    if ruled:
        handle.set_schema("c00000", SCHEMA)  # the public way, then the rest in one write:
        # set_schema rewrites the namespace's whole document, so a thousand calls would write
        # half a gigabyte (more than the test ZooKeeper's heap keeps in its commit log).
        document = {f"c{i:05d}": {**SCHEMA, "title": f"c{i:05d}"} for i in range(n)}
        store = manager._active_session().store
        revision = store.read(ns, []).schemas_revision
        store.write(ns, Changes(schemas=document, check_schemas=True, schemas_expected=revision))
        handle.reload()
    return handle


def run(name: str, credentials: dict[str, Any], *, smoke: bool) -> dict[str, Any]:
    n = 5 if smoke else SIZE
    manager = connected(name, credentials)
    ruled = _filled(manager, "schema_ruled", n, ruled=True)
    plain = _filled(manager, "schema_plain", n, ruled=False)
    reload = compare([Contender("with schemas", ruled.reload), Contender("without", plain.reload)])
    counter = iter(range(10**9))
    set_one = compare(
        [
            Contender("with schemas", lambda: ruled.set("c00000", "port", 1 + next(counter) % 9)),
            Contender("without", lambda: plain.set("c00000", "port", 1 + next(counter) % 9)),
        ]
    )
    manager.close()
    return {"n": n, "reload": reload, "set": set_one}


def validators() -> dict[str, float]:
    """Seconds per check of one configuration, by each validator that is installed."""
    instance = _config(7)
    checks = {}
    import jsonschema_rs

    compiled = jsonschema_rs.Draft202012Validator(SCHEMA)
    checks["jsonschema-rs"] = lambda: compiled.is_valid(instance)
    if importlib.util.find_spec("fastjsonschema"):
        import fastjsonschema

        fast = fastjsonschema.compile(SCHEMA)  # drafts 4-7: this schema means the same there
        checks["fastjsonschema"] = lambda: fast(instance)
    if importlib.util.find_spec("jsonschema"):
        import jsonschema

        reference = jsonschema.Draft202012Validator(SCHEMA)
        checks["jsonschema"] = lambda: reference.is_valid(instance)
    return compare([Contender(label, check) for label, check in checks.items()])
