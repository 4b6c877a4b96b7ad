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
from collections.abc import Collection
from typing import Any
from urllib.parse import unquote

from confo.values import JSONObject

SECRET_WORDS = frozenset(
    {
        *("password", "passwd", "passphrase", "pwd", "pw", "secret", "token", "key", "apikey"),
        *("sshkey", "credential", "private", "auth", "dsn", "bearer", "cookie"),
    }
)
MASK = "••••••••"
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# The password of a URL's user part (postgres://app:PASSWORD@db/x), in a field of any name:
# a database URL is as secret as a password field, whatever the field is called. It runs to
# the last "@" of the URL, as confo.urls reads it (a password may hold "@" or "/"): at worst
# more is masked, never less. The scheme starts where no scheme character precedes it (not
# at every one inside a long word: that made the search quadratic), the password is bounded.
_URL_PASSWORD = re.compile(
    r"(?i)((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^\s:/@]*:)(\S{1,1024}?)(@)(?=[^\s@]*(?:\s|$))"
)


def is_secret(name: str) -> bool:
    """Whether a field of this name holds a secret (plurals too: ``api_keys``, ``secrets``)."""
    words = [word.lower() for word in _WORDS.findall(name)]
    return any(word in SECRET_WORDS or word.removesuffix("s") in SECRET_WORDS for word in words)


def masked(value: Any) -> Any:
    """``value`` with the value of every secret field, at any depth, replaced by the mask, and
    the password of every URL in a text (``scheme://user:PASSWORD@host``) too."""
    if isinstance(value, dict):
        return {k: MASK if is_secret(str(k)) else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", value)
    return value


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs in ``text``."""
    return [found[2] for found in _URL_PASSWORD.finditer(text)]


def unmasked(new: Any, stored: Any) -> Any:
    """``new`` (an edit of ``masked(stored)``) with each mask left in a secret field replaced
    by the stored value there (see :func:`_restored` for lists).

    :raises MaskError: a mask where nothing is stored (a field renamed or new: type a value).
    """
    return _restored(new, stored, masked(stored), ())


VALUE_KEYWORDS = frozenset({"const", "default", "enum", "examples", "example"})
"""The JSON Schema keywords (and OpenAPI's ``example``) that hold values, which may be a
secret field's."""
_NAMED_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
"""Keywords whose keys name subschemas: a property (or definition) named like a secret is."""
_REFS = frozenset({"$ref", "$dynamicRef"})
_ANCHORS = frozenset({"$anchor", "$dynamicAnchor"})
Place = tuple[str, ...]
"""Where a subschema is in its schema: the keys (list indexes as digits) down to it."""


def masked_schema(schema: Any) -> Any:
    """``schema`` with every value it holds for a secret field masked: the ``const``,
    ``default``, ``enum`` and ``examples`` of a subschema under a secret-named property (or of
    any subschema such a property refers to with a local ``$ref``: a JSON Pointer such as
    ``#/$defs/Pass`` or ``#/properties/other``, or an ``$anchor``), and the secret fields of any
    value those keywords hold elsewhere. Types, lengths and patterns stay readable: they say
    what a secret must look like (a ``pattern`` may still spell one out: keep secrets out of
    patterns)."""
    return _masked_schema(schema, False, _secret_places(schema), ())


def _masked_schema(schema: Any, secret: bool, places: frozenset[Place], at: Place) -> Any:
    secret = secret or at in places
    if isinstance(schema, list):
        return [_masked_schema(s, secret, places, (*at, str(i))) for i, s in enumerate(schema)]
    if not isinstance(schema, dict):
        return schema
    shown: dict[str, Any] = {}
    for key, value in schema.items():
        where = (*at, key)
        if key in VALUE_KEYWORDS:
            shown[key] = MASK if secret or where in places else masked(value)
        elif key in _NAMED_MAPS and isinstance(value, dict):
            shown[key] = {
                name: _masked_schema(sub, secret or is_secret(str(name)), places, (*where, name))
                for name, sub in value.items()
            }
        else:
            shown[key] = _masked_schema(value, secret, places, where)
    return shown


def _secret_places(schema: Any) -> frozenset[Place]:
    """The places a secret property's subschema refers to, directly or through what those
    refer to in turn."""
    anchors = _anchors(schema, ())
    found: set[Place] = set()
    pending = _refs(schema, False)
    while pending:
        place = _place(pending.pop(), anchors)
        if place is None or place in found:
            continue
        found.add(place)
        target = _at(schema, place)
        if target is not None:
            pending |= _refs(target, True)
    return frozenset(found)


def _refs(schema: Any, secret: bool) -> set[str]:
    """The local references ``schema`` makes from where a secret is held (definitions too:
    one nobody refers to holds nothing that counts, and masking it costs nothing)."""
    if isinstance(schema, list):
        return set().union(*(_refs(item, secret) for item in schema))
    if not isinstance(schema, dict):
        return set()
    found: set[str] = set()
    for key, value in schema.items():
        if key in _REFS:
            if secret and isinstance(value, str) and value.startswith("#"):
                found.add(value)
        elif key in _NAMED_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                found |= _refs(sub, secret or is_secret(str(name)))
        elif key not in VALUE_KEYWORDS:  # values, not subschemas
            found |= _refs(value, secret)
    return found


def _anchors(schema: Any, at: Place) -> dict[str, Place]:
    if isinstance(schema, list):
        return {k: v for i, s in enumerate(schema) for k, v in _anchors(s, (*at, str(i))).items()}
    if not isinstance(schema, dict):
        return {}
    found = {name: at for key in _ANCHORS if isinstance(name := schema.get(key), str)}
    for key, value in schema.items():
        if key not in VALUE_KEYWORDS:
            found |= _anchors(value, (*at, key))
    return found


def _place(ref: str, anchors: dict[str, Place]) -> Place | None:
    """Where a local reference (``#``, ``#/a/b``, ``#name``) points; None: nowhere known."""
    fragment = unquote(ref[1:])
    if not fragment.startswith("/"):
        return () if not fragment else anchors.get(fragment)
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in fragment[1:].split("/"))


def _at(schema: Any, place: Place) -> Any:
    for step in place:
        if isinstance(schema, dict) and step in schema:
            schema = schema[step]
        elif isinstance(schema, list) and step.isdigit() and int(step) < len(schema):
            schema = schema[int(step)]
        else:
            return None
    return schema


def unmasked_schema(new: Any, stored: Any) -> Any:
    """``new`` (an edit of ``masked_schema(stored)``) with each mask left where that showed
    one replaced by what ``stored`` holds there.

    :raises MaskError: a mask where the stored schema showed none (type the value).
    """
    return _restored(new, stored, masked_schema(stored), ())


def _restored(new: Any, stored: Any, shown: Any, path: tuple[str, ...]) -> Any:
    """``new`` with each mask replaced by ``stored``'s value where ``shown`` (``stored`` as
    the page showed it) has the mask at the same place. An item of a list is matched to the
    stored item the page showed exactly so (at its own index first), so that reordering or
    deleting items never hands one item's secret to another. An item edited besides keeps
    the secret of its place only when nothing else in the list changed: once items moved,
    came or went, its place may have been another item's.

    :raises MaskError: a mask with nothing to restore, or several stored items it may be.
    """
    if isinstance(new, str) and MASK in new:
        if isinstance(shown, str) and new == shown:  # left as shown: what is stored there
            return stored
        raise MaskError(path)  # a new place, or a URL edited around its masked password
    if isinstance(new, dict):
        old, seen = (v if isinstance(v, dict) else {} for v in (stored, shown))
        return {k: _restored(v, old.get(k), seen.get(k), (*path, str(k))) for k, v in new.items()}
    if isinstance(new, list):
        old_items = stored if isinstance(stored, list) else []
        seen_items = shown if isinstance(shown, list) else []
        result = []
        for i, item in enumerate(new):
            j = _matching(new, i, seen_items)
            old_item, seen_item = (old_items[j], seen_items[j]) if j is not None else (None, None)
            result.append(_restored(item, old_item, seen_item, (*path, str(i))))
        return result
    return new


def _matching(new: list[Any], i: int, shown: list[Any]) -> int | None:
    """The index of the stored item that ``new[i]`` is (see :func:`_restored`); None: none."""
    item = new[i]
    if not _holds_mask(item):
        return None
    alike = [j for j, candidate in enumerate(shown) if candidate == item]
    same_length = len(new) == len(shown)
    if i in alike and same_length:
        return i
    if len(alike) == 1:
        j = alike[0]
        # The item shown at j still stands at j: this one was edited into its twin (or
        # copied), and which secret it is meant to have is unknown.
        claimed = j != i and j < len(new) and new[j] == shown[j]
        return None if claimed else j
    if alike:
        return None  # several stored items the page showed alike: which is unknown
    # Edited: the item of its place only if the rest of the list is as shown.
    return i if same_length and all(new[k] == shown[k] for k in range(len(new)) if k != i) else None


def _holds_mask(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_mask(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_mask(v) for v in value)
    return isinstance(value, str) and MASK in value


def redacted(message: str, *values: Any, secrets: Collection[Any] = ()) -> str:
    """``message`` with the value of every secret field of ``values``, and each of
    ``secrets`` (secret whole: see :func:`schema_secrets`), masked: an error about a value
    (a schema's) must not show a secret the page never showed."""
    found = [form for value in values for form in _secrets(value)]
    found += _secrets(list(secrets), inside=True) if secrets else []
    for secret in sorted(set(found), key=len, reverse=True):  # the longest first: no partials
        if secret:
            message = message.replace(secret, MASK)
    return message


def schema_secrets(schema: Any) -> list[Any]:
    """The values :func:`masked_schema` hides in ``schema``: a schema's error ("not one of
    [...]") may quote them."""
    return _hidden(schema, masked_schema(schema))


def _hidden(stored: Any, shown: Any) -> list[Any]:
    if isinstance(shown, str) and shown == MASK:
        return [] if isinstance(stored, str) and stored == MASK else [stored]
    if isinstance(shown, str) and MASK in shown and isinstance(stored, str):
        return url_passwords(stored)
    if isinstance(shown, dict) and isinstance(stored, dict):
        return [v for k in shown for v in _hidden(stored.get(k), shown[k])]
    if isinstance(shown, list) and isinstance(stored, list):
        return [v for old, new in zip(stored, shown, strict=False) for v in _hidden(old, new)]
    return []


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
    elif isinstance(value, str):
        found += url_passwords(value)
    return found


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
            f"The field {'.'.join(path)!r} holds the mask {MASK!r}, but the page showed no "
            "secret there to keep as it is (a field renamed or new, or a URL edited around its "
            "masked password): type the value whole."
        )
