"""The original Confo's backend classes, used on their own, without the manager.

Code written against the original often skipped ``Confo`` and drove a backend directly::

    fb = FileBackend()
    fb.load_credentials(credentials={"config_path": path})
    fb.use_namespace("sales")
    fb.set("db", "host", "10.0.0.5")
    fb.persist("sales", "db")

``confo.Backends.FileBackend.FileBackend`` (and the etcd, ZooKeeper and Redis ones) are such
classes: each is a :class:`LegacyBackend` that keeps a private manager with one backend of its
type, so it has the original's backend-level calls, including ``get_count()`` counting the
configurations of the current namespace (on the manager, seed 001 makes it count namespaces).
Two things differ from the original, on purpose: a missing namespace, configuration or field
raises a Confo error instead of printing and returning None, and each instance is its own (the
original's backends were singletons; ``Confo()`` is the shared object now).

The plugin class behind a type is :func:`confo.discovery.backend_class`, not this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from confo.aliases import MISSING
from confo.compat.shared import Confo
from confo.discovery import backend_class
from confo.errors import NamespaceNotLoadedException
from confo.values import JSONObject


class LegacyBackend:
    """One store, driven with the original backend classes' calls."""

    backend_type: ClassVar[str] = ""

    def __init__(self) -> None:
        self._manager = Confo(shared=False)
        self._loaded = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} loaded={self._loaded}>"

    def load_credentials(self, credentials: Mapping[str, Any]) -> None:
        """Connect to the store (``load_backend`` of the manager, under the type's name)."""
        if self._loaded:
            self._manager.close()
        self._manager.load_backend(credentials, self.backend_type, self.backend_type)
        self._manager.activate_backend(self.backend_type)
        self._loaded = True

    def create_namespace(self, namespace: str) -> None:
        self._active().create_namespace(namespace)

    def use_namespace(self, namespace: str) -> None:
        self._active().use_namespace(namespace)

    def get_namespaces(self) -> dict[str, Any]:
        return self._active().get_namespaces()

    def get(self, name: str, field: str | None = None, default: Any = MISSING) -> Any:
        return self._active().get(name, field, default)

    def get_all(self) -> dict[str, JSONObject]:
        return self._active().get_all()

    def set(self, config: str, field: str | JSONObject, value: Any = MISSING) -> None:
        self._active().set(config, field, value)

    def delete(self, config: str, field: str | None = None) -> None:
        self._active().delete(config, field)

    def persist(
        self, namespace: str | bool | None = False, config: str | bool | None = False
    ) -> None:
        """Everything held, one namespace, or one configuration, as ``Confo.persist``."""
        self._active().persist(namespace, config)

    def reload(self) -> None:
        self._active().reload()

    def get_count(self) -> int:
        """How many configurations the current namespace holds (the original's meaning)."""
        return len(self.get_all())

    def close(self) -> None:
        self._manager.close()
        self._loaded = False

    def _active(self) -> Confo:
        if not self._loaded:
            raise NamespaceNotLoadedException(
                f"This {type(self).__name__} has no store yet: call "
                "load_credentials(credentials) first."
            )
        return self._manager


def legacy_backend(backend_type: str) -> type[LegacyBackend]:
    """A :class:`LegacyBackend` class for ``backend_type`` (any installed type, third-party too).

    :raises BackendNotInstalledError: (an ImportError) no installed distribution provides the
        type; the message names the one to install.
    """
    backend_class(backend_type)  # fail now, at import of confo.Backends.<Type>Backend
    name = "".join(part.title() for part in backend_type.replace("-", "_").split("_"))
    cls = type(f"{name}Backend", (LegacyBackend,), {"backend_type": backend_type})
    cls.__module__ = __name__
    return cls
