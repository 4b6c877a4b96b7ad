"""The one rule for names, shared by every backend.

A namespace or configuration name becomes a folder, a file, a znode or a key. Whatever would be
unsafe in any of them is refused here, before anything is written; a backend adds its own rules
through the ``confo_check_name`` hook (Redis refuses ``-`` in namespace names, for instance).
"""

from __future__ import annotations

import re
from typing import Literal

from confo.errors import InvalidNameError

NameKind = Literal["namespace", "configuration", "backend"]

MAX_NAME_LENGTH = 200
"""Long enough for any real name, short enough for a file name of 255 bytes on every system."""

# C0 and C1 control characters, DEL, the path separators of every platform, and lone
# surrogates (no store can hold them: UTF-8 cannot encode them).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f/\\\\\ud800-\udfff]")


def check_name(kind: NameKind, name: object) -> str:
    """Return ``name`` if it is safe to store as a ``kind`` name, else raise InvalidNameError."""
    if not isinstance(name, str):
        raise InvalidNameError(
            f"The {kind} name must be a string, not {type(name).__name__} ({name!r})."
        )
    problem = _problem(name)
    if problem:
        raise InvalidNameError(f"Invalid {kind} name {name!r}: {problem}.")
    return name


def is_valid(name: str) -> bool:
    """Whether ``name`` passes the shared rules: for skipping foreign entries found in a store."""
    return _problem(name) is None


def _problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if name in (".", ".."):
        return "'.' and '..' are reserved by file systems and ZooKeeper"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
    if name != name.strip():
        return "it starts or ends with whitespace; remove it"
    bad = _FORBIDDEN.search(name)
    if bad:
        return (
            f"it contains {bad.group()!r} (U+{ord(bad.group()):04X}); names may not hold '/', "
            "'\\', control characters or lone surrogates"
        )
    return None
