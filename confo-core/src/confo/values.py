"""JSON values: checking what goes in, copying what comes out, decoding what the store holds.

Shared by the manager and every backend so that "what a configuration may hold" and "what counts
as corrupt data in a store" have one definition.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any, NoReturn

import orjson

from confo.aliases import JSONObject
from confo.errors import CorruptDataError, InvalidValueError

__all__ = ["JSONObject", "checked_copy", "checked_object", "copy_json", "decode", "encode"]

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
    if isinstance(value, str):
        if not value.isascii():
            _check_text(value, where, path)
        return value
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and not math.isfinite(value):
            _reject(where, path, f"{value!r} is not a JSON number")
        if isinstance(value, int) and value.bit_length() > _SAFE_INT_BITS:
            _check_int(value, where, path)
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
            if not key.isascii():
                _check_text(key, where, path, "key ")
            copy[key] = _checked_copy(item, where, (*path, key))
        return copy
    if isinstance(value, (list, tuple)):
        return [_checked_copy(item, where, (*path, str(i))) for i, item in enumerate(value)]
    return _reject(where, path, f"a {type(value).__name__} cannot be stored as JSON")


# Below this many bits an int has fewer decimal digits than any limit Python sets on converting
# ints to text (sys.set_int_max_str_digits: 640 at least), so only larger ones need converting.
_SAFE_INT_BITS = 2000


def _check_int(value: int, where: str, path: tuple[str, ...]) -> None:
    """An int Python cannot write as JSON text, or read back (over 4300 digits by default)."""
    try:
        str(value)
    except ValueError:
        limit = sys.get_int_max_str_digits()
        _reject(
            where,
            path,
            f"an int of {value.bit_length():,} bits has over {limit} digits, more than Python "
            "reads back from JSON",
            "Store it as a string.",
        )


def _check_text(text: str, where: str, path: tuple[str, ...], what: str = "") -> None:
    """A string UTF-8 cannot encode: one holding a lone surrogate (such as ``"\\ud800"``)."""
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        bad = ord(text[exc.start])
        _reject(
            where,
            path,
            f"the {what}string {text[:40]!r} holds a lone surrogate (U+{bad:04X}), which UTF-8 "
            "cannot encode",
            "Decode text with errors='replace', or store binary data as base64.",
        )


_TYPES_ADVICE = "Use str, int, float, bool, None, lists and dicts with string keys."


def _reject(
    where: str, path: tuple[str, ...], problem: str, advice: str = _TYPES_ADVICE
) -> NoReturn:
    at = "".join(f"[{p!r}]" for p in path)
    raise InvalidValueError(f"Cannot store {where}{at}: {problem}. {advice}")


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


def encode_compact(value: JSONObject) -> bytes:
    """What ``encode(value)`` writes, possibly formatted apart (a float's exponent), through
    orjson where it can: for Confo's own documents (change records), which only Confo reads
    and which hold every value twice. orjson refuses ints beyond 64 bits; json writes them."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return encode(value)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number (and set() refuses it)")


# Python's json reads NaN and Infinity, which are not JSON; one decoder refusing them, made
# once (json.loads with a hook would build a decoder per call).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
# A \uD800-\uDFFF escape: the only way JSON text can carry a lone surrogate. Pairs (emoji
# written by ensure_ascii writers) match too, and are told apart by looking at the result.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def decode(raw: bytes | str | None, where: str, *, empty: JSONObject | None = None) -> JSONObject:
    """Decode a stored configuration, or raise CorruptDataError naming ``where``.

    What it returns is what ``set`` would accept: not JSON (NaN, Infinity), nesting beyond
    Python's recursion limit, ints over its digit limit, invalid UTF-8 and lone surrogates are
    corrupt data, so a configuration read can always be written back as it was.

    ``empty`` is returned for empty data when a backend treats that as an empty configuration
    (an empty znode reads as ``{}``, as the original Confo did).
    """
    if not raw and empty is not None:
        return empty
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw or b""
    value = _fast(data)
    if value is None:
        value = _strict(data, where)
    if not isinstance(value, dict):
        raise CorruptDataError(
            f"{where} holds JSON {type(value).__name__}, not an object. A configuration is a JSON "
            "object; fix or remove it. Confo left it as it is."
        )
    return value


# orjson reads an integer beyond 64 bits as a float (losing digits), where json keeps it an int:
# a float that large in what orjson read may have been one, and such data goes the strict way
# (a genuine float that large too; it only costs time). Walking the result costs less than
# searching the text for long runs of digits (0.9 against 2 µs for a 200-byte configuration).
_LOSSY = float(2**63)


def _fast(data: bytes) -> Any:
    """orjson's reading (several times faster than json's), or None where it refuses the data
    or could read it otherwise than json: then :func:`_strict` says why, or reads it."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:  # NaN, a lone surrogate, a BOM, too deep: the strict way
        return None
    if not isinstance(value, dict) or _may_have_lost_digits(value):
        return None
    return value


def _may_have_lost_digits(value: JSONObject) -> bool:
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is float and (item >= _LOSSY or item <= -_LOSSY):
            return True
    return False


def _strict(data: bytes, where: str) -> Any:
    """The standard library's reading, which names what is wrong."""
    try:
        value = _DECODER.decode(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        problem = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise CorruptDataError(
            f"{where} does not hold valid JSON ({problem}). Fix or remove it; Confo left it as "
            "it is."
        ) from None
    if isinstance(value, dict) and _SURROGATE_ESCAPE.search(data) and _holds_lone_surrogate(value):
        raise CorruptDataError(
            f"{where} holds a string with a lone surrogate escape (\\ud800-\\udfff), which "
            "no UTF-8 text can hold. Fix or remove it; Confo left it as it is."
        )
    return value


def _holds_lone_surrogate(value: Any) -> bool:
    """Whether a string anywhere in ``value`` holds a lone surrogate; a walk without recursion,
    as what the decoder took may nest deeper than Python's recursion limit allows here."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
