"""How ``confo set`` reads VALUE: as JSON where it parses, else as a string; by the field's
schema where the configuration has one (a string field takes ``5432`` as the string "5432", a
boolean field refuses ``False`` with the fix)."""

from __future__ import annotations

import json
from typing import Any

from confo.values import JSONObject
from confo_cli import failures
from confo_cli.failures import Failure
from confo_cli.output import warn

# Words Python or YAML read as booleans or null, which JSON spells otherwise. Stored as a
# string, "False" is truthy: the opposite of what whoever typed it most likely meant.
LOOKALIKES = {
    **dict.fromkeys(["true", "yes", "on"], "true"),
    **dict.fromkeys(["false", "no", "off"], "false"),
    **dict.fromkeys(["null", "none", "~"], "null"),
}


def parse(text: str) -> Any:
    """VALUE as JSON if it parses, else the text itself.

    :raises Failure: (USAGE) text that opens a JSON object or array and does not parse: a
        typo, whose text stored as a string would break every reader of the field.
    """
    try:
        return json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        if text.lstrip()[:1] in ("{", "["):
            raise Failure(
                f"VALUE {text!r} looks like JSON but is not ({exc.msg} at column {exc.colno}). "
                'Fix it (JSON wants double quotes: {"a": 1}), or pass --string to store the '
                "text as it is. Nothing was written."
            ) from None
        return text
    except ValueError:
        return text


def _not_json(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON: keep such a VALUE as a string


def warn_if_misread(what: str, text: str, parsed: Any) -> None:
    meant = LOOKALIKES.get(text.strip().lower()) if isinstance(parsed, str) else None
    if meant is not None:  # not JSON (true is, True is not), so stored as a string
        warn(
            f"stored {what} as the string {text!r}, not as JSON {meant}: write {meant} for "
            "that, or pass --string to keep the string without this warning."
        )


def by_schema(text: str, schema: JSONObject, field: str, what: str) -> Any:
    """VALUE read for ``field`` as the configuration's ``schema`` types it.

    :raises Failure: (INVALID) a boolean or null field given a word JSON does not spell so.
    """
    types = field_types(schema, field)
    try:
        parsed = parse(text)
    except Failure:
        if types is not None and "string" in types:
            return text  # '{{ host }}' for a string field: the text, as the schema says
        raise
    if types is None or json_type(parsed) & types:
        return parsed
    meant = LOOKALIKES.get(text.strip().lower())
    if meant is not None and json_type(json.loads(meant)) & types:
        raise Failure(
            f"Refused: {what} is a {' or '.join(sorted(types))} by its schema, and {text!r} is "
            f"not JSON for one: write {meant}. Nothing was written.",
            failures.INVALID,
        )
    if "string" in types:
        return text  # 5432 for a string field: the string "5432"
    return parsed  # the schema check says what is wrong with it


def field_types(schema: JSONObject, field: str) -> set[str] | None:
    """The JSON types the schema allows for top-level ``field``; None if it does not say."""
    properties = schema.get("properties")
    rule = properties.get(field) if isinstance(properties, dict) else None
    if isinstance(rule, dict) and isinstance(rule.get("$ref"), str):
        rule = _local(schema, rule["$ref"])
    if not isinstance(rule, dict):
        return None
    declared = rule.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return set(declared)
    for listed in (rule.get("enum"), [rule["const"]] if "const" in rule else None):
        if isinstance(listed, list) and listed:
            return set().union(*(json_type(value) for value in listed))
    return None


def json_type(value: Any) -> set[str]:
    """The JSON Schema types ``value`` is (an integral number is both integer and number)."""
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"integer", "number"} if value.is_integer() else {"number"}
    names = {str: "string", list: "array", dict: "object", type(None): "null"}
    return {names[type(value)]} if type(value) in names else set()


def _local(schema: JSONObject, reference: str) -> Any:
    """What a local reference (``#/$defs/port``) points at in ``schema``; None otherwise."""
    if not reference.startswith("#/"):
        return None
    node: Any = schema
    for part in reference[2:].split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        node = node.get(key) if isinstance(node, dict) else None
    return node
