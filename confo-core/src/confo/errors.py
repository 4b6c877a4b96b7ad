"""Every error Confo raises.

All of them derive from :class:`ConfoError`, and also from the builtin that fits where one does
(a missing key is also a ``KeyError``, a bad name also a ``ValueError``), so callers can catch
whichever they think in. Messages say what went wrong, with which name, and how to fix it.

The CamelCase ``...Exception`` names are the ones the original Confo documented; they are kept so
code written against it keeps working. The ``...Error`` names are the ones this version added.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the seeds' import must stay cheap
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from confo.aliases import Revision

__all__ = [
    "BackendAuthenticationError",
    "BackendExistsError",
    "BackendNotFoundException",
    "BackendNotInstalledError",
    "BackendUnavailableError",
    "BackendsActivationException",
    "ConfigurationNotFoundError",
    "ConflictError",
    "ConfoError",
    "CorruptDataError",
    "CredentialsError",
    "ExtraNotInstalledError",
    "FieldNotFoundError",
    "FileNotFoundException",
    "HistoryUnavailableError",
    "InvalidModelError",
    "InvalidNameError",
    "InvalidSchemaError",
    "InvalidValueError",
    "ModelError",
    "NamespaceExistsException",
    "NamespaceNotFoundError",
    "NamespaceNotLoadedException",
    "PartialWriteError",
    "PermissionDeniedError",
    "PluginError",
    "RecordNotFoundError",
    "SchemaError",
    "SchemaUnavailableError",
    "StoreLimitError",
    "StoreOfflineError",
    "StoreURLError",
    "ZookeeperHostNotFoundException",
    "ZookeeperPortNotFoundException",
]


class ConfoError(Exception):
    """Base class of every error Confo raises.

    When a ``persist()`` of several namespaces stops at one, its error also says how far it
    got: ``persisted`` names the namespaces written before it, ``not_persisted`` that one and
    those after it, whose edits are still held in memory.
    """

    persisted: tuple[str, ...] = ()
    not_persisted: tuple[str, ...] = ()

    def __str__(self) -> str:
        # KeyError's own __str__ shows the repr of its argument (quotes and escapes); a message
        # meant for people must read as written.
        message = Exception.__str__(self)
        if self.not_persisted:
            done = ", ".join(map(repr, self.persisted)) or "none"
            pending = ", ".join(map(repr, self.not_persisted))
            message += f" [persist() of several namespaces: written {done}; not written {pending}]"
        return message


# --- plugins and backends -------------------------------------------------------------------


class PluginError(ConfoError):
    """A backend plugin is installed but broken, ambiguous, or not a valid Confo backend."""


class BackendNotInstalledError(ConfoError, ImportError):
    """No installed distribution registers the requested backend type."""


class BackendNotFoundException(ConfoError, KeyError):
    """No backend was loaded under that name in this manager."""


class BackendExistsError(ConfoError, ValueError):
    """A backend is already loaded under that name."""


class BackendsActivationException(ConfoError):
    """A namespace or configuration call was made with no active backend."""


class CredentialsError(ConfoError, ValueError):
    """The credentials dictionary is missing a key or holds a value of the wrong kind."""


class StoreURLError(CredentialsError):
    """A store URL (``redis://...``, ``file:...``) is malformed, or no installed backend reads it.

    Its message shows the URL with any password replaced by ``***``."""


class ZookeeperHostNotFoundException(CredentialsError):
    """The ZooKeeper credentials give no host."""


class ZookeeperPortNotFoundException(CredentialsError):
    """The ZooKeeper credentials give no port."""


class BackendUnavailableError(ConfoError, ConnectionError):
    """The store could not be reached, or went away during a call."""


class StoreOfflineError(BackendUnavailableError):
    """The backend was loaded offline, from its cache (the ``cache_dir`` credential), and has
    not reached its store since: reads serve the cache, writes are refused until it reconnects
    (it tries in the background). See docs/last-known-good.md."""


class BackendAuthenticationError(ConfoError, PermissionError):
    """The store refused the credentials, or the identity may not do what was asked."""


class PermissionDeniedError(BackendAuthenticationError):
    """The store knows this identity but does not let it do what was asked (an ACL refusal).

    A read-only identity can load a backend, read, reload and watch; a write it may not make
    fails with this error, whose message says which right is missing. Nothing was written."""


class FileNotFoundException(ConfoError, FileNotFoundError):
    """The file backend's ``config_path`` does not exist."""


# --- namespaces ------------------------------------------------------------------------------


class NamespaceNotLoadedException(ConfoError):
    """A configuration call was made with no current namespace, or for one not loaded here."""


class NamespaceNotFoundError(ConfoError, KeyError):
    """The store has no namespace of that name."""


class NamespaceExistsException(ConfoError, ValueError):
    """The namespace already exists and the call asked for a new one, or its key is taken."""


# --- configurations and values ---------------------------------------------------------------


class ConfigurationNotFoundError(ConfoError, KeyError):
    """The current namespace holds no configuration of that name."""


class FieldNotFoundError(ConfoError, KeyError):
    """The configuration holds no field of that name."""


class InvalidNameError(ConfoError, ValueError):
    """A namespace, configuration or backend name that cannot be stored safely."""


class InvalidValueError(ConfoError, ValueError):
    """A value that JSON cannot hold, or a configuration that is not a JSON object."""


class CorruptDataError(ConfoError, ValueError):
    """Data in the store is not what Confo wrote there (not JSON, or not a JSON object)."""


class InvalidSchemaError(InvalidValueError):
    """A schema given to ``set_schema`` that Confo cannot enforce: not a JSON Schema (draft
    2020-12), too large or deep, or referring to a schema elsewhere (Confo never fetches)."""


class SchemaError(ConfoError, ValueError):
    """A configuration does not match its schema; nothing was changed, in memory or the store.

    ``namespace`` and ``config`` say which configuration, ``path`` where in it (a JSON pointer,
    ``""`` for the whole), ``rule`` which part of the schema (a JSON pointer into it) and
    ``problem`` what is wrong.
    """

    def __init__(
        self, namespace: str, config: str, path: str, rule: str, problem: str, *, detail: str = ""
    ) -> None:
        self.namespace = namespace
        self.config = config
        self.path = path
        self.rule = rule
        self.problem = problem
        self._detail = detail
        super().__init__(
            f"Configuration {config!r} of namespace {namespace!r} does not match its schema"
            f"{detail}: {path or '/'}: {problem} (rule {rule or '/'}). Nothing was changed: fix "
            "the value, or change the schema with set_schema()."
        )

    def __reduce__(self) -> Any:
        args = (self.namespace, self.config, self.path, self.rule, self.problem, self._detail)
        return (_schema_error, (args,))


STORED = " in the store"
"""A SchemaError's ``detail`` when what fails is the stored value, not a write."""


class ModelError(SchemaError):
    """A configuration does not fit the pydantic model a :class:`~confo.binding.Binding` of it
    reads it into; nothing was changed. ``model`` names the model, ``rule`` is pydantic's error
    type (``int_parsing``, ``missing``, ...); the other fields are SchemaError's."""

    def __init__(
        self,
        namespace: str,
        config: str,
        path: str,
        rule: str,
        problem: str,
        *,
        model: str,
        detail: str = "",
    ) -> None:
        super().__init__(namespace, config, path, rule, problem, detail=detail)
        self.model = model
        # A bind() refused what the store holds: nothing of this process's was to change.
        advice = (
            "Fix the stored value, or the model."
            if detail == STORED
            else "Nothing was changed: fix the value, or the model."
        )
        self.args = (
            f"Configuration {config!r} of namespace {namespace!r} does not fit model "
            f"{model!r}{detail}: {path or '/'}: {problem} ({rule}). {advice}",
        )

    def __reduce__(self) -> Any:
        fields = (self.namespace, self.config, self.path, self.rule, self.problem)
        return (_model_error, (fields, self.model, self._detail))


class InvalidModelError(ConfoError, TypeError):
    """What ``bind()`` was given is not a model it can bind (not a pydantic model class, or
    one without the defaults ``missing='defaults'`` needs)."""


class ExtraNotInstalledError(ConfoError, ImportError):
    """A feature needs an optional extra of confo-core that is not installed."""


class SchemaUnavailableError(ConfoError):
    """The backend keeps no schemas (its capabilities say ``schemas=False``)."""


class RecordNotFoundError(ConfoError, KeyError):
    """A change record asked for (a rollback's ``to``) is not in the namespace's history."""


class HistoryUnavailableError(ConfoError):
    """The backend keeps no change history (it cannot, or ``history_limit`` is 0)."""


class StoreLimitError(ConfoError, ValueError):
    """A write is larger than the store accepts (a ZooKeeper znode over its size limit)."""


# --- writes ----------------------------------------------------------------------------------


class ConflictError(ConfoError):
    """A persist found configurations changed in the store since this manager read them.

    Nothing of the namespace was written and the in-memory edits are kept. ``namespace`` and
    ``configs`` (sorted names) say where; ``reload()`` then edit again, ``update()`` (which
    retries by itself), or ``persist(..., force=True)`` to overwrite.
    """

    def __init__(
        self, namespace: str, configs: Iterable[str], detail: str = "", *, schemas: bool = False
    ) -> None:
        self.namespace = namespace
        self.configs = sorted(configs)
        # The namespace's schemas changed since read (the write was conditional on them): the
        # manager reads them again and checks its values before it tries again.
        self.schemas = schemas
        names = ", ".join(map(repr, self.configs))
        if self.configs:
            what = f"{names} changed" + (", and its schemas too," if schemas else "")
        else:
            what = "its schemas changed" if schemas else "what the write depended on changed"
        super().__init__(
            f"Conflict in namespace {namespace!r}: {what} in the store since this manager read "
            f"{'it' if len(self.configs) <= 1 else 'them'}{detail}. Nothing of the namespace was "
            "written and your edits are kept: reload() and edit again, use update(), or "
            "persist(..., force=True) to overwrite."
        )
        self._detail = detail

    def __reduce__(self) -> Any:
        return (_conflict, (type(self), self.namespace, self.configs, self._detail, self.schemas))


class PartialWriteError(ConfoError):
    """A write too large for one transaction was split, and a later part failed.

    ``written`` maps the configurations that did reach the store to their new revisions and
    ``deleted`` names those deleted (the manager records both); everything else of the persist
    is still pending in memory.
    """

    def __init__(
        self,
        message: str,
        written: Mapping[str, Revision] | None = None,
        deleted: Iterable[str] = (),
    ) -> None:
        self.written: dict[str, Revision] = dict(written or {})
        self.deleted: set[str] = set(deleted)
        super().__init__(message)

    def __reduce__(self) -> tuple[type, tuple[str, dict[str, Revision], set[str]]]:
        return (type(self), (str(self), self.written, self.deleted))


def _conflict(
    kind: type[ConflictError], namespace: str, configs: list[str], detail: str, schemas: bool
) -> ConflictError:
    """Unpickle a ConflictError (keyword arguments cannot travel in ``__reduce__``)."""
    return kind(namespace, configs, detail, schemas=schemas)


def _schema_error(args: tuple[str, str, str, str, str, str]) -> SchemaError:
    """Unpickle a SchemaError."""
    *fields, detail = args
    return SchemaError(*fields, detail=detail)


def _model_error(fields: tuple[str, str, str, str, str], model: str, detail: str) -> ModelError:
    """Unpickle a ModelError."""
    return ModelError(*fields, model=model, detail=detail)
