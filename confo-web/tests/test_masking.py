"""What the console masks and restores, function by function: schemas whose values may be a
secret's, and lists whose items move between the page and the save."""

from __future__ import annotations

import json
from typing import Any

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


@pytest.mark.parametrize(
    ("ref", "elsewhere"),
    [
        ("#/$defs/C/properties/v", {"$defs": {"C": {"properties": {"v": {"const": S}}}}}),
        ("#/$defs/DB%20Pass", {"$defs": {"DB Pass": {"enum": [S, "b"]}}}),
        ("#/$defs/a~1b~0c", {"$defs": {"a/b~c": {"default": S}}}),
        ("#/properties/other", {"properties": {"other": {"const": S}}}),
        ("#/properties/x/$defs/in", {"properties": {"x": {"$defs": {"in": {"const": S}}}}}),
        ("#pass", {"$defs": {"p": {"$anchor": "pass", "examples": [S]}}}),
        (
            "#/$defs/DB",
            {"$defs": {"DB": {"allOf": [{"$ref": "#/$defs/in"}]}, "in": {"const": S}}},
        ),
    ],
    ids=["deep-pointer", "percent", "tilde", "a-property", "nested-defs", "anchor", "chain"],
)
def test_whatever_a_secret_refers_to_is_masked(ref: str, elsewhere: dict[str, Any]) -> None:
    schema: dict[str, Any] = {"properties": {"password": {"$ref": ref}}}
    for key, value in elsewhere.items():
        schema.setdefault(key, {}).update(value)
    shown = masked_schema(schema)
    assert S not in json.dumps(shown)
    assert unmasked_schema(shown, schema) == schema


def test_a_secret_property_inside_a_definition_masks_what_it_refers_to() -> None:
    schema = {
        "properties": {"db": {"$ref": "#/$defs/DB"}},
        "$defs": {"DB": {"properties": {"password": {"$ref": "#/$defs/Pw"}}}, "Pw": {"const": S}},
    }
    assert S not in json.dumps(masked_schema(schema))


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


ALICE, BOB = {"name": "alice", "password": "PA"}, {"name": "bob", "password": "PB"}


@pytest.mark.parametrize(
    "edit",
    [
        # alice deleted, carol added as a copy of bob's row: carol's place was bob's before
        lambda a, b: [b, {**b, "name": "carol"}],
        # swapped, and alice renamed: the renamed row now sits where bob's was
        lambda a, b: [b, {**a, "name": "alicia"}],
        # alice deleted, bob renamed, carol added: every place changed hands
        lambda a, b: [{**b, "name": "robert"}, {**a, "name": "carol"}],
        # two rows edited at once: the edit of one cannot prove the other stayed
        lambda a, b: [{**a, "name": "alicia"}, {**b, "name": "robert"}],
    ],
    ids=["deleted-and-copied", "swapped-and-renamed", "all-replaced", "two-edited"],
)
def test_a_mask_in_an_edited_item_of_a_changed_list_is_refused_never_given_another_s(
    edit: Any,
) -> None:
    users = {"users": [ALICE, BOB]}
    a, b = masked(users)["users"]
    with pytest.raises(MaskError, match=r"users\.1\.password|users\.0\.password"):
        unmasked({"users": edit(a, b)}, users)


def test_a_row_moved_untouched_beside_an_added_one_keeps_its_secret() -> None:
    users = {"users": [ALICE, BOB]}
    _, b = masked(users)["users"]
    assert unmasked({"users": [b, {"name": "carol", "password": "PC"}]}, users) == {
        "users": [BOB, {"name": "carol", "password": "PC"}]
    }


def test_the_password_of_a_url_is_masked_in_a_field_of_any_name() -> None:
    config = {
        "DATABASE_URL": f"postgres://app:{S}@db.internal:5432/shop",
        "replicas": [f"redis://:{S}@r1:6379/0", "redis://r2:6379/0"],
        "note": "see https://wiki.internal/db (no password here)",
    }
    shown = masked(config)
    assert S not in json.dumps(shown)
    assert shown["DATABASE_URL"] == f"postgres://app:{MASK}@db.internal:5432/shop"
    assert shown["replicas"][1] == "redis://r2:6379/0"
    assert shown["note"] == config["note"]
    assert unmasked(shown, config) == config  # left as shown: kept
    assert S not in redacted(f"bad value {config['DATABASE_URL']!r}", config)
    moved = {**shown, "DATABASE_URL": shown["DATABASE_URL"].replace("db.internal", "db2")}
    with pytest.raises(MaskError, match="DATABASE_URL"):
        unmasked(moved, config)  # edited around the mask: the whole URL must be typed
    edited = {**shown, "DATABASE_URL": "postgres://app:new-pw@db2:5432/shop"}
    assert unmasked(edited, config)["DATABASE_URL"] == "postgres://app:new-pw@db2:5432/shop"


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://u:{S}@x@db/x",  # an "@" in the password: the URL's last one ends it
        f"postgresql://u:ab/{S}@h/db",  # a "/" in it
        f"x_redis://u:{S}@h:6379",  # a scheme after an underscore
        f"redis://:{S}@[::1]:6379/0",
    ],
)
def test_a_url_password_holding_url_characters_is_masked_whole(url: str) -> None:
    shown = masked({"endpoint": url})
    assert S not in json.dumps(shown)
    assert unmasked(shown, {"endpoint": url}) == {"endpoint": url}
    assert S not in redacted(f"refused {url}", {"endpoint": url})


def test_an_item_edited_while_another_is_added_is_refused_not_a_crash() -> None:
    items = {"items": [{"password": "PX", "host": "a"}]}
    (shown,) = masked(items)["items"]
    with pytest.raises(MaskError):
        unmasked({"items": [{**shown, "host": "b"}, {"host": "c"}]}, items)


def test_an_item_edited_into_its_twin_gets_no_secret_of_the_twin() -> None:
    items = {"items": [{"pw": "A", "h": "a"}, {"pw": "B", "h": "b"}]}
    a, b = masked(items)["items"]
    with pytest.raises(MaskError):
        unmasked({"items": [{**a, "h": "b"}, b]}, items)


def test_a_schema_error_quoting_a_hidden_value_is_redacted() -> None:
    schema = {"properties": {"password": {"enum": [S, "other"]}}}
    message = f"'typo' is not one of ['{S}', 'other']"
    assert S not in redacted(message, secrets=schema_secrets(schema))
    assert MASK in redacted(message, secrets=schema_secrets(schema))
