"""The export format, ``{"namespace": {"configuration": {...}}}``, and differences between two.

Plain JSON (not base64 as ``consul kv export``), sorted by namespace and configuration, so an
export is readable, diffable in version control and round-trips through ``confo import``.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from confo.values import JSONObject
from confo_cli.failures import Failure

Dump = dict[str, dict[str, JSONObject]]


def read_dump(path: str) -> Dump:
    """Read an export file (``-`` for stdin), checking its shape and naming what is wrong."""
    where = "standard input" if path == "-" else repr(path)
    try:
        if path == "-":
            data = json.load(sys.stdin, parse_constant=_no_constant)
        else:
            with open(path, encoding="utf-8") as file:
                data = json.load(file, parse_constant=_no_constant)
    except FileNotFoundError:
        raise Failure(
            f"No export file {path!r}; write one with confo export URL -o FILE."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"Cannot read the export file {where}: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise Failure(
            f"The export file {where} is not JSON: {exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}."
        ) from None
    except RecursionError:
        raise Failure(f"The export file {where} is nested too deeply to read.") from None
    return check_dump(data, where)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # json reports it as a decode error


def check_dump(data: object, where: str) -> Dump:
    shape = '{"namespace": {"configuration": {"field": value}}}'
    if not isinstance(data, dict):
        raise Failure(f"The export file {where} must hold a JSON object: {shape}.")
    for namespace, configs in data.items():
        if not isinstance(configs, dict):
            raise Failure(
                f"In the export file {where}, namespace {namespace!r} must map configuration "
                f"names to objects: {shape}."
            )
        for name, config in configs.items():
            if not isinstance(config, dict):
                raise Failure(
                    f"In the export file {where}, {namespace}/{name} is a "
                    f"{type(config).__name__}, not a JSON object: {shape}."
                )
    return data


def write_dump(dump: Dump, path: str | None) -> None:
    """To stdout, or to ``path`` all at once (a failure leaves any earlier file as it was)."""
    text = json.dumps(dump, indent=2, ensure_ascii=False) + "\n"
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        ) as file:
            file.write(text)
        os.replace(file.name, target)
    except OSError as exc:
        raise Failure(f"Cannot write the export file {path!r}: {exc.strerror}.") from None


def restrict(dump: Dump, namespaces: Iterable[str]) -> Dump:
    chosen = list(namespaces)
    if not chosen:
        return dump
    return {name: dump[name] for name in chosen if name in dump}


def differences(a: Dump, b: Dump, labels: tuple[str, str]) -> Iterator[str]:
    """A unified diff, configuration by configuration, of two dumps: empty when they are equal.

    Each configuration is compared as sorted, indented JSON, so field order does not count.
    """
    for namespace in sorted(a.keys() | b.keys()):
        if namespace not in b or namespace not in a:
            side = labels[0] if namespace in a else labels[1]
            yield f"Only in {side}: namespace {namespace}\n"
        left, right = a.get(namespace, {}), b.get(namespace, {})
        for name in sorted(left.keys() | right.keys()):
            yield from config_diff(f"{namespace}/{name}", left.get(name), right.get(name), labels)


def config_diff(
    path: str, a: JSONObject | None, b: JSONObject | None, labels: tuple[str, str]
) -> Iterator[str]:
    """A unified diff of configuration ``path`` (NAMESPACE/NAME), None where it is absent, as
    sorted, indented JSON: empty when the two are equal."""
    if same(a, b):
        return
    yield from difflib.unified_diff(
        _lines(a),
        _lines(b),
        "/dev/null" if a is None else f"{labels[0]}/{path}",
        "/dev/null" if b is None else f"{labels[1]}/{path}",
    )


def same(x: object, y: object) -> bool:
    """Equal as JSON: ``1 == 1.0 == True`` in Python, not in JSON."""
    return json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True)


def _lines(config: JSONObject | None) -> list[str]:
    if config is None:
        return []
    return (json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n").splitlines(
        keepends=True
    )
