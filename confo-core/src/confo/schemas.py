"""Schemas: the JSON Schema (draft 2020-12) a configuration must match, kept in the store.

A namespace's schemas are one document in the store, beside the namespace and outside the seeds'
layout (each backend's page says where), read in the same round trip as the configurations, so
that every manager, the command line and the console check the same rule:

    {"confo_schemas": 1, "schemas": {"db": {"type": "object", ...}, ...}}

One document, not one per configuration: a write checks one revision however many
configurations it writes (``Changes.schemas_expected``), and setting a schema is a
conditional replace of it, retried on a conflict like ``update()``.

Validation is jsonschema-rs (Rust): about half a microsecond for a typical configuration, where
the reference implementation (jsonschema) takes about 70 and fastjsonschema 3 (and knows no draft
2020-12); see docs/schemas.md. A schema is compiled once and reused (:func:`validator`). A schema
never fetches anything: only references inside the schema itself (``#...``) are allowed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from confo.aliases import JSONObject
from confo.errors import CorruptDataError, InvalidSchemaError, SchemaError
from confo.values import checked_object, decode, encode

if TYPE_CHECKING:
    import jsonschema_rs

    from confo.model import Revision, Snapshot

FORMAT = 1
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_SCHEMA_BYTES = 256 * 1024
"""A schema larger than this, encoded, is refused: a configuration's rule, not a data set."""
MAX_SCHEMA_DEPTH = 32
"""Nesting deeper than this is refused (a schema built by mistake, or to exhaust a stack)."""
REFERENCES = ("$ref", "$dynamicRef")


def check_schema(schema: object, where: str) -> JSONObject:
    """``schema`` as a JSON Schema (draft 2020-12) this Confo enforces, or InvalidSchemaError
    naming ``where`` and what is wrong: not a JSON object, too large or deep, another dialect,
    a reference that would fetch from a network or a file, or not a valid schema."""
    if not isinstance(schema, dict):
        raise InvalidSchemaError(
            f"The schema of {where} must be a JSON object (a dict), not {type(schema).__name__}."
        )
    try:
        checked = checked_object(schema, f"the schema of {where}")
    except ValueError as exc:
        raise InvalidSchemaError(str(exc)) from None
    size = len(encode(checked))
    if size > MAX_SCHEMA_BYTES:
        raise InvalidSchemaError(
            f"The schema of {where} is {size:,} bytes; at most {MAX_SCHEMA_BYTES:,} are allowed. "
            "Move shared parts into $defs, or split the configuration."
        )
    dialect = checked.get("$schema", DIALECT)
    if not isinstance(dialect, str) or dialect.rstrip("#") != DIALECT:
        raise InvalidSchemaError(
            f"The schema of {where} declares $schema {dialect!r}; Confo enforces JSON Schema "
            f"draft 2020-12 ({DIALECT!r}). Drop $schema or use that one."
        )
    for path, node in _walk(checked, "", 0, where):
        for keyword in REFERENCES:
            target = node.get(keyword)
            if isinstance(target, str) and not target.startswith("#"):
                raise InvalidSchemaError(
                    f"The schema of {where} refers to {target!r} at {path}/{keyword}: "
                    "Confo never fetches a schema from a network or a file. Copy what it "
                    "refers to into $defs and refer to '#/$defs/...'."
                )
    _compile(checked, where)
    return checked


def _walk(node: Any, path: str, depth: int, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in ``node`` with its JSON pointer; InvalidSchemaError beyond the depth."""
    if depth > MAX_SCHEMA_DEPTH:
        raise InvalidSchemaError(
            f"The schema of {where} nests deeper than {MAX_SCHEMA_DEPTH} levels (at {path}). "
            "Flatten it with $defs and references."
        )
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{escape(key)}", depth + 1, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}", depth + 1, where)


def _compile(schema: JSONObject, where: str) -> jsonschema_rs.Validator:
    import jsonschema_rs  # noqa: PLC0415 (import confo stays cheap; this costs 40 ms)

    try:
        jsonschema_rs.meta.validate(schema)
        return jsonschema_rs.Draft202012Validator(schema, retriever=_no_fetch)
    except jsonschema_rs.ValidationError as exc:
        pointer = _pointer(exc.instance_path)
        problem = exc.message.splitlines()[0]
        raise InvalidSchemaError(
            f"The schema of {where} is not a valid JSON Schema (draft 2020-12): at "
            f"{pointer or '/'}: {problem}."
        ) from None


def _no_fetch(uri: str) -> Any:
    raise ValueError(f"Confo does not fetch {uri!r}")


@functools.lru_cache(maxsize=1024)
def _validator_for(encoded: str) -> jsonschema_rs.Validator:
    return _compile(decode(encoded, "a stored schema"), "this configuration")


def validator(schema: JSONObject) -> jsonschema_rs.Validator:
    """The compiled validator of ``schema``: compiled once per distinct schema, then reused."""
    return _validator_for(encode(schema).decode())


def problem(schema: JSONObject, values: JSONObject) -> tuple[str, str, str] | None:
    """Why ``values`` fails ``schema``: (JSON pointer, the rule's schema path, message); None
    if it matches."""
    return problem_with(validator(schema), values)


def problem_with(
    compiled: jsonschema_rs.Validator, values: JSONObject
) -> tuple[str, str, str] | None:
    """:func:`problem`, with the schema's compiled validator."""
    if compiled.is_valid(values):
        return None
    import jsonschema_rs  # noqa: PLC0415

    try:
        compiled.validate(values)
    except jsonschema_rs.ValidationError as exc:
        return _pointer(exc.instance_path), _pointer(exc.schema_path), exc.message.splitlines()[0]
    return None  # is_valid and validate disagree: take validate's word


def check(
    namespace: str,
    config: str,
    schema: JSONObject | None,
    values: JSONObject,
    detail: str = "",
) -> None:
    """Raise SchemaError if ``values`` fails ``schema`` (None: no schema, nothing to check);
    ``detail`` goes into its message, after "does not match its schema"."""
    if schema is not None:
        check_with(namespace, config, validator(schema), values, detail)


def check_with(
    namespace: str,
    config: str,
    compiled: jsonschema_rs.Validator,
    values: JSONObject,
    detail: str = "",
) -> None:
    """:func:`check`, with the schema's compiled validator."""
    found = problem_with(compiled, values)
    if found is not None:
        raise SchemaError(namespace, config, *found, detail=detail)


def error_text(
    namespace: str, config: str, compiled: jsonschema_rs.Validator, values: JSONObject
) -> str | None:
    """Why the stored ``values`` are kept out of the live view; None if they match."""
    found = problem_with(compiled, values)
    if found is None:
        return None
    path, rule, what = found
    return (
        f"Configuration {config!r} of namespace {namespace!r} in the store does not match its "
        f"schema: {path or '/'}: {what} (rule {rule or '/'}). It is kept out of the live view: "
        "write a valid value, or change the schema."
    )


class Rules:
    """The compiled validators of a namespace's schemas, compiled when first needed and kept
    while the schema document keeps its revision: a reload or a ``set()`` then costs a dict
    lookup and the check itself."""

    __slots__ = ("_compiled", "namespace", "passed", "revision", "schemas")

    def __init__(
        self, namespace: str, schemas: dict[str, JSONObject], revision: Revision | None
    ) -> None:
        self.namespace = namespace
        self.schemas = schemas
        self.revision = revision
        self._compiled: dict[str, jsonschema_rs.Validator] = {}
        # The revision of each configuration's stored value found valid under these rules: a
        # revision changes whenever the value does, so the same one need not be checked again.
        self.passed: dict[str, Revision] = {}

    def of(self, config: str) -> jsonschema_rs.Validator | None:
        """The validator of ``config``'s schema; None if it has none.

        :raises CorruptDataError: the stored schema does not compile (another tool wrote it).
        """
        compiled = self._compiled.get(config)
        if compiled is not None:
            return compiled
        schema = self.schemas.get(config)
        if schema is None:
            return None
        try:
            compiled = self._compiled[config] = validator(schema)
        except InvalidSchemaError as exc:
            raise CorruptDataError(
                f"The schema stored for configuration {config!r} of namespace "
                f"{self.namespace!r} is not one Confo can enforce ({exc}). Set a valid one "
                "with set_schema(), or remove it with set_schema(config, None)."
            ) from None
        return compiled

    def check(self, config: str, values: JSONObject, detail: str = "") -> None:
        """Raise SchemaError if ``values`` fails ``config``'s schema."""
        compiled = self.of(config)
        if compiled is not None:
            check_with(self.namespace, config, compiled, values, detail)

    def follow(self, snapshot: Snapshot) -> Rules:
        """These rules if ``snapshot`` holds the same schema document, else its own."""
        revision = snapshot.schemas_revision
        if revision is not None and revision == self.revision:
            return self
        if revision is None and not snapshot.schemas and not self.schemas:
            return self
        return Rules(self.namespace, snapshot.schemas, snapshot.schemas_revision)


def screen(rules: Rules, snapshot: Snapshot) -> None:
    """Move each value of ``snapshot`` that fails its schema (by ``rules``, which hold the
    same document) out of ``configs`` into ``rejected``, with the error (its revision stays
    in ``revisions``).

    :raises CorruptDataError: a stored schema does not compile (another tool wrote it).
    """
    passed = rules.passed
    for config in snapshot.schemas:
        values = snapshot.configs.get(config)
        if values is None:
            continue
        revision = snapshot.revisions[config]
        if passed.get(config) == revision:
            continue
        compiled = rules.of(config)
        text = None if compiled is None else error_text(rules.namespace, config, compiled, values)
        if text is None:
            passed[config] = revision
        else:
            del snapshot.configs[config]
            snapshot.rejected[config] = (values, revision, text)


def _pointer(parts: Any) -> str:
    return "".join(f"/{escape(str(part))}" for part in parts)


def escape(key: str) -> str:
    """``key`` as one step of a JSON pointer (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


# --- the stored document ----------------------------------------------------------------------


def encode_document(schemas: dict[str, JSONObject]) -> bytes:
    """The stored form of a namespace's schemas (see the module's docstring)."""
    return encode({"confo_schemas": FORMAT, "schemas": schemas})


def decode_document(data: bytes | str, where: str) -> dict[str, JSONObject]:
    """A namespace's schemas as stored; ``where`` names the key, znode or file in errors.

    The same bytes give the same dict, decoded once: every read brings the document along,
    and it rarely changes (the dict is never changed in place: a schema change builds a new
    one).

    :raises CorruptDataError: not a schema document of this Confo (damaged, foreign, newer).
    """
    return _decode_document(data.encode() if isinstance(data, str) else data, where)


@functools.lru_cache(maxsize=256)  # documents: a process rarely serves more namespaces
def _decode_document(data: bytes, where: str) -> dict[str, JSONObject]:
    raw = decode(data, where)
    version = raw.get("confo_schemas")
    schemas = raw.get("schemas")
    if version != FORMAT or not isinstance(schemas, dict):
        found = "no format version" if version is None else f"format version {version!r}"
        raise CorruptDataError(
            f"{where} is not a schema document this Confo can read ({found}; it reads version "
            f"{FORMAT} with an object 'schemas'). Restore it, or delete it with the store's own "
            "tool (the namespace then has no schemas) and set them again."
        )
    for config, schema in schemas.items():
        if not isinstance(schema, dict):
            raise CorruptDataError(
                f"{where} holds a schema for {config!r} that is not a JSON object. Restore it, "
                "or delete the document and set the schemas again."
            )
    return schemas
