"""Commands that only read: ls, get, export, diff."""

from __future__ import annotations

import os

import click

from confo_cli import arguments, failures
from confo_cli.app import App
from confo_cli.dumps import Dump, differences, read_dump, restrict, write_dump
from confo_cli.failures import Failure


@click.command("ls")
@arguments.url
@arguments.namespace(required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the names as one JSON array.")
@click.pass_obj
def ls(app: App, url: str, namespace: str | None, as_json: bool) -> None:
    """List the namespaces of a store, or the configurations of NAMESPACE.

    One name per line in a pipe; a table on a terminal (with each configuration's number of
    fields and revision).

    \b
    Examples:
      confo ls redis://127.0.0.1:6379
      confo ls file:./configs prod --json | jq length
    """
    with app.store(url) as store:
        if namespace is None:
            names = store.namespaces()
            headers: tuple[str, ...] = ("namespace",)
            rows: list[tuple[object, ...]] = [(name,) for name in names]
        else:
            handle = store.handle(namespace)
            configs = handle.get_all()
            names = sorted(configs)
            headers = ("configuration", "fields", "revision")
            rows = [(name, len(configs[name]), handle.revision(name)) for name in names]
    if as_json:
        app.out.json(names)
    else:
        app.out.table(headers, rows)


@click.command("get")
@arguments.url
@arguments.namespace()
@arguments.config()
@click.argument("field", required=False)
@click.option(
    "--revision",
    "show_revision",
    is_flag=True,
    help="Print the configuration's revision instead (for set --if-revision).",
)
@click.pass_obj
def get(
    app: App, *, url: str, namespace: str, config: str, field: str | None, show_revision: bool
) -> None:
    """Print configuration CONFIG of NAMESPACE, or one FIELD of it, as JSON.

    \b
    Examples:
      confo get redis://127.0.0.1:6379 prod database
      confo get etcd://127.0.0.1:2379 prod database port
    """
    with app.store(url) as store:
        handle = store.handle(namespace)
        value = store.configuration(handle, config)
        if field is not None:
            value = handle.get(config, field)
        revision = handle.revision(config)
    if show_revision:
        app.out.lines([str(revision)])
    else:
        app.out.json(value)


@click.command("export")
@arguments.url
@click.argument("namespaces", nargs=-1)
@click.option(
    "-o", "--output", metavar="FILE", help="Write to FILE (replaced whole) instead of stdout."
)
@click.pass_obj
def export(app: App, url: str, namespaces: tuple[str, ...], output: str | None) -> None:
    """Print every namespace of a store (or only NAMESPACES) as one JSON document:
    {"namespace": {"configuration": {...}}}. confo import reads it back.

    \b
    Examples:
      confo export redis://127.0.0.1:6379 -o backup.json
      confo export file:./configs prod | jq '.prod.database'
    """
    with app.store(url) as store:
        names = store.namespaces(namespaces)
        with app.out.progress(len(names), "exporting") as progress:
            dump = store.export(names, progress)
    write_dump(dump, output)


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.argument("namespaces", nargs=-1)
@click.pass_context
def diff(ctx: click.Context, a: str, b: str, namespaces: tuple[str, ...]) -> None:
    """Compare two stores, two export files, or one of each (all namespaces, or NAMESPACES).

    Prints a unified diff per configuration that differs (fields in any order count as equal)
    and exits 0 when A and B are equal, 1 when they differ, as diff(1) does. Passwords:
    CONFO_A_PASSWORD and CONFO_B_PASSWORD, else CONFO_PASSWORD.

    \b
    Examples:
      confo diff etcd://127.0.0.1:2379 backup.json prod
      confo diff redis://staging:6379 redis://prod:6379 && echo same
    """
    app: App = ctx.obj
    left = _side(app, a, namespaces, "CONFO_A_PASSWORD")
    right = _side(app, b, namespaces, "CONFO_B_PASSWORD")
    absent = [name for name in namespaces if name not in left and name not in right]
    if absent:
        raise Failure(f"Namespace {absent[0]!r} is in neither {a!r} nor {b!r}.")
    lines = list(differences(left, right, ("a", "b")))
    app.out.diff(lines)
    ctx.exit(failures.DIFFERENT if lines else failures.OK)


def _side(app: App, source: str, namespaces: tuple[str, ...], password_variable: str) -> Dump:
    """An export file (or ``-``), else a store URL."""
    if source == "-" or os.path.isfile(source):
        return restrict(read_dump(source), namespaces)
    if ":" not in source:
        raise Failure(
            f"{source!r} is neither an export file nor a store URL (such as file:./configs or "
            "redis://127.0.0.1:6379)."
        )
    with app.store(source, password_variable) as store:
        return store.export(store.namespaces(namespaces, missing_ok=True))
