"""Exit statuses, and the one line on stderr that every failure becomes.

Statuses follow diff(1) where they can: 1 means "different" (``confo diff``), so errors start at 2.
"""

from __future__ import annotations

from confo.errors import (
    BackendAuthenticationError,
    BackendUnavailableError,
    ConflictError,
    ConfoError,
    SchemaError,
)

OK = 0
DIFFERENT = 1
"""``confo diff``: the two sides differ."""
USAGE = 2
"""Bad arguments, URL, input file, name or value; or what was asked for does not exist."""
STORE = 3
"""The store could not be reached, or refused the credentials or a right."""
CONFLICT = 4
"""Someone else changed it meanwhile; nothing was written. Read again and retry."""
INVALID = 5
"""A value fails its configuration's schema; nothing was written. Fix it (confo schema shows
the rule)."""
INTERRUPTED = 130
"""Ctrl-C, as shells report it."""


class Failure(Exception):
    """A failure the command explains itself: ``message`` is printed as is."""

    def __init__(self, message: str, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code(error: ConfoError) -> int:
    if isinstance(error, ConflictError):
        return CONFLICT
    if isinstance(error, SchemaError):
        return INVALID
    if isinstance(error, (BackendUnavailableError, BackendAuthenticationError)):
        return STORE
    return USAGE


def message(error: ConfoError) -> str:
    """What to print for a Confo error: its own advice, in the command line's words where the
    library's would point at Python calls."""
    if isinstance(error, ConflictError):
        names = ", ".join(map(repr, error.configs))
        return (
            f"Conflict in namespace {error.namespace!r}: {names} changed in the store since "
            "this command read it, so nothing was written. Read it again (confo get) and retry."
        )
    if isinstance(error, SchemaError):
        return (
            f"Refused: {error.namespace}/{error.config} would not match its schema: "
            f"{error.path or '/'}: {error.problem} (rule {error.rule or '/'}). Nothing was "
            f"written. See the rule with: confo schema URL {error.namespace} {error.config}"
        )
    return " ".join(str(error).split())  # one line, whatever the message held
