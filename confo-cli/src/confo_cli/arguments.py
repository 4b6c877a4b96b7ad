"""Arguments shared by the commands, with shell completion of namespaces and configurations.

Completion reads the store named by the URL already typed (within a short timeout) and offers
what is there; if the store cannot be reached it offers nothing rather than failing the shell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from confo_cli.stores import opened

F = TypeVar("F", bound=Callable[..., Any])

COMPLETION_TIMEOUT = 2.0


def _namespaces(ctx: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    url = ctx.params.get("url")
    try:
        with opened(str(url), COMPLETION_TIMEOUT) as store:
            names = store.namespaces()
    except Exception:  # completion must never break the shell
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def _configurations(
    ctx: click.Context, _: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    url, namespace = ctx.params.get("url"), ctx.params.get("namespace")
    try:
        with opened(str(url), COMPLETION_TIMEOUT) as store:
            names = sorted(store.read(str(namespace)))
    except Exception:  # completion must never break the shell
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def message(function: F) -> F:
    """``-m/--message``: why, kept in the change record of what the command writes."""
    return click.option(
        "-m", "--message", help="Why: kept with the change in the history (confo history)."
    )(function)


def url(function: F) -> F:
    return click.argument("url")(function)


def namespace(*, required: bool = True) -> Callable[[F], F]:
    return click.argument("namespace", required=required, shell_complete=_namespaces)


def config(*, required: bool = True) -> Callable[[F], F]:
    return click.argument("config", required=required, shell_complete=_configurations)
