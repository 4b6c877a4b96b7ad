"""Commands that write: set, rm, import, cp. Each is conflict-safe: nothing read before someone
else's change is written over it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import click

from confo.errors import FieldNotFoundError, NamespaceNotFoundError
from confo.values import JSONObject
from confo_cli import arguments, failures, values
from confo_cli.app import App
from confo_cli.dumps import Dump, config_diff, read_dump
from confo_cli.failures import Failure
from confo_cli.output import Progress
from confo_cli.stores import Plan, Store, missing_folder


@click.command("set")
@arguments.url
@arguments.namespace()
@arguments.config()
@click.argument("field")
@click.argument("value")
@click.option("-s", "--string", "as_string", is_flag=True, help="Store VALUE as a string as is.")
@click.option(
    "--if-revision",
    metavar="REV",
    help="Write only if the configuration is still at revision REV (from get --revision).",
)
@arguments.message
@click.pass_obj
def set_(
    app: App,
    *,
    url: str,
    namespace: str,
    config: str,
    field: str,
    value: str,
    as_string: bool,
    if_revision: str | None,
    message: str | None,
) -> None:
    """Set FIELD of configuration CONFIG in NAMESPACE to VALUE.

    VALUE is read as JSON when it parses (5432, true, null, [1, 2], {"a": 1}), else taken as a
    string; a word Python or YAML reads as a boolean or null (False, yes, off, None, ~) is
    stored as a string too, with a warning: write false or null, or pass --string. A VALUE
    that opens a JSON object or array and does not parse is refused (--string stores it). The
    namespace and the configuration are created if missing. Other fields are kept, and a
    change someone else makes meanwhile is never overwritten: the field is set on the latest
    stored value (or, with --if-revision, not at all if that changed).

    \b
    Examples:
      confo set redis://127.0.0.1:6379 prod database port 5433
      confo set file:./configs prod database host db.internal
      confo set etcd://127.0.0.1:2379 prod flags beta true --if-revision 42
    """
    what = f"field {field!r} of {namespace}/{config}"
    with app.store(url) as store:
        schema = None if as_string else _schema_if_any(store, config, namespace)
        if as_string:
            parsed: Any = value
        elif schema is None:
            parsed = values.parse(value)
        else:
            parsed = values.by_schema(value, schema, field, what)
        store.confo.create_namespace(namespace)  # once VALUE is known good: nothing made else
        if if_revision is None:
            store.confo.update(
                config, lambda current: {**current, field: parsed}, namespace, message=message
            )
        else:
            _set_if_revision(store, namespace, config, {field: parsed}, if_revision, message)
    app.out.note(f"set {field!r} of {namespace}/{config}")
    if not as_string and schema is None:
        values.warn_if_misread(f"{field!r} of {namespace}/{config}", value, parsed)


def _set_if_revision(  # noqa: PLR0917 (one call site, in order)
    store: Store,
    namespace: str,
    config: str,
    fields: JSONObject,
    expected: str,
    message: str | None,
) -> None:
    handle = store.confo.namespace(namespace)
    current = handle.revision(config)
    if current is None or str(current) != expected:
        at = "does not exist" if current is None else f"is at revision {current}"
        raise Failure(
            f"{namespace}/{config} {at} in the store, not revision {expected}: nothing was "
            "written. Read it again (confo get --revision) and retry.",
            failures.CONFLICT,
        )
    for field, value in fields.items():
        handle.set(config, field, value)
    handle.persist(config, message=message)


def _schema_if_any(store: Store, config: str, namespace: str) -> JSONObject | None:
    try:
        return store.confo.get_schema(config, namespace)
    except NamespaceNotFoundError:
        return None  # a namespace set makes: no schema yet


def _confirm_namespace_delete(store: Store, namespace: str) -> None:
    """Ask for the namespace's name on a terminal; refuse elsewhere (a script says --yes).

    :raises Failure: not confirmed; nothing deleted.
    """
    count = len(store.handle(namespace).get_all())
    what = f"namespace {namespace!r} ({count} configurations) and its history"
    if not sys.stdin.isatty():
        raise Failure(
            f"Not deleted: deleting {what} cannot be undone, so it takes --yes here (no "
            f"terminal to ask on). A copy first: confo export URL {namespace} > backup.json"
        )
    typed = click.prompt(
        f"Delete {what}? No rollback brings it back. Type {namespace} to confirm",
        default="",
        show_default=False,
        err=True,
    )
    if typed.strip() != namespace:
        raise Failure(f"Not deleted: {typed.strip()!r} is not {namespace!r}.")


@click.command("rm")
@arguments.url
@arguments.namespace()
@arguments.config(required=False)
@click.argument("field", required=False)
@arguments.message
@click.option(
    "-y", "--yes", is_flag=True, help="Delete a whole NAMESPACE without asking (for scripts)."
)
@click.pass_obj
def rm(  # noqa: PLR0917 (click passes the arguments by name)
    app: App,
    url: str,
    namespace: str,
    config: str | None,
    field: str | None,
    message: str | None,
    yes: bool,
) -> None:
    """Delete NAMESPACE with all its configurations, or configuration CONFIG, or one FIELD.

    A whole namespace goes with its history, so no rollback brings it back: on a terminal
    you type its name to confirm; elsewhere, pass --yes. A configuration changed by someone
    else since this command read it is not deleted (exit status 4); a field is removed from
    the latest stored value.

    \b
    Examples:
      confo rm redis://127.0.0.1:6379 staging --yes
      confo rm file:./configs prod database
      confo rm etcd://127.0.0.1:2379 prod database password
    """
    with app.store(url) as store:
        if config is None:
            if not yes:
                _confirm_namespace_delete(store, namespace)
            try:
                store.confo.delete_namespace(namespace)
            except NamespaceNotFoundError:
                raise store.no_namespace(namespace) from None
            app.out.note(f"deleted namespace {namespace}")
            return
        handle = store.handle(namespace)
        store.configuration(handle, config)
        if field is None:
            handle.delete(config)
            handle.persist(config, message=message)
            app.out.note(f"deleted {namespace}/{config}")
            return
        handle.get(config, field)  # a missing field: its own error, naming the fields there

        def without(current: JSONObject) -> JSONObject:
            if field not in current:  # removed by someone else meanwhile (or the whole of it)
                raise FieldNotFoundError(f"{namespace}/{config} has no field {field!r} any more.")
            return {name: value for name, value in current.items() if name != field}

        handle.update(config, without, message=message)
    app.out.note(f"deleted {field!r} of {namespace}/{config}")


@click.command("import")
@arguments.url
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
@click.option(
    "--prune", is_flag=True, help="Also delete configurations FILE lacks, in its namespaces."
)
@arguments.message
@click.pass_obj
def import_(  # noqa: PLR0917 (click passes the arguments by name)
    app: App, url: str, file: str, dry_run: bool, prune: bool, message: str | None
) -> None:
    """Write an export FILE (- for stdin) into a store: create and update configurations so
    that each namespace in FILE holds what FILE holds.

    Each namespace is written at once, and not at all if someone changed one of its
    configurations meanwhile. The folder of a file: URL is created if missing. --dry-run
    writes nothing: it prints each change (create, update, delete NAMESPACE/CONFIG) with its
    diff, as confo diff prints one (store/: what the store holds, file/: what FILE holds), and
    a summary.

    \b
    Examples:
      confo import redis://127.0.0.1:6379 backup.json --dry-run
      confo export file:./configs | confo import etcd://127.0.0.1:2379 -
    """
    dump = read_dump(file)
    with app.out.progress(len(dump), "importing") as progress:
        plan = _write(app, url, (), dump, progress, prune=prune, dry_run=dry_run, message=message)
    _report(app, plan, dry_run, ("store", "file"))


@click.command("cp")
@click.argument("src")
@click.argument("dst")
@click.argument("namespaces", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Only print what would change in DST.")
@click.option("--prune", is_flag=True, help="Also delete configurations of DST that SRC lacks.")
@arguments.message
@click.pass_obj
def cp(
    app: App,
    *,
    src: str,
    dst: str,
    namespaces: tuple[str, ...],
    dry_run: bool,
    prune: bool,
    message: str | None,
) -> None:
    """Copy every namespace (or NAMESPACES) from store SRC to store DST, of any two kinds.

    The configurations are written to DST whatever DST holds for them, as cp(1) replaces files;
    other configurations of DST are kept. With --prune, DST is read first, configurations SRC
    lacks are deleted, and each namespace is written only if nobody changed it meanwhile (as
    import does). A file: DST is created if missing (parents too); SRC must exist. Passwords:
    CONFO_SRC_PASSWORD and CONFO_DST_PASSWORD, else CONFO_PASSWORD.

    \b
    Examples:
      confo cp etcd://127.0.0.1:2379 redis://127.0.0.1:6379
      confo cp zookeeper://127.0.0.1:2181 file:./backup prod billing
    """
    with app.store(src, "CONFO_SRC_PASSWORD") as source:
        chosen = source.namespaces(namespaces)
        with app.out.progress(len(chosen), "reading") as progress:
            dump = source.export(chosen, progress)
    password_variables = ("CONFO_DST_PASSWORD",)
    with app.out.progress(len(dump), "writing") as progress:
        if prune or dry_run:
            plan = _write(
                app,
                dst,
                password_variables,
                dump,
                progress,
                prune=prune,
                dry_run=dry_run,
                message=message,
            )
            _report(app, plan, dry_run, ("dst", "src"))
            return
        with app.destination(dst, *password_variables) as target:
            copied = target.copy(dump, progress, message=message)
    app.out.note(f"copied {copied} configurations")


def _write(
    app: App,
    url: str,
    password_variables: tuple[str, ...],
    dump: Dump,
    progress: Progress,
    *,
    prune: bool,
    dry_run: bool,
    message: str | None,
) -> Plan:
    """Write ``dump`` into the store ``url`` as import does; with ``dry_run``, only plan it."""
    if dry_run and missing_folder(url) is not None:
        return Plan.into_empty(dump)  # the folder a real run would create holds nothing yet
    with app.destination(url, *password_variables) as store:
        return store.write(dump, progress, prune=prune, dry_run=dry_run, message=message)


def _report(app: App, plan: Plan, dry_run: bool, labels: tuple[str, str]) -> None:
    """A note of what was done; for a dry run, what would change, diffed as ``confo diff``
    would diff the store (label ``labels[0]``) and what is written (``labels[1]``)."""
    if not dry_run:
        app.out.note(plan.summary(done=True))
        return
    app.out.diff([*_changes(plan, labels), plan.summary(done=False) + "\n"])


def _changes(plan: Plan, labels: tuple[str, str]) -> Iterator[str]:
    for part in plan.namespaces:
        if part.new:
            yield f"create namespace {part.name}\n"
        for change in part.changes:
            path = f"{part.name}/{change.name}"
            yield f"{change.verb} {path}\n"
            yield from config_diff(path, change.before, change.after, labels)
