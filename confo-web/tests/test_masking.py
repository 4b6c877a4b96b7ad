"""What the console masks and restores, function by function: schemas whose values may be a
secret's, and lists whose items move between the page and the save."""

from __future__ import annotations

import json

import pytest
from confo_web.masking import (
    MASK,
    MaskError,
    masked,
    masked_schema,
    redacted,
    schema_secrets,
    unmasked,
    unmasked_schema,
)

S = "canary-s3cret"


def test_a_definition_a_secret_property_refers_to_is_masked_and_kept() -> None:
    schema = {
        "properties": {
            "db_password": {"$ref": "#/$defs/strong"},
            "region": {"$ref": "#/definitions/region"},
            "api_key": {"type": "string", "example": S},
        },
        "$defs": {"strong": {"allOf": [{"$ref": "#/$defs/exact"}]}, "exact": {"const": S}},
        "definitions": {"region": {"enum": ["eu", "us"]}},
    }
    shown = masked_schema(schema)
    assert S not in json.dumps(shown)
    assert shown["definitions"]["region"]["enum"] == ["eu", "us"]  # no secret refers to it
    assert shown["properties"]["api_key"]["type"] == "string"
    assert unmasked_schema(shown, schema) == schema
    assert sorted(map(str, schema_secrets(schema))) == [S, S]


def test_a_deleted_alternative_whose_twin_looks_alike_is_refused_not_guessed() -> None:
    schema = {"properties": {"token": {"anyOf": [{"const": "OLD-A"}, {"const": "OLD-B"}]}}}
    shown = masked_schema(schema)
    shown["properties"]["token"]["anyOf"].pop(0)
    with pytest.raises(MaskError):
        unmasked_schema(shown, schema)


def test_items_reordered_keep_their_own_secrets() -> None:
    users = {"users": [{"name": "a", "password": "PA"}, {"name": "b", "password": "PB"}]}
    shown = masked(users)
    shown["users"].reverse()
    assert unmasked(shown, users) == {"users": list(reversed(users["users"]))}
    schema = {"properties": {"users": {"default": users["users"]}}}
    page = masked_schema(schema)
    page["properties"]["users"]["default"].reverse()
    restored = unmasked_schema(page, schema)
    assert restored["properties"]["users"]["default"] == list(reversed(users["users"]))


def test_an_item_edited_in_place_keeps_its_secret_and_one_moved_and_edited_is_refused() -> None:
    users = {"users": [{"name": "a", "password": "PA"}, {"name": "b", "password": "PB"}]}
    shown = masked(users)
    shown["users"][1]["name"] = "b2"
    assert unmasked(shown, users)["users"][1] == {"name": "b2", "password": "PB"}
    shown = masked(users)
    shown["users"] = [{**shown["users"][1], "name": "b2"}]  # moved, edited, the other gone
    with pytest.raises(MaskError):
        unmasked(shown, users)


def test_a_schema_error_quoting_a_hidden_value_is_redacted() -> None:
    schema = {"properties": {"password": {"enum": [S, "other"]}}}
    message = f"'typo' is not one of ['{S}', 'other']"
    assert S not in redacted(message, secrets=schema_secrets(schema))
    assert MASK in redacted(message, secrets=schema_secrets(schema))
