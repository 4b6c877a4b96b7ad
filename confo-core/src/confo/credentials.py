"""Reading a backend's credentials dictionary, with errors that name the key.

Shared by the network backends so that "a port may be a str or an int" and "say which key is
wrong" hold everywhere. Secrets are never echoed: only their key names appear in messages.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from confo.errors import CredentialsError

CORE_OPTIONS = frozenset({"timeout", "history_limit", "cache_dir", "max_staleness"})
"""Credentials Confo itself handles, for every backend: taken out before a backend sees the
rest, so that a backend refusing keys it does not know need not know these."""


def split_core_options(credentials: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The core's options (:data:`CORE_OPTIONS`) and the backend's own credentials, apart."""
    core = {key: value for key, value in credentials.items() if key in CORE_OPTIONS}
    own = {key: value for key, value in credentials.items() if key not in CORE_OPTIONS}
    return core, own


def refuse_unknown(credentials: Mapping[str, Any], known: Iterable[str], backend: str) -> None:
    """Refuse a key the backend does not read (``redis_pasword``): silently ignored, a typo
    would connect without the password, or without TLS. The message names the keys it takes,
    and the closest one to the typo."""
    from difflib import get_close_matches  # noqa: PLC0415 (only on a mistake)

    taken = sorted({*known, *CORE_OPTIONS})
    unknown = sorted(str(key) for key in credentials if key not in taken)
    if not unknown:
        return
    close = get_close_matches(unknown[0], taken, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise CredentialsError(
        f"The {backend} backend takes no credential {unknown[0]!r}.{hint} It takes: "
        f"{', '.join(taken)}."
    )


def text(
    credentials: Mapping[str, Any],
    key: str,
    backend: str,
    default: str | None = None,
    *,
    error: type[CredentialsError] = CredentialsError,
) -> str:
    """The non-empty string under ``key``, or ``default``; raise ``error`` if neither."""
    value = credentials.get(key, default)
    if isinstance(value, str) and value:
        problem = text_problem(value)
        if problem:
            raise error(f"Credential {key!r} of the {backend} backend {problem}.")
        return value
    if value is None:
        raise error(f"The {backend} backend needs {key!r} in its credentials.")
    raise error(f"Credential {key!r} of the {backend} backend must be a non-empty string.")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a credential (a host, a path, a password), or None.

    A NUL ends a C string and a lone surrogate has no UTF-8 form: no store, socket or file
    system takes either, and the client libraries fail on them with errors that are not Confo's.
    The value itself is never shown: it may be a password.
    """
    if "\x00" in value:
        return "holds a NUL character"
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return "holds a lone surrogate, which UTF-8 cannot encode"
    return None


def optional_text(credentials: Mapping[str, Any], key: str, backend: str) -> str | None:
    """The string under ``key``, or None if it is absent or None."""
    if credentials.get(key) is None:
        return None
    return text(credentials, key, backend)


def port(
    credentials: Mapping[str, Any],
    key: str,
    backend: str,
    default: int | None = None,
    *,
    error: type[CredentialsError] = CredentialsError,
) -> int:
    """The TCP port under ``key``, given as an int or a str of digits (the seeds use both)."""
    value = credentials.get(key, default)
    if value is None:
        raise error(f"The {backend} backend needs {key!r} (a port number) in its credentials.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or not 0 < number < 65536:
        raise error(
            f"Credential {key!r} of the {backend} backend must be a port number, not {value!r}."
        )
    return number


def optional_file(credentials: Mapping[str, Any], key: str, backend: str) -> str | None:
    """The path under ``key`` of a file that must exist (a TLS certificate), or None if absent.

    Checked at load: a missing file would otherwise surface as a TLS failure that reads like an
    unreachable server, or as a raw FileNotFoundError from the client library.
    """
    path = optional_text(credentials, key, backend)
    if path is not None and not os.path.isfile(path):
        raise CredentialsError(
            f"Credential {key!r} of the {backend} backend names {path!r}, which is not a "
            "readable file. Give the path of the PEM file."
        )
    return path


def flag(credentials: Mapping[str, Any], key: str, backend: str) -> bool:
    """A boolean credential; absent means False."""
    value = credentials.get(key, False)
    if not isinstance(value, bool):
        raise CredentialsError(
            f"Credential {key!r} of the {backend} backend must be True or False."
        )
    return value


def seconds(credentials: Mapping[str, Any], key: str, backend: str, default: float) -> float:
    """A positive, finite duration in seconds (an int, a float or a str of one); None means
    default."""
    value = credentials.get(key)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if isinstance(value, bool) or not 0 < number < math.inf:
        raise CredentialsError(
            f"Credential {key!r} of the {backend} backend must be a number of seconds, "
            f"not {value!r}."
        )
    return number


def integer(credentials: Mapping[str, Any], key: str, backend: str, default: int) -> int:
    """A non-negative integer (an int or a str of digits); None means default."""
    value = credentials.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not str(value).isdigit():
        raise CredentialsError(
            f"Credential {key!r} of the {backend} backend must be a whole number, not {value!r}."
        )
    return int(value)


def folder(credentials: Mapping[str, Any], key: str, backend: str) -> str | None:
    """The folder path under ``key`` (a str or a path; made when first needed), or None."""
    value = credentials.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise CredentialsError(
            f"Credential {key!r} of the {backend} backend must be the path of a folder, "
            f"not {value!r}."
        )
    path = os.fsdecode(value)
    problem = text_problem(path)
    if problem:
        raise CredentialsError(f"Credential {key!r} of the {backend} backend {problem}.")
    return path
