"""``confo schema``: show, set or remove the JSON Schema a configuration must match."""

from __future__ import annotations

import json
from typing import IO, Any

import click

from confo_cli import arguments
from confo_cli.app import App
from confo_cli.failures import Failure


@click.command("schema")
@arguments.url
@arguments.namespace()
@arguments.config()
@click.argument("file", required=False, type=click.File("r", encoding="utf-8"))
@click.option("--rm", "remove", is_flag=True, help="Remove the schema.")
@arguments.message
@click.pass_obj
def schema(  # noqa: PLR0917 (click passes the arguments by name)
    app: App,
    url: str,
    namespace: str,
    config: str,
    file: IO[str] | None,
    remove: bool,
    message: str | None,
) -> None:
    """Show the JSON Schema of configuration CONFIG in NAMESPACE; set it from FILE (- reads
    stdin), or remove it with --rm.

    The schema (draft 2020-12) is kept in the store: every writer then refuses a value that
    fails it (confo set, import, edit, cp, every service's set and persist), and a value
    written by another tool that fails it is kept out of every service's live view. Setting
    one is refused if the value stored now fails it. Recorded in the history.

    \b
    Examples:
      confo schema redis://127.0.0.1:6379 shop feature_flags flags.schema.json
      confo schema redis://127.0.0.1:6379 shop feature_flags
      confo schema redis://127.0.0.1:6379 shop feature_flags --rm -m "rule retired"
    """
    if file is not None and remove:
        raise Failure("Give FILE or --rm, not both.")
    given = None if file is None else _read(file)
    with app.store(url) as store:
        handle = store.handle(namespace)
        if remove:
            handle.set_schema(config, None, message=message)
            app.out.note(f"removed the schema of {namespace}/{config}")
        elif given is not None:
            handle.set_schema(config, given, message=message)
            app.out.note(f"set the schema of {namespace}/{config}")
        else:
            found = handle.get_schema(config)
            if found is None:
                app.out.note(f"{namespace}/{config} has no schema")
            else:
                app.out.json(found)


def _read(file: IO[str]) -> Any:  # set_schema says what is wrong with it
    try:
        return json.load(file)
    except json.JSONDecodeError as exc:
        raise Failure(
            f"{file.name} is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
            "nothing was changed."
        ) from None
