"""Values of fields named like secrets never reach the browser until revealed.

A field is secret when a word of its name (split at ``_``, ``-``, ``.``, spaces and camelCase)
is one of :data:`SECRET_WORDS`: ``db_password``, ``apiKey``, ``client-secret`` are; ``monkey``
and ``keyboard_layout`` are not. Its value, whatever its type, is sent as :data:`MASK`; a save
that sends the mask back keeps the stored value. Schemas are masked where they hold a secret
field's value (:func:`masked_schema`), and restored the same way on save.
"""

from __future__ import annotations

import json
import re
from typing import Any

from confo.values import JSONObject

SECRET_WORDS = frozenset(
    {
        *("password", "passwd", "passphrase", "pwd", "pw", "secret", "token", "key", "apikey"),
        *("sshkey", "credential", "private", "auth", "dsn", "bearer", "cookie"),
    }
)
MASK = "••••••••"
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_secret(name: str) -> bool:
    """Whether a field of this name holds a secret (plurals too: ``api_keys``, ``secrets``)."""
    words = [word.lower() for word in _WORDS.findall(name)]
    return any(word in SECRET_WORDS or word.removesuffix("s") in SECRET_WORDS for word in words)


def masked(value: Any) -> Any:
    """``value`` with the value of every secret field, at any depth, replaced by the mask."""
    if isinstance(value, dict):
        return {k: MASK if is_secret(str(k)) else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def unmasked(new: Any, stored: Any, path: tuple[str, ...] = ()) -> Any:
    """``new`` with each mask left in a secret field replaced by the stored value there.

    :raises MaskError: a mask where nothing is stored (a field renamed or new: type a value).
    """
    if isinstance(new, dict):
        old = stored if isinstance(stored, dict) else {}
        result = {}
        for key, value in new.items():
            if is_secret(str(key)) and value == MASK:
                if key not in old:
                    raise MaskError((*path, str(key)))
                result[key] = old[key]
            else:
                result[key] = unmasked(value, old.get(key), (*path, str(key)))
        return result
    if isinstance(new, list):
        old_items = stored if isinstance(stored, list) else []
        return [
            unmasked(item, old_items[i] if i < len(old_items) else None, (*path, str(i)))
            for i, item in enumerate(new)
        ]
    return new


VALUE_KEYWORDS = frozenset({"const", "default", "enum", "examples"})
"""The JSON Schema keywords that hold values, which may be a secret field's."""
_PROPERTY_MAPS = frozenset({"properties", "patternProperties"})


def masked_schema(schema: Any, secret: bool = False) -> Any:
    """``schema`` with every value it holds for a secret field masked: the ``const``,
    ``default``, ``enum`` and ``examples`` of a subschema under a secret-named property, and
    the secret fields of any value those keywords hold elsewhere. Types, lengths and patterns
    stay readable: they say what a secret must look like, not what it is."""
    if isinstance(schema, list):
        return [masked_schema(item, secret) for item in schema]
    if not isinstance(schema, dict):
        return schema
    shown: dict[str, Any] = {}
    for key, value in schema.items():
        if key in VALUE_KEYWORDS:
            shown[key] = MASK if secret else masked(value)
        elif key in _PROPERTY_MAPS and isinstance(value, dict):
            shown[key] = {
                name: masked_schema(sub, secret or is_secret(str(name)))
                for name, sub in value.items()
            }
        else:
            shown[key] = masked_schema(value, secret)
    return shown


def unmasked_schema(new: Any, stored: Any) -> Any:
    """``new`` (an edit of ``masked_schema(stored)``) with each mask left where that showed
    one replaced by what ``stored`` holds there.

    :raises MaskError: a mask where the stored schema showed none (type the value).
    """
    return _restored(new, stored, masked_schema(stored), ())


def _restored(new: Any, stored: Any, shown: Any, path: tuple[str, ...]) -> Any:
    if isinstance(new, str) and new == MASK:
        if isinstance(shown, str) and shown == MASK:
            return stored
        raise MaskError(path)
    if isinstance(new, dict):
        items: Any = new.items()
    elif isinstance(new, list):
        items = enumerate(new)
    else:
        return new
    restored = {
        key: _restored(value, _child(stored, key), _child(shown, key), (*path, str(key)))
        for key, value in items
    }
    return restored if isinstance(new, dict) else list(restored.values())


def _child(value: Any, key: Any) -> Any:
    """``value[key]`` where there is one (a key of a dict, an index of a list), else None."""
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list) and isinstance(key, int) and key < len(value):
        return value[key]
    return None


def redacted(message: str, *values: Any) -> str:
    """``message`` with the value of every secret field of ``values`` masked: an error about
    a value (a schema's) must not show a secret the page never showed."""
    for value in values:
        for secret in _secrets(value):
            if secret:
                message = message.replace(secret, MASK)
    return message


def _secrets(value: Any, inside: bool = False) -> list[str]:
    """Every form a secret may take in a message (text, JSON, repr), whole and leaf by leaf."""
    found: list[str] = []
    if inside:
        found += [str(value), json.dumps(value, ensure_ascii=False), repr(value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _secrets(item, inside or is_secret(str(key)))
    elif isinstance(value, list):
        for item in value:
            found += _secrets(item, inside)
    return sorted(set(found), key=len, reverse=True)  # the longest first: no partial masks


def revealed(config: JSONObject, path: list[str]) -> Any:
    """The value at ``path`` (keys, list indexes as digits) of ``config``, unmasked.

    :raises KeyError: nothing there.
    """
    value: Any = config
    for step in path:
        if isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            raise KeyError(step)
    return value


class MaskError(ValueError):
    """A save left the mask in a secret field that holds nothing to keep."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        super().__init__(
            f"The field {'.'.join(path)!r} holds the mask {MASK!r}, but nothing is stored there "
            "to keep: type its value."
        )
