"""Conformance tests for typed, live settings: ``bind()`` and the pydantic-settings source.

Part of :class:`~confo.testing.BackendConformance`; they need a backend that can watch. A
backend whose capabilities say ``schemas=False`` skips only the published-schema test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from confo.binding import Binding
from confo.errors import (
    ConfigurationNotFoundError,
    ModelError,
    SchemaError,
    SchemaUnavailableError,
)
from confo.manager import Confo
from confo.testing.helpers import unique
from confo.testing.watching import Recorder, until
from confo.typed import ConfoSettingsSource

PAIRS = 200
READERS = 4


class Db(BaseModel):
    host: str
    port: int = 5432


class Pair(BaseModel):
    """Two fields every writer keeps equal: a reader seeing them differ saw two values."""

    model_config = ConfigDict(frozen=True)
    a: int
    b: int


class Version(BaseModel):
    v: int


class Flags(BaseModel):
    enabled: bool = False
    ratio: float = 0.5


class TypedConformance:
    """A model bound to a configuration follows the store, whole, and is never invalid."""

    backend_type: ClassVar[str]

    @pytest.fixture
    def peer(self, other: Confo, ns: str) -> Confo:
        """Another manager on the same namespace: another service, or the command line."""
        other.use_namespace(ns)
        return other

    @pytest.fixture
    def db(self, manager: Confo, peer: Confo) -> Iterator[Binding[Db]]:
        peer.set("db", {"host": "db-a.internal", "port": 1})
        peer.persist()
        manager.reload()
        binding = manager.bind(Db, "db")
        yield binding
        binding.close()

    def test_the_value_is_a_frozen_instance_replaced_whole(
        self, db: Binding[Db], peer: Confo
    ) -> None:
        first = db.value
        assert isinstance(first, Db)
        assert (first.host, first.port) == ("db-a.internal", 1)
        with pytest.raises(ValidationError, match="frozen"):
            first.port = 2
        with pytest.raises(AttributeError, match="read-only"):
            db.value = Db(host="x")
        changes: list[tuple[Db, Db]] = []
        db.on_change(lambda old, new: changes.append((old, new)))
        peer.set("db", {"host": "b", "port": 2})
        peer.persist()
        until(lambda: db.value.host == "b")
        assert db.value.port == 2
        assert (first.host, first.port) == ("db-a.internal", 1)  # the old instance never changes
        until(lambda: len(changes) == 1)
        assert changes[0][0] is first
        assert changes[0][1] is db.value
        assert db.healthy
        assert "db-a.internal" not in repr(db)  # values may be secrets: never in a repr

    def test_readers_never_see_fields_of_two_values(self, manager: Confo, peer: Confo) -> None:
        peer.set("pair", {"a": 0, "b": 0})
        peer.persist()
        seen: list[int] = []
        torn: list[tuple[int, int]] = []
        done = threading.Event()
        with manager.bind(Pair, "pair") as pair:

            def read() -> None:
                last = 0
                while not done.is_set():
                    for _ in range(100):
                        value = pair.value
                        a, b = value.a, value.b
                        if a != b or a < last:  # two values, or an older one after a newer one
                            torn.append((a, b))
                        last = a
                    time.sleep(0.0005)  # as a request handler would: readers spinning on the
                    # GIL would starve the writer and the watch, not test them
                seen.append(pair.value.a)

            readers = [threading.Thread(target=read) for _ in range(READERS)]
            for reader in readers:
                reader.start()
            try:
                for i in range(1, PAIRS + 1):
                    peer.set("pair", {"a": i, "b": i})
                    peer.persist()
                until(lambda: pair.value.a == PAIRS, within=30)
            finally:
                done.set()
                for reader in readers:
                    reader.join(10)
        assert not torn
        assert seen == [PAIRS] * READERS

    def test_a_stored_value_the_model_rejects_keeps_the_old_instance(
        self, manager: Confo, db: Binding[Db], peer: Confo
    ) -> None:
        events = Recorder()
        first = db.value
        with manager.watch(events):
            peer.set("db", {"host": "b", "port": "not a port"})
            peer.persist()
            until(lambda: "db" in manager.rejected())
            until(lambda: any(e.kind == "rejected" for e in events.events))
        assert db.value is first
        assert db.error is not None
        assert "/port" in db.error
        assert "Db" in db.error
        assert "not a port" not in db.error  # the stored input is never repeated
        assert "/port" in manager.rejected()["db"]
        # The view keeps the valid value.
        assert manager.get("db") == {"host": "db-a.internal", "port": 1}
        peer.set("db", {"host": "c", "port": 3})
        peer.persist()
        until(lambda: db.value.host == "c")
        assert db.error is None

    def test_this_manager_cannot_write_what_its_model_rejects(
        self, manager: Confo, db: Binding[Db], ns: str
    ) -> None:
        with pytest.raises(ModelError, match=r"'db'.*model 'Db'.*/port") as info:
            manager.set("db", "port", "eighty")
        assert (info.value.config, info.value.path, info.value.rule) == (
            "db",
            "/port",
            "int_parsing",
        )
        with pytest.raises(ModelError, match="/host: Field required"):
            manager.update("db", lambda old: {"port": 2})
        with pytest.raises(ModelError):
            manager.write(ns, {"db": {"host": 1}}, force=True)
        assert manager.get("db") == {"host": "db-a.internal", "port": 1}
        db.close()
        db.close()  # twice is harmless
        manager.set("db", "port", "eighty")  # the model no longer holds once closed
        assert db.value.port == 1

    def test_a_published_schema_refuses_other_writers(
        self, manager: Confo, peer: Confo, ns: str
    ) -> None:
        peer.set("db", {"host": "a"})
        peer.persist()
        if not manager.capabilities().schemas:
            with pytest.raises(SchemaUnavailableError):
                manager.bind(Db, "db", publish_schema=True)
            return
        with manager.bind(Db, "db", publish_schema=True) as db:
            assert db.value.port == 5432
            schema = peer.get_schema("db")
            assert schema is not None
            assert schema["properties"]["port"]["type"] == "integer"
            with pytest.raises(SchemaError, match="/port"):
                peer.set("db", {"host": "b", "port": "eighty"})
            with pytest.raises(SchemaError, match="host"):
                peer.write(ns, {"db": {"port": 1}}, force=True)
            peer.set("db", {"host": "b", "port": 2})
            peer.persist()
            until(lambda: db.value.port == 2)
            if peer.capabilities().history:
                messages = [record.message or "" for record in peer.history(limit=5)]
                assert any("model Db published by bind()" in m for m in messages)

    def test_a_stored_value_lacking_a_field_is_a_clear_error(self, manager: Confo, ns: str) -> None:
        manager.set("db", {"port": 1})
        manager.persist()
        with pytest.raises(ModelError, match=r"'db'.*'Db'.*/host: Field required") as info:
            manager.bind(Db, "db")
        assert info.value.rule == "missing"
        manager.set("db", {"port": 2})  # nothing of the failed bind is left holding

    def test_missing_error_defaults_and_wait(self, manager: Confo, peer: Confo, ns: str) -> None:
        with pytest.raises(ConfigurationNotFoundError, match=r"'flags'.*missing='defaults'"):
            manager.bind(Flags, "flags")
        with manager.bind(Flags, "flags", missing="defaults") as flags:
            assert flags.value == Flags()
            peer.set("flags", {"enabled": True})
            peer.persist()
            until(lambda: flags.value.enabled)
            peer.delete("flags")
            peer.persist()
            until(lambda: not flags.value.enabled)  # back to the defaults
        with pytest.raises(ConfigurationNotFoundError, match=r"waited 0\.2 s"):
            manager.bind(Flags, "flags", missing="wait", timeout=0.2)

        def store_later() -> None:
            time.sleep(0.3)
            peer.set("flags", {"ratio": 0.9})
            peer.persist()

        writer = threading.Thread(target=store_later)
        writer.start()
        try:
            with manager.bind(Flags, "flags", missing="wait", timeout=20) as flags:
                assert flags.value.ratio == 0.9
        finally:
            writer.join(10)

    def test_a_deleted_configuration_keeps_the_last_value(
        self, db: Binding[Db], peer: Confo, caplog: pytest.LogCaptureFixture
    ) -> None:
        first = db.value
        peer.delete("db")
        peer.persist()
        until(lambda: "deleted from the store" in caplog.text)
        assert db.value is first

    def test_a_settings_class_reads_confo_and_the_environment_overrides(
        self, manager: Confo, peer: Confo, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class Service(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="CONFO_TEST_")
            host: str = "unset"
            port: int = 1
            debug: bool = False

            @classmethod
            def settings_customise_sources(
                cls,
                settings_cls: type[BaseSettings],
                init_settings: PydanticBaseSettingsSource,
                env_settings: PydanticBaseSettingsSource,
                dotenv_settings: PydanticBaseSettingsSource,
                file_secret_settings: PydanticBaseSettingsSource,
            ) -> tuple[PydanticBaseSettingsSource, ...]:
                confo = ConfoSettingsSource(settings_cls, manager, "service")
                return (init_settings, env_settings, confo, file_secret_settings)

        peer.set("service", {"host": "db.internal", "port": 6432, "unrelated": 1})
        peer.persist()
        manager.reload()
        monkeypatch.setenv("CONFO_TEST_PORT", "7000")
        settings = Service()
        assert (settings.host, settings.port, settings.debug) == ("db.internal", 7000, False)
        monkeypatch.delenv("CONFO_TEST_PORT")
        assert Service().port == 6432
        assert Service(port=1).port == 1  # arguments first, as pydantic-settings has it

    def test_a_settings_source_of_a_missing_configuration(self, manager: Confo, ns: str) -> None:
        class Service(BaseSettings):
            host: str = "localhost"

        source = ConfoSettingsSource(Service, manager, "absent")
        with pytest.raises(ConfigurationNotFoundError, match="absent"):
            source()
        assert ConfoSettingsSource(Service, manager, "absent", missing_ok=True)() == {}
        assert "absent" in repr(source)

    def test_bind_on_a_namespace_handle(self, manager: Confo, peer: Confo, ns: str) -> None:
        peer.set("db", {"host": "h"})
        peer.persist()
        other_ns = unique()
        manager.create_namespace(other_ns)
        manager.use_namespace(other_ns)
        with manager.namespace(ns).bind(Db, "db") as db, manager.bind(Db, "db", ns) as same:
            assert db.value == same.value == Db(host="h")
        with pytest.raises(ConfigurationNotFoundError):
            manager.bind(Db, "db")  # the current namespace has none
