"""The handle through which one namespace is read and edited.

Edits stay in memory until ``persist``. A persist sends only the configurations changed since
they were read or written, each conditional on the store still holding the revision this manager
last saw (see :mod:`confo.model`): two processes that edit different configurations of one
namespace do not touch each other's work, and two that edit the same one get a ConflictError
rather than losing an edit. The state itself lives in :mod:`confo.session`.

A write whose answer is lost (the connection cut after the store applied it) leaves its outcome
unknown; the state records what was sent, and the next persist first reads those configurations:
if the store holds exactly what was sent, the write was this manager's, and it goes on with no
false conflict. While the store still holds what the lost write expected, the write may yet land
(a request stuck on a frozen path): a conflict on such a configuration settles it again.
"""

from __future__ import annotations

import inspect
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from confo import binding, history, recording, schemas
from confo.aliases import MISSING
from confo.errors import (
    BackendUnavailableError,
    ConfigurationNotFoundError,
    ConflictError,
    ConfoError,
    FieldNotFoundError,
    InvalidValueError,
    PartialWriteError,
    PluginError,
    SchemaUnavailableError,
    StoreOfflineError,
)
from confo.history import ChangeRecord
from confo.listener import Callback, Seeded, Watching
from confo.model import Changes, Revision, Snapshot, WriteResult
from confo.session import BackendSession, NamespaceState
from confo.values import JSONObject, checked_copy, checked_object, copy_json
from confo.watch import Watch, WatchEvent

if TYPE_CHECKING:
    from pydantic import BaseModel

    from confo.binding import Binding

    M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

PERSIST_ATTEMPTS = 3
"""How often ``persist`` writes before it gives up: again after a lost write's answer is
settled, or after the namespace's schemas changed (checked against them first)."""
UPDATE_ATTEMPTS = 50
"""How often ``update`` tries before giving up on a configuration others keep changing."""
BACKOFF_BASE = 0.002
BACKOFF_CAP = 0.25


class Namespace:
    """Reads and edits one namespace without touching the manager's current namespace.

    Get one with ``Confo.namespace(name)``; it shares its in-memory state with
    ``use_namespace(name)`` on the same manager. Safe to use from several threads.
    """

    def __init__(self, session: BackendSession, watching: Watching, name: str) -> None:
        self._session = session
        self._watching = watching
        self._lock = session.lock
        self.name = name

    def __repr__(self) -> str:
        return f"<Namespace {self.name!r} of backend {self._session.store.name!r}>"

    def get(self, config: str, field: str | None = None, default: Any = MISSING) -> Any:
        """Return a copy of configuration ``config``, or of one of its fields.

        :raises ConfigurationNotFoundError: (a KeyError) no such configuration, and no default.
        :raises FieldNotFoundError: (a KeyError) no such field, and no default.
        """
        with self._lock:  # the hot path: one lock, no I/O, once the namespace is held
            state = self._session.states.get(self.name)
            if state is not None:
                return self._lookup(state.configs, config, field, default)
        state = self._session.load(self.name)
        with self._lock:
            return self._lookup(state.configs, config, field, default)

    def _lookup(
        self, configs: dict[str, JSONObject], config: str, field: str | None, default: Any
    ) -> Any:
        values = configs.get(config)
        if values is None:
            if default is not MISSING:
                return default
            raise ConfigurationNotFoundError(self._no_config(config, configs))
        if field is None:
            return copy_json(values)
        if field in values:
            return copy_json(values[field])
        if default is not MISSING:
            return default
        raise FieldNotFoundError(
            f"Configuration {config!r} in namespace {self.name!r} has no field {field!r} "
            f"(it has: {', '.join(map(repr, values)) or 'no fields'})."
        )

    def get_all(self) -> dict[str, JSONObject]:
        """Return a copy of every configuration in the namespace, by name."""
        state = self._session.load(self.name)
        with self._lock:
            return {name: copy_json(values) for name, values in state.configs.items()}

    def set(self, config: str, field: str | JSONObject, value: Any = MISSING) -> None:
        """Set one field (``field`` a str) or the whole configuration (``field`` a dict, ``value``
        None). In memory only, until ``persist``.

        :raises InvalidNameError: the configuration name cannot be stored.
        :raises InvalidValueError: the value is not something JSON can hold, or a validating
            plugin (``confo_validate``) refused the configuration; nothing is changed.
        """
        name = self._session.store.check_name("configuration", config)
        if isinstance(field, str) and value is MISSING:
            raise InvalidValueError(
                f"set({name!r}, {field!r}) gives no value for field {field!r}: write "
                f"set({name!r}, {field!r}, value) (None stores JSON null), or set({name!r}, "
                "{...}) for a whole configuration."
            )
        if isinstance(field, str):
            update = {field: checked_copy(value, f"field {field!r} of configuration {name!r}")}
        elif isinstance(field, dict) and (value is None or value is MISSING):
            update = checked_object(field, f"configuration {name!r}")
        else:
            raise InvalidValueError(
                f"set({name!r}, field, value) takes a field name (str) and its value, or a "
                f"whole configuration (dict) with value None; got a field of type "
                f"{type(field).__name__}."
            )
        state = self._session.load(self.name)
        with self._lock:
            state = self._session.keep(self.name, state)
            merged = {**state.configs.get(name, {}), **update} if isinstance(field, str) else update
            self._session.store.validate(self.name, name, merged)
            state.check(name, merged)
            state.replace(name, merged)

    def delete(self, config: str, field: str | None = None) -> None:
        """Delete a configuration, or one of its fields. In memory only, until ``persist``.

        :raises ConfigurationNotFoundError: no such configuration.
        :raises FieldNotFoundError: no such field.
        """
        state = self._session.load(self.name)
        with self._lock:
            state = self._session.keep(self.name, state)
            values = state.configs.get(config)
            if values is None:
                raise ConfigurationNotFoundError(self._no_config(config, state.configs))
            if field is None:
                state.remove(config)
                return
            if field not in values:
                raise FieldNotFoundError(
                    f"Configuration {config!r} in namespace {self.name!r} has no field {field!r}."
                )
            remaining = {k: v for k, v in values.items() if k != field}
            self._session.store.validate(self.name, config, remaining)
            state.check(config, remaining)
            state.replace(config, remaining)

    def persist(
        self, config: str | None = None, *, force: bool = False, message: str | None = None
    ) -> None:
        """Write what changed in memory (or only ``config``) to the store.

        Conditional: a configuration changed in the store since this manager read it is not
        overwritten. ``force=True`` writes regardless (last writer wins). Where the store keeps
        history, the change is recorded with this manager's ``author`` and ``message``.

        :raises ConflictError: configurations changed elsewhere (named, also in ``.configs``);
            nothing of this namespace was written and the edits are kept.
        """
        state = self._session.load(self.name)
        with self._session.ordered(self.name):  # persists reach the store in the order taken
            with self._lock:
                if config is not None and not state.holds(config):
                    raise ConfigurationNotFoundError(self._no_config(config, state.configs))
                changes = state.changes(config, force=force)
                unsure = [name for name in (*changes.put, *changes.delete) if name in state.unsure]
            if unsure:  # an earlier write's answer was lost: did it land?
                self._settle(state, unsure)
                changes = self._changes(state, config, force)
            for attempt in range(PERSIST_ATTEMPTS):
                if not changes:
                    return
                guarded = self._checked(state, changes)
                try:
                    result = self._write(state, self._recorded(state, guarded, message))
                    break
                except ConflictError as exc:
                    with self._lock:
                        late = [name for name in exc.configs if name in state.unsure]
                    if (not late and not exc.schemas) or attempt == PERSIST_ATTEMPTS - 1:
                        raise
                    if late:
                        self._settle(state, late)  # the lost write landed after all?
                    if exc.schemas:
                        self._read_schemas(state)  # changed since read: check against them
                    changes = self._changes(state, config, force)
            with self._lock:
                state.written(changes, result.revisions, changes.delete)
            self._session.remember(self.name)

    def _checked(self, state: NamespaceState, changes: Changes) -> Changes:
        """``changes`` checked against the schemas held, and conditional on them where the
        store keeps schemas (a schema changed meanwhile fails the write, to be checked again).

        :raises SchemaError: a value fails its schema; nothing is written.
        """
        with self._lock:
            state.check_changes(changes)
        self._session.store.check_locally(self.name, changes.put)
        return self._guarded(changes, state.rules.revision)

    def _guarded(self, changes: Changes, schemas_revision: Revision | None) -> Changes:
        if not self._session.store.keeps_schemas:
            return changes
        return replace(changes, check_schemas=True, schemas_expected=schemas_revision)

    def _read_schemas(self, state: NamespaceState | None = None) -> Snapshot:
        """The namespace's schemas as stored now (into ``state``, if given)."""
        snapshot = self._session.store.read(self.name, [], screen=False, missing_ok=True)
        if state is not None:
            with self._lock:
                state.take_schemas(snapshot)
        return snapshot

    def _recorded(self, state: NamespaceState, changes: Changes, message: str | None) -> Changes:
        """``changes`` with their change record, if the store keeps history. A conditional
        write's "before" is what this manager read (the write proves the store still holds it);
        a forced one's is read just before the write (a change landing in between is missed)."""
        store = self._session.store
        if not store.keeps_history:
            return changes
        if changes.force:
            # A forced write may make the namespace: missing, it held nothing before.
            names = [*changes.put, *changes.delete]
            snapshot = store.read(self.name, names, screen=False, missing_ok=True)
            diff = history.diff(snapshot.configs, changes.put, changes.delete)
        else:
            with self._lock:
                diff = state.diff(changes)
        return recording.with_record(
            store, changes, diff, author=self._session.author(), message=message
        )

    def _changes(self, state: NamespaceState, config: str | None, force: bool) -> Changes:
        with self._lock:
            return state.changes(config, force=force)

    def _write(self, state: NamespaceState, changes: Changes) -> WriteResult:
        """Write ``changes``; record how far a split write got, and a write whose answer was
        lost as unsure, for the next persist to settle."""
        try:
            return self._session.store.write(self.name, changes)
        except PartialWriteError as exc:
            with self._lock:
                state.written(changes, exc.written, exc.deleted)
                state.sent_unknown(changes, {*exc.written, *exc.deleted})
            raise
        except StoreOfflineError:
            raise  # refused before anything was sent: nothing is unsure
        except BackendUnavailableError:
            with self._lock:
                state.sent_unknown(changes)
            raise

    def _settle(self, state: NamespaceState, names: list[str]) -> None:
        """Read ``names`` and settle their unsure writes (see :meth:`NamespaceState.resolve`)."""
        snapshot = self._session.store.read(self.name, names, screen=False)
        with self._lock:
            state.resolve(snapshot, names)

    def update(
        self,
        config: str,
        fn: Callable[[JSONObject], JSONObject],
        *,
        attempts: int | None = None,
        message: str | None = None,
    ) -> JSONObject:
        """Read ``config`` fresh from the store, apply ``fn``, and write the result if nobody
        changed it meanwhile; on a conflict, read again and retry (with jittered back-off).

        ``fn`` gets a copy of the stored configuration (``{}`` if there is none) and returns the
        new one; it may run several times, so it should not have side effects. The in-memory
        view holds the result afterwards (unsaved edits of that configuration are replaced).

        :returns: a copy of what was written.
        :raises ConflictError: still conflicting after ``attempts`` tries.
        :raises InvalidValueError: ``fn`` returned something that is not a JSON object.
        """
        name = self._session.store.check_name("configuration", config)
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise InvalidValueError(
                f"update() of {name!r} got {fn.__name__!r}, a coroutine function: the sync "
                "manager cannot await it. Use confo.aio.AsyncConfo.update, or a plain function."
            )

        def attempt() -> Changes:
            snapshot = self.read_for_update(name)
            new = fn(copy_json(snapshot.configs.get(name, {})))
            return self.update_changes(name, snapshot, new, message)

        # A lost answer is not recorded as unsure: update() claims nothing of the view until it
        # knows, and the next update() reads what the store holds anyway.
        done = self._until_written("update", [name], attempts, attempt)
        assert done is not None  # an update always has something to write
        return self.updated(*done)

    # update() in steps, for a caller that computes the new value elsewhere (confo.aio awaits
    # a coroutine between them, on its event loop, with no thread held meanwhile).

    def read_for_update(self, config: str) -> Snapshot:
        """``config`` as stored now, unscreened (``fn`` may mend a value its schema refuses)."""
        return self._session.store.read(self.name, [config], screen=False)

    def update_changes(
        self, config: str, snapshot: Snapshot, new: object, message: str | None
    ) -> Changes:
        """The conditional, recorded write of ``new`` over what ``snapshot`` read.

        :raises InvalidValueError, SchemaError: ``new`` may not be written; nothing is.
        """
        store = self._session.store
        checked = checked_object(new, f"configuration {config!r} from update()")
        store.validate(self.name, config, checked)
        schemas.check(self.name, config, snapshot.schemas.get(config), checked)
        return recording.with_record(
            store,
            self._guarded(
                Changes({config: checked}, set(), {config: snapshot.revisions.get(config)}),
                snapshot.schemas_revision,
            ),
            history.diff(snapshot.configs, {config: checked}, ()),
            author=self._session.author(),
            message=message,
        )

    def write_changes(self, changes: Changes) -> WriteResult:
        """Write what :meth:`update_changes` built. :raises ConflictError: changed meanwhile."""
        return self._session.store.write(self.name, changes)

    def updated(self, changes: Changes, result: WriteResult) -> JSONObject:
        """Take a written update into the view; a copy of the value written."""
        self._absorb(changes, result)
        (name,) = changes.put
        written: JSONObject = copy_json(changes.put[name])
        return written

    def write(
        self,
        configs: Mapping[str, JSONObject],
        *,
        force: bool = False,
        message: str | None = None,
    ) -> None:
        """Write whole configurations to the store now, without reading the namespace first:
        for bulk copies and loads, where reading would cost as much as writing. Creates the
        namespace if it is missing; a view of it held here follows.

        Each configuration must not exist in the store yet, unless ``force``: then it is
        replaced whatever it holds (last writer wins; its unsaved edits here are dropped).

        :raises ConflictError: without ``force``, some exist already (named); nothing written.
        """
        store = self._session.store
        checked = {
            store.check_name("configuration", name): checked_object(
                config, f"configuration {name!r}"
            )
            for name, config in configs.items()
        }
        for name, config in checked.items():
            store.validate(self.name, name, config)
        changes = Changes(checked, set(), dict.fromkeys(checked), force=force)
        with self._session.ordered(self.name):
            # Checked against the schemas held here, or none if the namespace is not held:
            # the write is conditional on them, and a namespace with other schemas refuses
            # it, to be checked again against those (nothing is read when there are none).
            with self._lock:
                held = self._session.held(self.name)
                known = Snapshot() if held is None else _schemas_of(held)
            for attempt in range(PERSIST_ATTEMPTS):
                scratch = NamespaceState(known, self.name)
                scratch.check_changes(changes)
                guarded = self._guarded(changes, known.schemas_revision)
                try:
                    # Nothing was read: each "before" is absence (the write requires it), or
                    # read just before a forced write.
                    result = store.write(self.name, self._recorded(scratch, guarded, message))
                    break
                except ConflictError as exc:
                    if exc.configs or not exc.schemas or attempt == PERSIST_ATTEMPTS - 1:
                        raise
                    known = self._read_schemas()
            with self._lock:
                state = self._session.held(self.name)
                if state is not None:
                    for name, config in checked.items():
                        state.absorb(name, config, result.revisions[name])
                    state.take_schemas(known)
            self._session.remember(self.name)

    def history(self, config: str | None = None, limit: int = 50) -> list[ChangeRecord]:
        """The newest ``limit`` change records of this namespace (only those touching
        ``config``, if given), newest first.

        :raises HistoryUnavailableError: the backend keeps no history (or ``history_limit=0``).
        :raises InvalidValueError: ``limit`` is not a positive integer.
        """
        return recording.read(self._session.store, self.name, config, limit)

    def record(self, record_id: str) -> ChangeRecord:
        """The change record ``record_id`` of this namespace's history.

        :raises RecordNotFoundError: no such record (unknown, or pruned).
        """
        return recording.down_to(self._session.store, self.name, record_id)[-1]

    def rollback(
        self,
        to: str,
        config: str | None = None,
        *,
        message: str | None = None,
        attempts: int | None = None,
        dry_run: bool = False,
    ) -> ChangeRecord | None:
        """Write back what the namespace (or only ``config``) held right after record ``to``:
        every configuration changed since gets the value it had then, and one created since is
        deleted. Conditional, as :meth:`update` is: read fresh, written only if nobody changed
        them meanwhile, retried on a conflict. Recorded itself (``message`` defaults to
        ``rollback to <to>``); unsaved edits of the configurations it writes are replaced.

        :returns: the rollback's own record; None if nothing had changed since ``to``. With
            ``dry_run``, nothing is written: the record it would write, with an empty ``id``.
        :raises RecordNotFoundError: no record ``to`` in the history (unknown, or pruned).
        :raises ConflictError: others kept changing them through ``attempts`` tries.
        """
        store = self._session.store
        if config is not None:
            config = store.check_name("configuration", config)
        records = recording.down_to(store, self.name, to)
        target = history.state_after(to, records, config)
        text = f"rollback to {to}" if message is None else message

        def attempt() -> Changes | None:
            snapshot = store.read(self.name, list(target), screen=False)
            changes = _rollback_changes(target, snapshot)
            if not changes:
                return None
            for name, values in changes.put.items():
                schemas.check(
                    self.name, name, snapshot.schemas.get(name), values, _refused_back(to)
                )
            store.check_locally(self.name, changes.put)
            diff = history.diff(snapshot.configs, changes.put, changes.delete)
            return recording.with_record(
                store,
                self._guarded(changes, snapshot.schemas_revision),
                diff,
                author=self._session.author(),
                message=text,
            )

        if dry_run:
            planned = attempt()
            return None if planned is None or planned.record is None else planned.record.stored("")
        done = self._until_written("rollback", sorted(target), attempts, attempt)
        if done is None:
            return None
        changes, result = done
        self._absorb(changes, result)
        if changes.record is None or not result.records:
            return None
        return changes.record.stored(result.records[-1])

    def get_schema(self, config: str) -> JSONObject | None:
        """The JSON Schema the store holds for ``config`` (read now); None if it has none."""
        return self.get_schemas().get(config)

    def get_schemas(self) -> dict[str, JSONObject]:
        """Every JSON Schema the store holds in this namespace, by configuration (read now, in
        one read); configurations without one are absent."""
        snapshot = self._read_schemas(self._session.held(self.name))
        return {config: copy_json(schema) for config, schema in snapshot.schemas.items()}

    def set_schema(
        self,
        config: str,
        schema: JSONObject | None,
        *,
        message: str | None = None,
        attempts: int | None = None,
    ) -> None:
        """Store ``schema`` (a JSON Schema, draft 2020-12) as the rule every writer of
        ``config`` obeys; None removes it. Conditional (retried on a conflict, as
        :meth:`update` is) and recorded in the history.

        :raises InvalidSchemaError: not a schema Confo can enforce (says why); nothing stored.
        :raises SchemaError: the value stored now fails the new schema; nothing stored.
        :raises SchemaUnavailableError: the backend keeps no schemas.
        """
        store = self._session.store
        name = store.check_name("configuration", config)
        if not store.keeps_schemas:
            raise SchemaUnavailableError(
                f"The {store.backend_type!r} backend keeps no schemas (its capabilities say "
                "schemas=False); a confo_validate plugin can check values in this process."
            )
        new = None if schema is None else schemas.check_schema(schema, self._where(name))

        def attempt() -> Changes | None:
            snapshot = store.read(self.name, [name], screen=False)
            old = snapshot.schemas.get(name)
            if old == new:
                return None
            stored = snapshot.configs.get(name)
            if new is not None and stored is not None:
                schemas.check(self.name, name, new, stored, " as stored now, under the new schema")
            document = {n: s for n, s in snapshot.schemas.items() if n != name}
            if new is not None:
                document[name] = new
            # Conditional on the value just checked too: one written meanwhile (valid under the
            # old schema) is checked again, rather than left in the store failing the new one.
            guarded = Changes(
                expected={name: snapshot.revisions.get(name)},
                schemas=document,
                check_schemas=True,
                schemas_expected=snapshot.schemas_revision,
            )
            return recording.with_record(
                store,
                guarded,
                {},
                author=self._session.author(),
                message=message,
                schemas={name: {"before": old, "after": new}},
            )

        done = self._until_written("set_schema", [name], attempts, attempt)
        if done is None:
            return
        changes, result = done
        with self._lock:
            state = self._session.held(self.name)
            if state is not None:
                state.take_schemas(
                    Snapshot(
                        schemas=changes.schemas or {}, schemas_revision=result.schemas_revision
                    )
                )

    def rejected(self) -> dict[str, str]:
        """The configurations whose stored value fails its schema, each with the error: the
        view keeps their last valid value (or none) until the store holds a valid one."""
        state = self._session.load(self.name)
        with self._lock:
            return {name: error for name, (_, error) in state.rejected.items()}

    def _where(self, config: str) -> str:
        return f"configuration {config!r} of namespace {self.name!r}"

    def _until_written(
        self,
        what: str,
        names: list[str],
        attempts: int | None,
        attempt: Callable[[], Changes | None],
    ) -> tuple[Changes, WriteResult] | None:
        """Read fresh, build and write conditionally, until no one else wrote meanwhile: what
        update(), rollback() and set_schema() share. ``attempt`` reads and returns what to
        write (None: nothing to write, and None is returned); after a conflict, a
        jittered pause and again, ``attempts`` times at most (UPDATE_ATTEMPTS)."""
        tries = UPDATE_ATTEMPTS if attempts is None else attempts
        for number in range(tries):
            changes = attempt()
            if changes is None:
                return None
            try:
                return changes, self._session.store.write(self.name, changes)
            except ConflictError:
                _back_off(number)
        raise ConflictError(self.name, names, f" ({what}() gave up after {tries} tries)")

    def _absorb(self, changes: Changes, result: WriteResult) -> None:
        """Take what a write outside persist left in the store into the view held here."""
        with self._lock:
            state = self._session.held(self.name)
            if state is None:
                return
            for name, values in changes.put.items():
                state.absorb(name, values, result.revisions[name])
            for name in changes.delete:
                state.absorb_deleted(name)
        self._session.remember(self.name)

    def reload(self) -> None:
        """Replace the in-memory view with what the store holds now; unsaved edits are lost.

        :raises StoreOfflineError: the backend was loaded offline and has not reconnected;
            the view keeps what it holds.
        """
        state = self._session.load(self.name)
        with self._session.ordered(self.name):  # never between a write and its bookkeeping
            began = time.time()
            snapshot = self._session.store.read(self.name)
            with self._lock:
                state.reset(snapshot, began)
        self._session.remember(self.name)

    def watch(self, callback: Callable[[WatchEvent], object]) -> Watch:
        """Call ``callback`` on a background thread with a :class:`~confo.watch.WatchEvent` for
        every change of a configuration of this namespace in the store, and keep this manager's
        view of it current (configurations with unsaved edits keep them). ``stop()`` the result,
        or use it as a context manager.

        :raises PluginError: the backend cannot watch.
        """
        self._can_watch()
        return Watch(self._watching, self.name, callback)

    def bind(
        self,
        model: type[M],
        config: str,
        *,
        publish_schema: bool = False,
        missing: binding.Missing = "error",
        timeout: float | None = None,
    ) -> Binding[M]:
        """``config`` read into ``model`` (a pydantic model class) and kept current by a watch:
        see :mod:`confo.binding`. ``publish_schema`` stores the model's JSON Schema as the
        configuration's schema first. A configuration not in the store raises (``missing=
        "error"``), gives the model's defaults until one is stored (``"defaults"``), or is
        waited for, up to ``timeout`` seconds (``"wait"``, 10 s unless given).

        :raises ExtraNotInstalledError: pydantic is not installed (``confo-core[pydantic]``).
        :raises InvalidModelError: ``model`` is not a pydantic model class.
        :raises ModelError: the stored value does not fit the model (says where and why).
        :raises SchemaError: it fails its stored schema, or (``publish_schema``) the model's.
        :raises ConfigurationNotFoundError: ``config`` is not in the store (see ``missing``).
        """
        checked = binding.checked_model(model)  # first: bind("db", Model) is told the order
        name = self._session.store.check_name("configuration", config)
        self._can_watch()
        self._session.load(self.name)  # a namespace the store lacks: NamespaceNotFoundError
        publish = None
        if publish_schema:

            def publish(schema: JSONObject) -> None:
                message = f"schema of model {model.__name__} published by bind()"
                self.set_schema(name, schema, message=message)

        def start_watch(callback: Callback, on_seed: Seeded) -> Watch:
            return Watch(self._watching, self.name, callback, on_seed)

        def read_again() -> None:
            self._read_again(name)

        return binding.bind(
            checked,
            namespace=self.name,
            config=name,
            store=self._session.store,
            start_watch=start_watch,
            read_again=read_again,
            publish=publish,
            missing=missing,
            timeout=timeout,
        )

    def _read_again(self, config: str) -> None:
        """A model that refused ``config``'s stored value no longer holds: the view and every
        watch read it again, so that a value only that model refused is taken in."""
        if self._watching.read_again(self.name, [config]):
            return  # a watch of the namespace reads it, and brings it into the view too
        with self._lock:
            state = self._session.states.get(self.name)
            if state is None or config not in state.rejected:
                return
        try:
            with self._session.ordered(self.name):
                snapshot = self._session.store.read(self.name, [config])
                self._session.merge_pushed(self.name, snapshot, [config])
        except ConfoError as exc:  # the next read of it takes it in; closing must not fail
            log.debug("reading %r again after a binding closed failed: %s", config, exc)

    def _can_watch(self) -> None:
        store = self._session.store
        if not store.can_watch:
            raise PluginError(
                f"The {store.backend_type!r} backend cannot watch: it implements no confo_watch "
                "hook. reload() reads what the store holds now."
            )

    def revision(self, config: str) -> Revision | None:
        """The store's revision of ``config`` as this manager last read or wrote it; None for a
        configuration it has not seen in the store (new, or unknown). A ``persist`` of ``config``
        succeeds only while the store still holds this revision.
        """
        state = self._session.load(self.name)
        with self._lock:
            return state.revisions.get(config)

    def has_unsaved_changes(self) -> bool:
        """Whether anything was set or deleted in memory and not yet persisted."""
        with self._lock:
            state = self._session.held(self.name)
            return bool(state and state.has_unsaved_changes())

    def _no_config(self, config: str, configs: dict[str, JSONObject]) -> str:
        known = ", ".join(map(repr, sorted(configs))) or "none"
        return (
            f"Namespace {self.name!r} has no configuration {config!r} (it has: {known}). "
            "Set it first, or reload() if another process persisted it."
        )


def _rollback_changes(target: dict[str, JSONObject | None], snapshot: Snapshot) -> Changes:
    """What brings the store from ``snapshot`` to ``target``, conditional on its revisions."""
    put = {
        name: copy_json(values)
        for name, values in target.items()
        if values is not None and snapshot.configs.get(name) != values
    }
    delete = {
        name for name, values in target.items() if values is None and name in snapshot.configs
    }
    expected = {name: snapshot.revisions.get(name) for name in [*put, *delete]}
    return Changes(put, delete, expected)


def _schemas_of(state: NamespaceState) -> Snapshot:
    return Snapshot(schemas=state.rules.schemas, schemas_revision=state.rules.revision)


def _refused_back(to: str) -> str:
    return (
        f" as it was after record {to} (its schema now refuses that value; rollback wrote nothing)"
    )


def back_off_delay(attempt: int) -> float:
    """After a conflict: a jittered pause, doubling with each attempt up to BACKOFF_CAP."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    return random.uniform(0, delay)  # noqa: S311 (jitter, not cryptography)


def _back_off(attempt: int) -> None:
    time.sleep(back_off_delay(attempt))
