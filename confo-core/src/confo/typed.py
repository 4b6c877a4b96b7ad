"""A pydantic-settings source reading one configuration from Confo.

List it in a ``BaseSettings`` class's ``settings_customise_sources``; where it stands in that
tuple says what overrides what (earlier wins), so with the environment before it, an
environment variable still overrides the stored value, as pydantic-settings users expect::

    class Settings(BaseSettings):
        host: str
        port: int = 5432

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                       dotenv_settings, file_secret_settings):
            return (init_settings, env_settings,
                    ConfoSettingsSource(settings_cls, manager, "db"), file_secret_settings)

The source reads the manager's view (what it last read from the store, kept current by a
watch), never the store itself: building a settings object costs no round trip. For a model
that follows the store by itself, see ``Confo.bind`` (docs/typed.md).

Importing this module imports pydantic-settings (``pip install "confo-core[pydantic]"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from confo.binding import pydantic_module
from confo.errors import ExtraNotInstalledError

pydantic_module()  # says which extra to install, before pydantic_settings' own ImportError
try:
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
except ImportError:
    raise ExtraNotInstalledError(
        "confo.typed needs pydantic-settings, which is not installed: "
        'pip install "confo-core[pydantic]".'
    ) from None

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from confo.manager import Confo

__all__ = ["ConfoSettingsSource"]


class ConfoSettingsSource(PydanticBaseSettingsSource):
    """The fields of ``settings_cls`` from configuration ``config`` of ``namespace`` (the
    manager's current namespace unless given), as ``manager`` holds it.

    A field is looked up by its alias if it has one, else by its name; fields the configuration
    lacks are left to the other sources (or the field's default). A configuration that does not
    exist raises ConfigurationNotFoundError, unless ``missing_ok``: then this source gives
    nothing.
    """

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        manager: Confo,
        config: str,
        namespace: str | None = None,
        *,
        missing_ok: bool = False,
    ) -> None:
        super().__init__(settings_cls)
        self.manager = manager
        self.config_name = config
        self.namespace = namespace
        self.missing_ok = missing_ok

    def __repr__(self) -> str:
        where = "" if self.namespace is None else f" of namespace {self.namespace!r}"
        return f"ConfoSettingsSource(configuration {self.config_name!r}{where})"

    def stored(self) -> dict[str, Any]:
        """The configuration as the manager holds it ({} if missing and ``missing_ok``)."""
        from confo.errors import ConfigurationNotFoundError  # noqa: PLC0415

        try:
            if self.namespace is None:
                values: dict[str, Any] = self.manager.get(self.config_name)
            else:
                values = self.manager.namespace(self.namespace).get(self.config_name)
        except ConfigurationNotFoundError as exc:
            if self.missing_ok:
                return {}
            raise ConfigurationNotFoundError(
                f"{exc.args[0]} ConfoSettingsSource(..., missing_ok=True) leaves the fields of "
                "a missing configuration to the other sources."
            ) from None
        return values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """pydantic-settings' per-field look-up: (value or None, key, is it complex)."""
        key = field.alias or field_name
        return self.stored().get(key), key, False

    def __call__(self) -> dict[str, Any]:
        stored = self.stored()  # one look-up for every field
        found: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            key = field.alias or field_name
            if key in stored:
                found[key] = stored[key]
        return found
