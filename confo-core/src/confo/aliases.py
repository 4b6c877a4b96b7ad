"""The names every layer shares. It imports nothing (not even typing: the seeds' import must
stay cheap), so any module may use it without an import circle: errors name revisions, values
and records name JSON objects."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's (see above); mypy takes any TYPE_CHECKING as true
if TYPE_CHECKING:
    from typing import Any

    JSONObject = dict[str, Any]
    MISSING: Any
else:
    JSONObject = dict  # the same thing at run time
"""A configuration: a JSON object, as Python's json module reads it."""

Revision = int | str
"""A backend's token for one stored version of one configuration. JSON-friendly on purpose: the
command line and watch events show it."""

MISSING = object()
"""Marks "not given" where None is a legitimate value (a default, a field's value)."""
