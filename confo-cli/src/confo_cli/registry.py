"""The subcommands of ``confo``: click commands named by entry points of group ``confo.commands``.

A distribution adds a command (``confo web`` from confo-web, say) by declaring one, with nothing
edited here; confo-cli declares its own commands the same way, in its pyproject.toml::

    [project.entry-points."confo.commands"]
    web = "confo_web.cli:web"

The entry point's name is the command's name, as with Flask's ``flask.commands``, so a command is
imported only when it is asked for: ``confo get`` imports the reading commands and nothing else,
and a broken third-party command harms no other. It is skipped with one warning line when
``--help`` lists it or someone runs it (quietly when the shell completes a word), rather than on
every run, as loading every entry point up front would do (and make each run pay for every
installed command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

from confo_cli.output import warn

GROUP = "confo.commands"
OWN_DISTRIBUTION = "confo-cli"


class Registry(click.Group):
    """A click group whose commands are the entry points of :data:`GROUP`, loaded on first use.

    :param points: the entry points to use instead of the installed ones (for tests).
    """

    def __init__(self, *args: Any, points: Iterable[EntryPoint] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._points = None if points is None else by_name(points)
        self._broken: set[str] = set()  # warned about once, then left alone

    def points(self) -> dict[str, list[EntryPoint]]:
        if self._points is None:
            self._points = by_name(entry_points(group=GROUP))
        return self._points

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted((self.commands.keys() | self.points().keys()) - self._broken)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name in self._broken:
            return self.commands.get(cmd_name)
        found = self.points().get(cmd_name)
        # Completing (resilient parsing): a warning would land in the middle of the prompt.
        say = _ignore if ctx.resilient_parsing else warn
        command = None if found is None else load(_first(found, say), say)
        if command is None:
            self._broken.add(cmd_name)
            return None
        self.add_command(command, cmd_name)
        return command


def by_name(points: Iterable[EntryPoint]) -> dict[str, list[EntryPoint]]:
    """The entry points of each command name, confo-cli's own first."""
    found: dict[str, list[EntryPoint]] = {}
    for point in sorted(points, key=lambda point: _distribution(point) != OWN_DISTRIBUTION):
        found.setdefault(point.name, []).append(point)
    return found


def _first(points: list[EntryPoint], say: Callable[[str], None] = warn) -> EntryPoint:
    """The first entry point of a name; the others are skipped with a warning: which one won
    would otherwise depend on the order of sys.path, and a distribution could replace
    ``confo set`` unnoticed."""
    first, *others = points
    for other in others:
        if other.value != first.value:  # the same one found twice is no clash
            say(
                f"command {other.name!r} of {_origin(other)} skipped: {_origin(first)} has a "
                "command of that name."
            )
    return first


def load(point: EntryPoint, say: Callable[[str], None] = warn) -> click.Command | None:
    """The click command ``point`` names, or None (said in one warning line) if it is broken."""
    try:
        command = point.load()
    except Exception as exc:  # any error of a third-party import: the other commands go on
        say(
            f"command {point.name!r} of {_origin(point)} skipped: it failed to load "
            f"({type(exc).__name__}: {exc})."
        )
        return None
    if not isinstance(command, click.Command):
        say(
            f"command {point.name!r} of {_origin(point)} skipped: it is an "
            f"object of type {type(command).__name__!r}, not a click command."
        )
        return None
    return command


def _ignore(_: str) -> None:
    pass


def _distribution(point: EntryPoint) -> str | None:
    return None if point.dist is None else point.dist.name.lower().replace("_", "-")


def _origin(point: EntryPoint) -> str:
    """Where an entry point comes from, for a warning: its distribution and object."""
    name = _distribution(point)
    return point.value if name is None else f"{name} ({point.value})"
