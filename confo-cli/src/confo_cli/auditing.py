"""Commands on a namespace's history: history, show, rollback (docs/cli.md, "History")."""

from __future__ import annotations

from collections.abc import Iterator

import click

from confo.history import ChangeRecord, describe
from confo_cli import arguments
from confo_cli.app import App
from confo_cli.dumps import config_diff


@click.command("history")
@arguments.url
@arguments.namespace()
@arguments.config(required=False)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the records as one JSON array.")
@click.pass_obj
def history(  # noqa: PLR0917 (click passes the arguments by name)
    app: App, url: str, namespace: str, config: str | None, limit: int, as_json: bool
) -> None:
    """List the change records of NAMESPACE (only those touching CONFIG), newest first.

    A table on a terminal (id, time, author, message, configurations); one id per line in a
    pipe; with --json, every record whole, with each configuration's before and after.

    \b
    Examples:
      confo history redis://127.0.0.1:6379 prod
      confo history file:./configs prod database --limit 5 --json | jq '.[0].author'
    """
    with app.store(url) as store:
        records = store.handle(namespace).history(config, limit)
    if as_json:
        app.out.json(describe(records))
        return
    app.out.table(
        ("id", "time", "author", "message", "configurations"),
        [
            (
                record.id,
                record.time.isoformat(timespec="seconds"),
                record.author,
                record.message or "",
                ", ".join(
                    [*sorted(record.changes), *(f"{n} (schema)" for n in sorted(record.schemas))]
                ),
            )
            for record in records
        ],
    )


@click.command("show")
@arguments.url
@arguments.namespace()
@click.argument("record_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@click.pass_obj
def show(app: App, url: str, namespace: str, record_id: str, as_json: bool) -> None:
    """Show change record ID of NAMESPACE: who, when, why, and each configuration's diff.

    \b
    Examples:
      confo show etcd://127.0.0.1:2379 prod 00000000000000000042
    """
    with app.store(url) as store:
        record = store.handle(namespace).record(record_id)
    if as_json:
        app.out.json(describe([record])[0])
        return
    app.out.diff(_diff(namespace, record))


@click.command("rollback")
@arguments.url
@arguments.namespace()
@click.argument("record_id", metavar="ID")
@arguments.config(required=False)
@click.option("--dry-run", is_flag=True, help="Only print what the rollback would change.")
@arguments.message
@click.pass_obj
def rollback(  # noqa: PLR0917 (click passes the arguments by name)
    app: App,
    url: str,
    namespace: str,
    record_id: str,
    config: str | None,
    dry_run: bool,
    message: str | None,
) -> None:
    """Put NAMESPACE (or only CONFIG) back as it was right after change record ID.

    Configurations changed since get the value they had then; those created since are
    deleted. Written only if nobody changes them meanwhile (retried if someone does), and
    recorded itself ("rollback to ID" unless -m). --dry-run prints the diff and writes nothing.

    \b
    Examples:
      confo rollback redis://127.0.0.1:6379 prod 000001733140800123-0000000000 --dry-run
      confo rollback file:./configs prod 000000000007 database -m "pool size typo"
    """
    with app.store(url) as store:
        record = store.handle(namespace).rollback(
            record_id, config, message=message, dry_run=dry_run
        )
    if record is None:
        app.out.note(f"nothing to roll back: {namespace} is as it was after {record_id}")
        return
    if dry_run:
        app.out.diff(_diff(namespace, record))
        return
    app.out.note(f"rolled {namespace} back to {record_id} (record {record.id})")


def _diff(namespace: str, record: ChangeRecord) -> Iterator[str]:
    """A header, then each configuration's unified diff from before to after."""
    when = record.time.isoformat(timespec="seconds")
    yield f"# record {record.id or '(not written)'} by {record.author} at {when}\n"
    if record.message:
        yield f"# {record.message}\n"
    for name, sides in sorted(record.changes.items()):
        yield from config_diff(f"{namespace}/{name}", sides["before"], sides["after"], ("a", "b"))
    for name, sides in sorted(record.schemas.items()):
        where = f"{namespace}/{name} (schema)"
        yield from config_diff(where, sides["before"], sides["after"], ("a", "b"))
