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

from confo.binding import field_names, frozen, json_schema
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


@pytest.fixture
def peer(manager: Confo, tmp_path: Path) -> Iterator[Confo]:
    """Another service on the same folder, with no model bound."""
    with Confo() as peer:
        peer.load_backend({"config_path": str(tmp_path)}, "files", "file")
        peer.activate_backend("files")
        peer.use_namespace("app")
        yield peer


class Loose(BaseModel):
    host: str


class Strict(BaseModel):
    host: str
    port: int  # the stored db has none


def test_edits_made_before_a_bind_must_fit_the_model_to_be_persisted(manager: Confo) -> None:
    manager.set("db", "port", 0)  # no model yet: a valid edit
    with manager.bind(Db, "db"):
        with pytest.raises(ModelError, match="/port"):
            manager.persist()
        assert manager.namespace("app").has_unsaved_changes()
    manager.persist()  # the model no longer holds


def test_a_rollback_to_a_value_the_model_rejects_is_refused(manager: Confo) -> None:
    manager.set("db", "port", 0)
    manager.persist()
    bad = manager.history(config="db", limit=1)[0]
    manager.set("db", "port", 6)
    manager.persist()
    with manager.bind(Db, "db") as db:
        with pytest.raises(ModelError, match="/port"):
            manager.rollback(bad.id, config="db")
        assert db.value.port == 6
    assert manager.get("db", "port") == 6


def test_a_failed_bind_leaves_the_view_as_it_was(manager: Confo) -> None:
    with pytest.raises(ModelError, match="/port"):
        manager.bind(Strict, "db")
    assert manager.rejected() == {}
    assert manager.get("db", "host") == "h"


def test_closing_the_one_model_that_refused_a_value_lets_it_in(manager: Confo, peer: Confo) -> None:
    from confo.testing import Recorder, until

    peer.set("db", {"host": "old", "port": 1})
    peer.persist()
    manager.reload()
    strict = manager.bind(Strict, "db")
    events = Recorder()
    with manager.bind(Loose, "db") as loose, manager.watch(events):
        peer.set("db", {"host": "new"})  # no port: Strict refuses it, Loose would not
        peer.persist()
        until(lambda: "db" in manager.rejected())
        assert loose.value.host == "old"
        strict.close()
        until(lambda: loose.value.host == "new")
        until(lambda: any(e.kind == "put" and e.value == {"host": "new"} for e in events.events))
    assert manager.rejected() == {}
    assert manager.get("db") == {"host": "new"}


def test_a_value_is_validated_again_when_a_revision_comes_back_with_other_json() -> None:
    from confo.binding import ModelCheck

    class Exact(BaseModel):
        model_config = ConfigDict(strict=True)
        flag: bool

    check = ModelCheck(Exact, "app", "flags")
    assert check.rejection({"flag": True}, 0) is None
    assert check.rejection({"flag": 1}, 0) is not None  # equal in Python, not in JSON


def test_error_paths_and_messages_never_quote_the_input(manager: Confo) -> None:
    from typing import Literal

    from pydantic import field_validator

    class A(BaseModel):
        kind: Literal["a"]

    class B(BaseModel):
        kind: Literal["b"]

    class Vault(BaseModel):
        tokens: dict[str, int] = {}
        pick: A | B = Field(default_factory=lambda: A(kind="a"), discriminator="kind")
        name: str = "n"

        @field_validator("name")
        @classmethod
        def no_secrets(cls, value: str) -> str:
            if value.startswith("hunter2"):
                raise ValueError(f"bad name {value}")
            return value

    with manager.bind(Vault, "vault", missing="defaults"):
        for bad, path in [
            ({"tokens": {"hunter2-key": "x"}}, "/tokens/*"),
            ({"pick": {"kind": "hunter2-tag"}}, "/pick"),
            ({"name": "hunter2-name"}, "/name"),
        ]:
            with pytest.raises(ModelError) as info:
                manager.set("vault", bad)
            assert "hunter2" not in str(info.value)
            assert info.value.path == path


def test_a_settings_class_is_refused_by_bind(manager: Confo) -> None:
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        host: str = "x"

    with pytest.raises(InvalidModelError, match="ConfoSettingsSource"):
        manager.bind(Settings, "db")


def test_a_bound_value_pickles_as_an_instance_of_the_model(manager: Confo) -> None:
    with manager.bind(Db, "db") as db:
        copy = pickle.loads(pickle.dumps(db.value))  # noqa: S301 (our own bytes)
    assert type(copy) is Db
    assert copy == db.value


def test_waiting_for_a_value_that_comes_rejected_raises_its_error(
    manager: Confo, peer: Confo
) -> None:
    import threading
    import time

    def store_bad() -> None:
        time.sleep(0.3)
        peer.set("limits", {"rate": "fast"})
        peer.persist()

    writer = threading.Thread(target=store_bad)
    writer.start()
    try:
        with pytest.raises(ModelError, match="/rate"):
            manager.bind(Limits, "limits", missing="wait", timeout=30)  # returns on arrival
    finally:
        writer.join(10)


def test_closing_the_manager_ends_a_bind_that_waits(manager: Confo) -> None:
    import threading
    import time

    from confo.errors import BackendUnavailableError

    closer = threading.Timer(0.3, manager.close)
    closer.start()
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailableError, match="closed"):
            manager.bind(Limits, "absent", missing="wait", timeout=60)
    finally:
        closer.join(10)
    assert time.monotonic() - started < 30  # not the 60 s asked for (bounded, not a benchmark)


def test_mistakes_a_new_user_makes_are_told_the_fix(manager: Confo) -> None:
    from confo.errors import NamespaceNotFoundError

    with pytest.raises(InvalidModelError, match=r"bind\(Model, 'db'\)"):
        manager.bind("db", Db)  # type: ignore[arg-type]
    with pytest.raises(NamespaceNotFoundError, match="'apq'"):
        manager.bind(Db, "db", namespace="apq")
    with manager.bind(Db, "db") as db, pytest.raises(InvalidValueError, match="on_change"):
        db.on_change(5)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=r"in the store: .*Fix the stored value, or the model\."):
        manager.bind(Strict, "db")  # the stored db has no port


def test_field_names_reach_models_inside_generic_containers() -> None:
    """Python 3.10 takes ``dict[str, int]`` for a class, and issubclass() of it raises."""

    class Replica(BaseModel):
        weight: int = Field(1, alias="replica_weight")

    class Cluster(BaseModel):
        by_zone: dict[str, Replica] = {}
        spares: list[Replica] = []
        limits: dict[str, int] = {}

    assert field_names(Cluster) >= {"by_zone", "spares", "limits", "weight", "replica_weight"}
