"""Typed, live settings: one configuration read into a pydantic model, kept current by a watch.

A :class:`Binding` holds a frozen, validated instance of the model in ``.value`` and replaces
it whole when the store changes, so a reader gets one value or the next, never fields of both.
Reading ``.value`` is an attribute read: a value is validated once, when it is read from the
store, never per read.

The model is also a rule of this process on the configuration (a :class:`~confo.store.
LocalCheck`): this manager refuses to write a value the model rejects (:class:`ModelError`),
and a stored value it rejects is handled as one failing its schema: kept out of the live view,
logged, listed by ``rejected()``, delivered as a ``rejected`` event. With ``publish_schema``,
the model's JSON Schema becomes the configuration's stored schema, so that other services and
the command line refuse what this one could not read.

pydantic is imported on the first bind, never by ``import confo``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, get_args, get_origin

from confo import schemas
from confo.errors import (
    STORED,
    BackendUnavailableError,
    ConfigurationNotFoundError,
    ConfoError,
    CorruptDataError,
    ExtraNotInstalledError,
    InvalidModelError,
    InvalidValueError,
    ModelError,
    SchemaError,
)
from confo.values import encode

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from confo.events import WatchEvent
    from confo.model import Revision, Snapshot
    from confo.store import Store
    from confo.values import JSONObject
    from confo.watch import Watch

    M = TypeVar("M", bound=BaseModel)
else:
    M = TypeVar("M")

log = logging.getLogger(__name__)

Missing = Literal["error", "defaults", "wait"]
MISSING_CHOICES: tuple[str, ...] = get_args(Missing)
DEFAULT_WAIT = 10.0
"""Seconds ``bind(..., missing="wait")`` waits for a valid value, unless given ``timeout``."""
WAIT_SLICE = 0.1
"""Seconds between checks, while ``bind(..., missing="wait")`` waits, that its watch still runs."""
CACHED = 4
"""Validated values kept per binding: the read that screens a value and the event that delivers
it come one after the other, so the event finds the instance made for the read."""

ChangeCallback = Callable[[Any, Any], object]
StartWatch = Callable[[Callable[["WatchEvent"], object], Callable[["Snapshot"], object]], "Watch"]


def pydantic_module() -> Any:
    """pydantic, or ExtraNotInstalledError saying which extra to install."""
    try:
        import pydantic  # noqa: PLC0415
    except ImportError:
        raise ExtraNotInstalledError(
            "Binding a configuration to a model needs pydantic, which is not installed: "
            'pip install "confo-core[pydantic]".'
        ) from None
    return pydantic


def checked_model(model: object) -> type[BaseModel]:
    """``model`` if it is a pydantic model class, else InvalidModelError saying what it is."""
    pydantic = pydantic_module()
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        if model is pydantic.BaseModel:
            raise InvalidModelError(
                "bind() needs a model of your own (a subclass of pydantic.BaseModel with "
                "fields), not pydantic.BaseModel itself."
            )
        if any(base.__name__ == "BaseSettings" for base in model.__mro__):
            raise InvalidModelError(
                f"bind() takes a pydantic BaseModel; {model.__name__} is a pydantic-settings "
                "BaseSettings, whose validation reads the environment too, so what the store "
                "holds would not be what the binding holds. Bind a BaseModel with the same "
                "fields, or read Confo into the settings class with "
                "confo.typed.ConfoSettingsSource."
            )
        return model
    if isinstance(model, str):
        raise InvalidModelError(
            f"bind() takes the model first, then the configuration: bind(Model, {model!r}), "
            f"not bind({model!r}, Model)."
        )
    if isinstance(model, type):
        what = f"the class {model.__qualname__}"
    else:  # never its repr: an instance may hold secrets
        what = f"an instance of {type(model).__qualname__}"
    raise InvalidModelError(
        f"bind() needs a pydantic model class (a subclass of pydantic.BaseModel); got {what}. "
        "Pass the model class itself, e.g. bind(Settings, 'app')."
    )


@functools.cache
def frozen(model: type[M]) -> type[M]:
    """``model`` if its instances are frozen, else a frozen subclass of the same name (so that
    ``isinstance(value, model)`` holds and nobody changes a value every thread shares)."""
    if model.model_config.get("frozen"):
        return model

    def __eq__(self: Any, other: object) -> bool:
        # pydantic compares classes too: an instance equals one of the model it came from.
        if type(other) not in (made, model):
            return NotImplemented
        return bool(
            self.__dict__ == other.__dict__
            and self.__pydantic_extra__ == other.__pydantic_extra__  # type: ignore[attr-defined]
            and self.__pydantic_private__ == other.__pydantic_private__  # type: ignore[attr-defined]
        )

    def __hash__(self: Any) -> int:
        return hash((model, *self.__dict__.values()))

    def __reduce__(self: Any) -> Any:
        # Pickled as an instance of the model itself: the frozen subclass is made at run time
        # and cannot be found by name.
        return (model.model_validate, (self.model_dump(),))

    namespace = {
        "__module__": model.__module__,
        "__qualname__": model.__qualname__,
        "__doc__": model.__doc__,
        "model_config": {"frozen": True},
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__reduce__": __reduce__,
    }
    metaclass: Any = type(model)  # pydantic's ModelMetaclass: it makes the model's fields
    made: type[M] = metaclass(model.__name__, (model,), namespace)
    return made


def json_schema(model: type[BaseModel]) -> JSONObject:
    """The model's JSON Schema (draft 2020-12) as Confo stores it."""
    schema: JSONObject = {"$schema": schemas.DIALECT, **model.model_json_schema(mode="validation")}
    return schema


def model_error(
    exc: ValidationError,
    namespace: str,
    config: str,
    model: str,
    *,
    names: frozenset[str],
    detail: str = "",
) -> ModelError:
    """The first of pydantic's errors as a ModelError, with how many more there are. Nothing
    of the input is in it (it may hold secrets): not the value, not a dict key (``names``:
    the field names the path may show), not a message that would quote them."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    first = errors[0]
    path = "".join("/" + _part(part, names) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    what = QUOTING.get(first["type"], first["msg"])
    return ModelError(
        namespace, config, path, first["type"], what + more, model=model, detail=detail
    )


QUOTING = {
    "value_error": "a validator of the model refused it",
    "assertion_error": "a validator of the model refused it",
    "union_tag_invalid": "its tag is not one the model knows",
    "union_tag_not_found": "it has no tag the model can tell its type by",
}
"""pydantic's messages of these errors may quote the input: said without it."""


def _part(part: str | int, names: frozenset[str]) -> str:
    """One step of an error's path: a field's name or a list index, ``*`` for a dict key (a
    key is data, and may be a secret)."""
    if isinstance(part, int) or part in names or part == "[key]":
        return schemas.escape(str(part))
    return "*"


@functools.cache
def field_names(model: type[BaseModel]) -> frozenset[str]:
    """The names and aliases of the fields of ``model`` and of every model inside it."""
    names: set[str] = set()
    seen: set[type] = set()
    todo: list[type[BaseModel]] = [model]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name, info in current.model_fields.items():
            names.update(n for n in (name, info.alias, info.validation_alias) if isinstance(n, str))
            todo.extend(_models_in(info.annotation))
    return frozenset(names)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    pydantic = pydantic_module()
    # Python 3.10 takes dict[str, int] for a type, and issubclass() of it raises: ask the origin.
    plain = get_origin(annotation) is None and isinstance(annotation, type)
    if plain and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


class ModelCheck:
    """The model as a local check of one configuration, remembering what it made of the last
    few stored values so that each is validated once."""

    def __init__(self, model: type[BaseModel], namespace: str, config: str) -> None:
        self.model = frozen(model)
        self.name = model.__name__
        self.namespace = namespace
        self.config = config
        self._validation_error = pydantic_module().ValidationError
        self._names = field_names(model)
        self.refused_any = False  # whether a stored value was ever kept out by this check
        # revision -> (values, instance or error). Replaced whole: read on other threads.
        self._made: dict[Any, tuple[bytes, Any]] = {}

    def refusal(self, values: JSONObject) -> SchemaError | None:
        made = self.make(values)
        return made if isinstance(made, ModelError) else None

    def rejection(self, values: JSONObject, revision: Revision) -> str | None:
        made = self.instance(values, revision)
        if not isinstance(made, ModelError):
            return None
        self.refused_any = True
        return (
            f"Configuration {self.config!r} of namespace {self.namespace!r} in the store does "
            f"not fit model {self.name!r} bound in this process: {made.path or '/'}: "
            f"{made.problem} ({made.rule}). It is kept out of the live view: write a valid "
            "value, or change the model."
        )

    def instance(self, values: JSONObject, revision: Revision) -> Any:
        """The model's instance of the stored ``values``, or the ModelError they raise."""
        encoded = encode(values)  # compared encoded: 1 == 1.0 == True, but not to a strict model
        held = self._made.get(revision)
        if held is not None and held[0] == encoded:  # a znode made again restarts its version
            return held[1]
        made = self.make(values)
        kept = list(self._made.items())[-(CACHED - 1) :]
        self._made = {**dict(kept), revision: (encoded, made)}
        return made

    def make(self, values: JSONObject) -> Any:
        """The model's instance of ``values``, or the ModelError they raise."""
        try:
            return self.model.model_validate(values)
        except self._validation_error as exc:
            return model_error(exc, self.namespace, self.config, self.name, names=self._names)
        except Exception as exc:  # a validator's bug must not stop the watch, nor a reload
            log.exception("validating with model %r raised", self.name)
            what = f"validating it raised {type(exc).__name__} (logged)"
            return ModelError(
                self.namespace, self.config, "", "validator_raised", what, model=self.name
            )


class Binding(Generic[M]):
    """A configuration read into a pydantic model, kept current: what ``bind()`` returns.

    ``value`` is the model's frozen instance of the configuration as the store holds it,
    replaced whole when that changes. It is a plain attribute: read it as often as you like.
    ``error`` says why the stored value is not the one in ``value`` (it fails the model or its
    schema), None while they agree. ``healthy`` is the watch's: True while it knows it is
    current. ``close()`` ends the binding (``value`` keeps its last instance); it is also a
    context manager.
    """

    value: M

    def __init__(
        self,
        check: ModelCheck,
        store: Store,
        read_again: Callable[[], None],
        missing: str,
        defaults: M | None,
    ) -> None:
        self._check = check
        self._store = store
        self._read_again = read_again
        self._missing = missing
        self._defaults = defaults
        self._callbacks: list[ChangeCallback] = []
        self._ready = threading.Event()
        self._watch: Watch | None = None
        self._closed = False
        self.error: str | None = None
        # A seed the model or the schema rejected: its value and that schema.
        self._refused: tuple[JSONObject, Revision, JSONObject | None] | None = None

    def __setattr__(self, name: str, value: object) -> None:
        if name == "value":
            raise AttributeError(
                "Binding.value is read-only: it follows the store. Change the configuration "
                "with set() and persist(), or with update()."
            )
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:  # no values: they may hold secrets
        state = "closed" if self._closed else "bound"
        return (
            f"<Binding {self._check.name} to {self._check.config!r} of namespace "
            f"{self._check.namespace!r} {state} healthy={self.healthy}>"
        )

    def __enter__(self) -> Binding[M]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def model(self) -> type[M]:
        """The model class of ``value`` (a frozen subclass of the one bound, if that one
        was not frozen)."""
        model: type[M] = self._check.model
        return model

    @property
    def healthy(self) -> bool:
        """Whether the watch behind the binding knows it is current (see ``Watch``)."""
        return not self._closed and self._watch is not None and self._watch.healthy

    def on_change(self, callback: ChangeCallback) -> ChangeCallback:
        """Call ``callback(old, new)`` with the old and the new instance after each change of
        ``value``, on the watch's thread (keep it short); an exception it raises is logged.
        Returns ``callback``, so this also works as a decorator."""
        if not callable(callback):
            raise InvalidValueError(
                f"on_change() takes a function of (old, new), not {type(callback).__name__}."
            )
        self._callbacks = [*self._callbacks, callback]
        return callback

    def close(self) -> None:
        """Stop following the store, and stop refusing writes the model rejects; ``value``
        keeps its last instance. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        check = self._check
        try:
            if self._watch is not None:
                self._watch.stop()
        finally:
            self._store.remove_check(check.namespace, check.config, check)
        if check.refused_any:  # a value only this model refused may now be taken in
            self._read_again()

    # --- fed by the watch, on its threads ----------------------------------------------------

    def _seed(self, snapshot: Snapshot) -> None:
        config = self._check.config
        values = snapshot.configs.get(config)
        if values is not None:
            self._take(self._check.instance(values, snapshot.revisions[config]))
            return
        rejected = snapshot.rejected.get(config)
        if rejected is not None:
            self.error = rejected[2]
            self._refused = (rejected[0], rejected[1], snapshot.schemas.get(config))
        elif self._defaults is not None:
            self._take(self._defaults)

    def _event(self, event: WatchEvent) -> None:
        if event.config != self._check.config or self._closed:
            return
        if event.kind == "put" and event.value is not None and event.revision is not None:
            made = self._check.instance(event.value, event.revision)
            if isinstance(made, ModelError):  # screened out before delivery; never a value
                self.error = str(made)
                return
            self._take(made)
        elif event.kind == "rejected":
            self.error = event.error
            if not self._ready.is_set() and event.value is not None and event.revision:
                self._refused = (event.value, event.revision, None)
        elif event.kind == "delete":
            self._deleted()

    def _deleted(self) -> None:
        if self._defaults is not None:
            self._take(self._defaults)
            return
        log.warning(
            "Configuration %r of namespace %r was deleted from the store; its binding to model "
            "%r keeps the last value.",
            self._check.config,
            self._check.namespace,
            self._check.name,
        )

    def _take(self, new: M) -> None:
        self.error = None
        old = self.__dict__.get("value")
        if old is new:
            return
        object.__setattr__(self, "value", new)
        self._ready.set()
        if old is None:
            return
        for callback in self._callbacks:
            try:
                callback(old, new)
            except Exception:
                log.exception("an on_change callback of %r failed", self)

    # --- the start ---------------------------------------------------------------------------

    def _start(self, start_watch: StartWatch, timeout: float) -> None:
        """Hold the model's check, watch the store, and have a first value as ``missing``
        says; on failure, close and raise."""
        check = self._check
        self._store.add_check(check.namespace, check.config, check)
        try:
            self._watch = start_watch(self._event, self._seed)
            if not self._ready.is_set() and self._missing == "wait":
                self._wait(timeout)
            if not self._ready.is_set():
                raise self._no_value(timeout)
        except BaseException:
            self.close()
            raise

    def _wait(self, timeout: float) -> None:
        """Wait for a first value, up to ``timeout``; a watch ended meanwhile (the backend
        closed) ends the wait at once."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(min(WAIT_SLICE, max(0.0, deadline - time.monotonic()))):
            if self._watch is not None and not self._watch.running:
                raise BackendUnavailableError(
                    f"The watch of namespace {self._check.namespace!r} ended while bind() "
                    f"waited for configuration {self._check.config!r}: its backend was "
                    "closed. Load it again, and bind again."
                )
            if time.monotonic() >= deadline:
                return

    def _no_value(self, timeout: float) -> Exception:
        check = self._check
        if self._refused is not None:
            values, revision, schema = self._refused
            made = check.instance(values, revision)
            if isinstance(made, ModelError):
                fields = (made.namespace, made.config, made.path, made.rule, made.problem)
                return ModelError(*fields, model=made.model, detail=STORED)
            try:
                if schema is None:  # refused by a schema while bind() waited: the one now
                    stored = self._store.read(check.namespace, [], screen=False)
                    schema = stored.schemas.get(check.config)
                schemas.check(check.namespace, check.config, schema, values, STORED)
            except ConfoError as exc:  # the SchemaError, or why the schema could not be read
                return exc
            return CorruptDataError(self.error or "The stored value was rejected.")
        waited = f" (waited {timeout:g} s)" if self._missing == "wait" else ""
        return ConfigurationNotFoundError(
            f"Configuration {check.config!r} of namespace {check.namespace!r} is not in the "
            f"store{waited}, so model {check.name!r} has no value. Store one first, or bind "
            "with missing='defaults' (the model's defaults until one is stored) or "
            "missing='wait'."
        )


def bind(
    model: type[BaseModel],
    *,
    namespace: str,
    config: str,
    store: Store,
    start_watch: StartWatch,
    read_again: Callable[[], None],
    publish: Callable[[JSONObject], None] | None,
    missing: str,
    timeout: float | None,
) -> Binding[Any]:
    """A running :class:`Binding` of ``config`` to ``model``, a model :func:`checked_model`
    took (see ``Namespace.bind``)."""
    if missing not in MISSING_CHOICES:
        raise InvalidValueError(
            f"bind(missing={missing!r}) is not one of {', '.join(map(repr, MISSING_CHOICES))}: "
            "'error' raises if the configuration is not stored, 'defaults' uses the model's "
            "defaults until it is, 'wait' waits for it."
        )
    wait = DEFAULT_WAIT if timeout is None else timeout
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait < 1e6:
        raise InvalidValueError(f"bind(timeout={timeout!r}) must be a number of seconds >= 0.")
    check = ModelCheck(model, namespace, config)
    defaults = _defaults(check) if missing == "defaults" else None
    if publish is not None:
        publish(json_schema(model))
    binding: Binding[Any] = Binding(check, store, read_again, missing, defaults)
    binding._start(start_watch, float(wait))
    return binding


def _defaults(check: ModelCheck) -> Any:
    made = check.make({})
    if isinstance(made, ModelError):
        raise InvalidModelError(
            f"bind(missing='defaults') needs a default for every field of model "
            f"{check.name!r}; {made.path.lstrip('/') or 'a field'!r} has none. Give it one, or "
            "bind with missing='error' or missing='wait'."
        )
    return made
