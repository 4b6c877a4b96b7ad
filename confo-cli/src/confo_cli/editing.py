"""``confo edit``: a configuration in $EDITOR, saved only if nobody changed it meanwhile."""

from __future__ import annotations

import json
import tempfile

import click

from confo.errors import ConflictError, NamespaceNotFoundError, SchemaError
from confo.values import JSONObject
from confo_cli import arguments, failures
from confo_cli.app import App
from confo_cli.failures import Failure
from confo_cli.output import dumps
from confo_cli.stores import Store


@click.command("edit")
@arguments.url
@arguments.namespace()
@arguments.config()
@arguments.message
@click.pass_obj
def edit(app: App, url: str, namespace: str, config: str, message: str | None) -> None:
    """Open configuration CONFIG of NAMESPACE in $VISUAL or $EDITOR as JSON; save to write it.

    A new name starts from {}. The result is written only if the configuration is still as it
    was when the editor opened: if someone changed it meanwhile, nothing is written, your text
    is kept in a file (its path is printed) and the exit status is 4. Quitting without saving,
    or saving it unchanged, writes nothing.

    \b
    Examples:
      EDITOR=nano confo edit redis://127.0.0.1:6379 prod database
    """
    with app.store(url) as store:
        before = _current(store, namespace, config)
        text = click.edit(dumps(before if before is not None else {}) + "\n", extension=".json")
        if text is None:
            app.out.note("not saved: nothing written")
            return
        after = _parsed(text, namespace, config)
        if after == before:
            app.out.note("unchanged: nothing written")
            return
        try:
            _save(store, namespace, config, after, new_namespace=before is None, message=message)
        except ConflictError:
            kept = _keep(text)
            raise Failure(
                f"{namespace}/{config} changed in the store while you edited it, so nothing was "
                f"written. Your version is in {kept}: run confo edit again and merge it.",
                failures.CONFLICT,
            ) from None
        except SchemaError as exc:
            kept = _keep(text)
            raise Failure(
                f"{failures.message(exc)} Your text is in {kept}.", failures.INVALID
            ) from None
    app.out.note(f"saved {namespace}/{config}")


def _current(store: Store, namespace: str, config: str) -> JSONObject | None:
    try:
        value: JSONObject | None = store.confo.namespace(namespace).get(config, default=None)
    except NamespaceNotFoundError:
        return None
    return value


def _parsed(text: str, namespace: str, config: str) -> JSONObject:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        kept = _keep(text)
        raise Failure(
            f"Not saved: what you wrote is not JSON ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}). Your text is in {kept}."
        ) from None
    if not isinstance(value, dict):
        raise Failure(
            f"Not saved: {namespace}/{config} must be a JSON object ({{...}}), "
            f"not a {type(value).__name__}."
        )
    return value


def _save(
    store: Store,
    namespace: str,
    config: str,
    value: JSONObject,
    *,
    new_namespace: bool,
    message: str | None,
) -> None:
    if new_namespace:
        store.confo.create_namespace(namespace)
    handle = store.confo.namespace(namespace)
    handle.set(config, value)
    handle.persist(config, message=message)


def _keep(text: str) -> str:
    """Save what the user wrote, so that a refused save loses no work."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", prefix="confo-edit-", suffix=".json", delete=False
    ) as file:
        file.write(text)
    return file.name
