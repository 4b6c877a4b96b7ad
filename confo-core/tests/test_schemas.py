"""Schemas without a server: what a schema may be, validation and its errors, the stored
document, and a backend that keeps none (the conformance suite tests them on every store)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from confo import hookimpl
from confo.errors import (
    ConflictError,
    CorruptDataError,
    InvalidSchemaError,
    SchemaError,
    SchemaUnavailableError,
)
from confo.manager import Confo
from confo.model import Capabilities
from confo.schemas import (
    check,
    check_schema,
    decode_document,
    encode_document,
    problem,
    validator,
)

PORT = {"type": "object", "properties": {"port": {"type": "integer"}}}


def test_a_local_reference_is_allowed_and_a_remote_one_refused() -> None:
    local = {"$defs": {"port": {"type": "integer"}}, "properties": {"p": {"$ref": "#/$defs/port"}}}
    assert check_schema(local, "x") == local
    assert problem(local, {"p": "no"}) == (
        "/p",
        "/$defs/port/type",
        '"no" is not of type "integer"',
    )
    with pytest.raises(InvalidSchemaError, match="never fetches"):
        check_schema({"$dynamicRef": "https://example.com/s#meta"}, "x")
    with pytest.raises(InvalidSchemaError, match="not a valid JSON Schema"):
        check_schema({"$ref": "#/$defs/missing"}, "x")


def test_a_validator_is_compiled_once_per_schema() -> None:
    schema = {"type": "object", "title": "compiled once"}
    first = validator(schema)
    assert validator(json.loads(json.dumps(schema))) is first  # the same rule, another dict


def test_a_schema_error_names_where_and_which_rule_and_pickles() -> None:
    with pytest.raises(SchemaError) as info:
        check("shop", "db", PORT, {"port": "abc"})
    error = info.value
    assert (error.namespace, error.config, error.path, error.rule) == (
        "shop",
        "db",
        "/port",
        "/properties/port/type",
    )
    assert "'db' of namespace 'shop'" in str(error)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (str(copy), copy.path) == (str(error), error.path)
    conflict = pickle.loads(pickle.dumps(ConflictError("shop", [], schemas=True)))  # noqa: S301
    assert conflict.schemas
    assert "schemas changed" in str(conflict)


def test_json_pointers_escape_slashes_and_tildes() -> None:
    schema = {"properties": {"a/b~c": {"type": "integer"}}}
    assert problem(schema, {"a/b~c": "x"})[0] == "/a~1b~0c"  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"not json", "valid JSON"),
        (json.dumps({"schemas": {}}).encode(), "no format version"),
        (json.dumps({"confo_schemas": 2, "schemas": {}}).encode(), "format version 2"),
        (json.dumps({"confo_schemas": 1, "schemas": {"db": [1]}}).encode(), "not a JSON object"),
    ],
)
def test_a_stored_document_this_confo_cannot_read_is_refused(data: bytes, says: str) -> None:
    with pytest.raises(CorruptDataError, match=says):
        decode_document(data, "key 'x'")
    assert decode_document(encode_document({"db": PORT}), "x") == {"db": PORT}


# --- on the file backend: a damaged document, and a backend that keeps none -------------------


@pytest.fixture
def shop(tmp_path: Path) -> Confo:
    manager = Confo()
    manager.load_backend({"config_path": str(tmp_path)}, "files", "file")
    manager.activate_backend("files")
    manager.create_namespace("shop")
    manager.use_namespace("shop")
    manager.set("db", {"port": 1})
    manager.persist()
    return manager


def test_a_damaged_document_is_an_error_naming_it_and_nothing_is_served(
    shop: Confo, tmp_path: Path
) -> None:
    document = tmp_path / ".confo-schemas" / "shop.json"
    shop.set_schema("db", PORT)
    document.write_text('{"confo_schemas": 1, "schemas": {"db": {"type": "strnig"}}}')
    with pytest.raises(CorruptDataError, match=r"set_schema\(config, None\)"):
        shop.reload()
    shop.set_schema("db", None)  # the way out the message gives
    shop.reload()
    document.write_text("{half")
    with pytest.raises(CorruptDataError, match=r"shop\.json"):
        shop.reload()


class NoSchemas:
    """A plugin standing for a backend that declares it keeps no schemas."""

    @hookimpl(tryfirst=True)
    def confo_capabilities(self) -> Capabilities:
        return Capabilities(watch="latest", history=True, schemas=False)


def test_a_backend_without_schemas_refuses_set_schema_and_writes_unchecked(
    tmp_path: Path,
) -> None:
    with Confo() as manager:
        manager.load_backend({"config_path": str(tmp_path)}, "f", "file", plugins=[NoSchemas()])
        manager.activate_backend("f")
        manager.create_namespace("shop")
        manager.use_namespace("shop")
        with pytest.raises(SchemaUnavailableError, match="schemas=False"):
            manager.set_schema("db", PORT)
        manager.set("db", {"port": "anything"})
        manager.persist()
        assert manager.get_schema("db") is None
