"""JSON values: checking what goes in, copying what comes out, decoding what the store holds.

Shared by the manager and every backend so that "what a configuration may hold" and "what counts
as corrupt data in a store" have one definition.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

from confo.errors import CorruptDataError, InvalidValueError

JSONObject = dict[str, Any]

_SCALARS = (str, int, float, bool, type(None))


def checked_copy(value: object, where: str) -> Any:
    """Return a deep copy of ``value`` as plain JSON types, or raise InvalidValueError.

    Done when a value is set, so that a value JSON cannot hold fails at ``set`` and not at
    ``persist``, and so that later changes to the caller's object do not leak into Confo.
    Tuples become lists, as they would after a round trip through the store. ``where`` names
    the value in the error (``"field 'port' of configuration 'db'"``).
    """
    return _checked_copy(value, where, ())


def _checked_copy(value: object, where: str, path: tuple[str, ...]) -> Any:
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and not math.isfinite(value):
            _reject(where, path, f"{value!r} is not a JSON number")
        return value
    if len(path) > 200:
        _reject(where, path, "it nests more than 200 levels deep (or refers to itself)")
    if isinstance(value, dict):
        copy = {}
        for key, item in value.items():
            if not isinstance(key, str):
                _reject(
                    where, path, f"key {key!r} is a {type(key).__name__}; JSON keys are strings"
                )
            copy[key] = _checked_copy(item, where, (*path, key))
        return copy
    if isinstance(value, (list, tuple)):
        return [_checked_copy(item, where, (*path, str(i))) for i, item in enumerate(value)]
    return _reject(where, path, f"a {type(value).__name__} cannot be stored as JSON")


def _reject(where: str, path: tuple[str, ...], problem: str) -> NoReturn:
    at = "".join(f"[{p!r}]" for p in path)
    raise InvalidValueError(
        f"Cannot store {where}{at}: {problem}. "
        "Use str, int, float, bool, None, lists and dicts with string keys."
    )


def checked_object(value: object, where: str) -> JSONObject:
    """Like :func:`checked_copy`, for a whole configuration, which must be a JSON object."""
    if not isinstance(value, dict):
        raise InvalidValueError(
            f"Cannot store {where}: a configuration is a dict (a JSON object), "
            f"not {type(value).__name__}."
        )
    copied: JSONObject = checked_copy(value, where)
    return copied


def copy_json(value: Any) -> Any:
    """Deep-copy a value made only of JSON types; faster than ``copy.deepcopy`` for them."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def encode(config: JSONObject, *, indent: int | None = None) -> bytes:
    """The bytes every backend stores for a configuration: UTF-8 JSON."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(config, ensure_ascii=False, indent=indent, separators=separators).encode()


def decode(raw: bytes | str | None, where: str, *, empty: JSONObject | None = None) -> JSONObject:
    """Decode a stored configuration, or raise CorruptDataError naming ``where``.

    ``empty`` is returned for empty data when a backend treats that as an empty configuration
    (an empty znode reads as ``{}``, as the original Confo did).
    """
    if not raw and empty is not None:
        return empty
    try:
        value = json.loads(raw if raw is not None else "")
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptDataError(
            f"{where} does not hold valid JSON ({exc}). Fix or remove it; Confo left it as it is."
        ) from None
    if not isinstance(value, dict):
        raise CorruptDataError(
            f"{where} holds JSON {type(value).__name__}, not an object. A configuration is a JSON "
            "object; fix or remove it. Confo left it as it is."
        )
    return value
