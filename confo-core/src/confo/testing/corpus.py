"""The malformed-input corpus every backend faces in the conformance suite.

Each entry is ``(id, input)``: the id is the pytest parameter id (the same in every process, for
pytest-xdist) and names the case in reports. docs/hostile-input.md says how large the corpus is
and what each part must get; :func:`corpus_size` counts it.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

MUST_REFUSE_NAMES: list[tuple[str, str]] = [
    ("empty", ""),
    ("dot", "."),
    ("dotdot", ".."),
    ("slash", "a/b"),
    ("backslash", "a\\b"),
    ("tab", "tab\there"),
    ("nul", "nul\x00"),
    ("newline", "line\nbreak"),
    ("c1_control", "next\x85line"),
    ("del", "del\x7f"),
    ("leading_space", " padded"),
    ("trailing_space", "padded "),
    ("too_long", "x" * 201),
    ("lone_high_surrogate", "a\ud800b"),
    ("lone_low_surrogate", "\udfff"),
    ("not_a_string", 5),  # type: ignore[list-item]
]
"""Names no backend may take: each call that takes a name raises InvalidNameError."""

EDGE_NAMES: list[tuple[str, str]] = [
    ("mixed_scripts_emoji", "ünï-名前-😀"),
    ("cjk", "名前"),
    ("emoji", "emoji😀"),
    ("astral_max", "\U0010ffff"),
    ("noncharacter", "\uffff"),
    ("private_use", "\ue000"),
    ("bom", "\ufeffbom"),
    ("zero_width", "zero\u200bwidth"),
    ("combining", "e\u0301"),
    ("rtl", "שלום"),
    ("line_separator", "a\u2028b"),
    ("inner_space", "a b"),
    ("colon", "a:b"),
    ("glob", "a*b?[c]"),
    ("percent", "a%2Fb"),
    ("leading_dash", "-leading"),
    ("trailing_dot", "trailing."),
    ("leading_dot", ".hidden"),
    ("dots", "..."),
    ("json_suffix", "a.json"),
    ("quotes", "a'b\"c"),
    ("braces", "{json}"),
    ("digit", "0"),
    ("confo", "confo"),
    ("zookeeper", "zookeeper"),
    ("windows_reserved", "CON"),
    ("keyspace_channel", "__keyspace@0__"),
    ("longest_ascii", "x" * 200),
    ("longest_two_byte", "é" * 200),
    ("longest_emoji", "😀" * 60),
]
"""Names a backend either takes whole (created, listed, read back by another manager exactly as
given) or refuses with InvalidNameError before writing anything: never anything in between."""


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def _self_referencing() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


UNSTORABLE_VALUES: list[tuple[str, object]] = [
    ("set", {1, 2}),
    ("nan", float("nan")),
    ("infinity", float("inf")),
    ("minus_infinity", float("-inf")),
    ("object", object()),
    ("bytes", b"bytes"),
    ("bytearray", bytearray(b"x")),
    ("complex", complex(1, 2)),
    ("decimal", decimal.Decimal("1.5")),
    ("datetime", datetime.datetime(2026, 1, 1)),
    ("int_key", {1: "int key"}),
    ("none_key", {None: 1}),
    ("tuple_key", {(1, 2): 1}),
    ("int_over_digit_limit", 10**5000),
    ("negative_int_over_digit_limit", -(10**5000)),
    ("lone_surrogate", "a\ud800b"),
    ("lone_low_surrogate", "\udfff"),
    ("lone_surrogate_key", {"a\udc00": 1}),
    ("lone_surrogate_in_list", ["ok", "\ud83d"]),
    ("too_deep", _nested(300)),
    ("self_reference", _self_referencing()),
]
"""Values ``set`` refuses with InvalidValueError, leaving memory and store as they were."""

EDGE_VALUES: list[tuple[str, object]] = [
    ("int_at_digit_limit", 10**4299),
    ("big_negative_int", -(2**64)),
    ("max_float", 1.7976931348623157e308),
    ("min_subnormal", 5e-324),
    ("negative_zero", -0.0),
    ("integral_float", 1.0),
    ("nul_in_text", "a\x00b"),
    ("controls", "\x01\x1f\x7f\x85"),
    ("line_separators", "\u2028\u2029"),
    ("bom_first", "\ufeffbom"),
    ("astral", "😀 𝄞 \U0010ffff"),
    ("noncharacter", "\uffff\ufffe"),
    ("combining", "e\u0301"),
    ("escapes", "\"\\/'\b\f\n\r\t"),
    ("html", "</script><!--"),
    ("empty_text", ""),
    ("long_text", "x" * 100_000),
    ("odd_keys", {"ключ": 1, "😀": 2, "": 3, "\x00": 4, " ": 5}),
    ("deep", _nested(150)),
    ("wide_list", list(range(10_000))),
    ("mixed", [None, True, False, 0, -1, 0.5, "s", [], {}]),
]
"""Values that must come back from the store exactly: same types (an integral float stays a
float), same digits, same characters."""

CORRUPT_DATA: list[tuple[str, bytes]] = [
    ("not_json", b"{not json"),
    ("list", b"[1, 2]"),
    ("string", b'"text"'),
    ("number", b"42"),
    ("null", b"null"),
    ("true", b"true"),
    ("invalid_utf8", b"\xff\xfe"),
    ("invalid_utf8_in_string", b'{"a": "\xff"}'),
    ("utf16", "{}".encode("utf-16")),
    ("nan", b'{"a": NaN}'),
    ("infinity", b'{"a": Infinity}'),
    ("minus_infinity", b'{"a": -Infinity}'),
    ("deep_list", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ("deep_object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    ("int_over_digit_limit", b'{"a": 1' + b"0" * 5000 + b"}"),
    ("lone_surrogate", b'{"a": "\\ud800"}'),
    ("lone_surrogate_key", b'{"\\udfff": 1}'),
    ("deep_lone_surrogate", b'{"a": ' + b"[" * 600 + b'"\\ud800"' + b"]" * 600 + b"}"),
    ("truncated", b'{"a": 1'),
    ("trailing_garbage", b'{"a": 1} x'),
    ("two_objects", b"{}{}"),
    ("nul", b"\x00"),
    ("whitespace", b"   "),
    ("single_quotes", b"{'a': 1}"),
    ("comment", b'{"a": 1 /* why */}'),
]
"""What another tool may have stored as a configuration: reading it raises CorruptDataError
naming the configuration, and Confo leaves it as it is. (Empty data is apart: a backend may read
it as ``{}``, as the original Confo read an empty znode.)"""

BAD_TEXT_CREDENTIALS: list[tuple[str, str]] = [
    ("nul", "bad\x00value"),
    ("lone_surrogate", "bad\ud800value"),
    ("newline", "bad\nvalue"),
]
"""Put in place of each text credential: refused with a Confo error, never a raw one."""

BAD_SECONDS: list[tuple[str, object]] = [
    ("zero", 0),
    ("negative", -1),
    ("word", "soon"),
    ("nan", float("nan")),
    ("infinity", float("inf")),
    ("bool", True),
]
"""Put in place of ``timeout``: refused with CredentialsError naming it."""


def corpus_size() -> int:
    """How many malformed or edge inputs the conformance suite puts to each backend."""
    parts: list[list[Any]] = [
        MUST_REFUSE_NAMES,
        EDGE_NAMES,
        UNSTORABLE_VALUES,
        EDGE_VALUES,
        CORRUPT_DATA,
        BAD_TEXT_CREDENTIALS,
        BAD_SECONDS,
    ]
    return sum(len(part) for part in parts)
