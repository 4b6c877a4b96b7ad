"""Typed settings without a server: what bind() accepts, its errors, the frozen model, and what
importing costs (the conformance suite tests binding on every store)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from confo.binding import frozen, json_schema
from confo.errors import (
    ConfoError,
    InvalidModelError,
    InvalidValueError,
    ModelError,
    SchemaError,
)
from confo.manager import Confo


class Db(BaseModel):
    host: str
    port: int = Field(default=5432, ge=1)
    password: str = ""


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True)
    rate: int = 10


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Confo]:
    with Confo() as manager:
        manager.load_backend({"config_path": str(tmp_path)}, "files", "file")
        manager.activate_backend("files")
        manager.create_namespace("app")
        manager.use_namespace("app")
        manager.set("db", {"host": "h", "password": "hunter2-secret"})
        manager.persist()
        yield manager


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ({"host": "str"}, "got an instance of dict."),
        (Db(host="h"), "got an instance of Db."),
        (dict, "got the class dict."),
        (BaseModel, "not pydantic.BaseModel itself"),
    ],
    ids=["dict", "instance", "class", "base-model"],
)
def test_what_is_not_a_model_of_your_own_is_refused(
    manager: Confo, model: object, says: str
) -> None:
    with pytest.raises(InvalidModelError, match="pydantic") as info:
        manager.bind(model, "db")  # type: ignore[arg-type]
    assert says in str(info.value)
    assert isinstance(info.value, TypeError)
    manager.set("db", "port", "any")  # nothing of the refused bind holds


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"missing": "skip"}, "'error' raises"),
        ({"timeout": -1}, "seconds >= 0"),
        ({"timeout": "5"}, "seconds >= 0"),
        ({"timeout": True}, "seconds >= 0"),
    ],
)
def test_bad_options_are_refused(manager: Confo, options: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidValueError, match=says):
        manager.bind(Db, "db", **options)  # type: ignore[arg-type]


def test_defaults_need_a_default_for_every_field(manager: Confo) -> None:
    with pytest.raises(InvalidModelError, match=r"'host' has none"):
        manager.bind(Db, "absent", missing="defaults")


def test_an_unfrozen_model_is_read_into_a_frozen_subclass_equal_to_it(manager: Confo) -> None:
    with manager.bind(Db, "db") as db, manager.bind(Limits, "limits", missing="defaults") as lim:
        assert type(db.value) is not Db
        assert isinstance(db.value, Db)
        assert type(db.value).__name__ == "Db"
        assert db.value == Db(host="h", password="hunter2-secret")
        assert Db(host="h", password="hunter2-secret") == db.value
        assert db.value != Db(host="other")
        assert hash(db.value) == hash(frozen(Db).model_validate(db.value.model_dump()))
        assert type(lim.value) is Limits  # already frozen: the model itself
        assert db.model is frozen(Db)


def test_secrets_never_reach_errors_reprs_or_logs(
    manager: Confo, caplog: pytest.LogCaptureFixture
) -> None:
    class Strict(BaseModel):
        host: str
        password: int  # fails on the stored secret

    with pytest.raises(ModelError) as info:
        manager.bind(Strict, "db")
    with manager.bind(Db, "db") as db:
        with pytest.raises(ModelError) as refused:
            manager.set("db", {"host": 5, "password": "hunter2-other"})
        shown = [str(info.value), str(refused.value), repr(db), caplog.text]
    assert not [text for text in shown if "hunter2" in text]
    assert "/password: Input should be a valid integer" in str(info.value)


def test_a_model_error_is_a_schema_error_that_pickles(manager: Confo) -> None:
    with manager.bind(Db, "db"), pytest.raises(SchemaError) as info:
        manager.set("db", {"host": "h", "port": 0, "extra": 1})
    error = info.value
    assert isinstance(error, ModelError)
    assert isinstance(error, ConfoError)
    assert isinstance(error, ValueError)
    assert (error.path, error.rule, error.model) == ("/port", "greater_than_equal", "Db")
    assert "fix the value, or the model" in str(error)
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (type(again), str(again), again.model) == (ModelError, str(error), "Db")


def test_every_error_is_counted(manager: Confo) -> None:
    with manager.bind(Db, "db"), pytest.raises(ModelError, match=r"\(and 1 more\)"):
        manager.set("db", {"host": 1, "port": "x"})


def test_the_published_schema_is_draft_2020_12_and_enforceable() -> None:
    from confo.schemas import check_schema, problem

    schema = check_schema(json_schema(Db), "model Db")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert problem(schema, {"host": "h", "port": 0}) is not None
    assert problem(schema, {"host": "h", "port": 1}) is None


def test_an_on_change_callback_that_raises_is_logged_and_others_still_run(
    manager: Confo, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    seen: list[int] = []
    with manager.bind(Db, "db") as db:

        @db.on_change
        def broken(old: Db, new: Db) -> None:
            raise RuntimeError("callback bug")

        db.on_change(lambda old, new: seen.append(new.port))
        with Confo() as writer:
            writer.load_backend({"config_path": str(tmp_path)}, "files", "file")
            writer.activate_backend("files")
            writer.use_namespace("app")
            writer.update("db", lambda old: {**old, "port": 7})
        from confo.testing import until

        until(lambda: seen == [7])
    assert "an on_change callback" in caplog.text
    assert "callback bug" in caplog.text


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


def test_import_confo_and_loading_a_backend_import_no_pydantic(tmp_path: Path) -> None:
    found = _python(
        "import sys, confo\n"
        "from confo.manager import Confo\n"
        f"m = Confo(); m.load_backend({{'config_path': {str(tmp_path)!r}}}, 'f', 'file')\n"
        "m.activate_backend('f'); m.create_namespace('n'); m.use_namespace('n')\n"
        "m.set('c', {'a': 1}); m.persist(); m.close()\n"
        "print(sorted(n for n in sys.modules if n.startswith('pydantic')))\n"
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"


def test_without_pydantic_bind_says_which_extra_to_install(tmp_path: Path) -> None:
    found = _python(
        "import sys\n"
        "sys.modules['pydantic'] = None  # as if not installed: importing it raises\n"
        "sys.modules['pydantic_settings'] = None\n"
        "from confo.manager import Confo\n"
        "from confo.errors import ExtraNotInstalledError\n"
        f"m = Confo(); m.load_backend({{'config_path': {str(tmp_path)!r}}}, 'f', 'file')\n"
        "m.activate_backend('f'); m.create_namespace('n'); m.use_namespace('n')\n"
        "for attempt in (lambda: m.bind(object, 'c'), lambda: __import__('confo.typed')):\n"
        "    try:\n"
        "        attempt()\n"
        "    except ExtraNotInstalledError as exc:\n"
        "        assert isinstance(exc, ImportError)\n"
        "        print(exc)\n"
    )
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert len(lines) == 2
    assert all('pip install "confo-core[pydantic]"' in line for line in lines)


def test_a_validator_that_raises_rejects_the_value_and_is_logged(
    manager: Confo, caplog: pytest.LogCaptureFixture
) -> None:
    from pydantic import field_validator

    class Buggy(BaseModel):
        host: str

        @field_validator("host")
        @classmethod
        def broken(cls, value: str) -> str:
            if value == "boom":
                raise KeyError("a bug in the validator")
            return value

    with manager.bind(Buggy, "db") as db:
        with pytest.raises(ModelError, match="raised KeyError"):
            manager.set("db", {"host": "boom"})
        assert db.value.host == "h"
    assert "validating with model 'Buggy' raised" in caplog.text
