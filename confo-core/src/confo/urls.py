"""Stores named by URLs (``redis://host:6379/0``, ``file:./configs``), for the command line.

Confo does not map schemes to backends itself: each backend plugin reads the URLs it knows
(the ``confo_credentials_from_url`` hook) into its own credentials, so a third-party backend gets
the ``confo`` command without a change here. :func:`parse_store_url` asks the backend whose type
is the scheme first (``redis://`` -> ``redis``), then the others (``rediss://``, ``etcds://``).

:func:`split_url` is the shared reader for URLs of the form
``scheme://[user[:password]@]host[:port][,host[:port]...][/path][?option=value&...]``; backends
use it so that host lists, ports, percent-escapes and "user and password together" read the
same everywhere. A password never appears in an error or a repr: messages show :func:`redact`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from confo.errors import ConfoError, StoreURLError

log = logging.getLogger(__name__)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def redact(url: str) -> str:
    """``url`` with the password of its user part, if any, replaced by ``***``."""
    scheme, separator, rest = url.partition("://")
    userinfo, remainder = _userinfo(rest)
    if not separator or userinfo is None or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{remainder}"


def _userinfo(rest: str) -> tuple[str | None, str]:
    """Split ``user:password@`` off. The last ``@`` ends it: a password holding an unescaped
    ``@``, ``/`` or ``?`` then stays whole, and out of messages."""
    if "@" not in rest:
        return None, rest
    userinfo, _, remainder = rest.rpartition("@")
    return userinfo, remainder


@dataclass(frozen=True)
class URLParts:
    """A hierarchical store URL, split and unescaped. ``hosts`` keeps the given order; a port
    is None where the URL gives none."""

    url: str  # redacted: safe to show
    scheme: str
    user: str | None
    password: str | None = field(repr=False)
    hosts: list[tuple[str, int | None]]
    path: str
    query: dict[str, str]

    def endpoints(self, default_port: int) -> list[tuple[str, int]]:
        """Every host with its port, ``default_port`` where none is given."""
        return [(host, default_port if port is None else port) for host, port in self.hosts]

    def host_ports(self, default_port: int) -> list[str]:
        """Every host as ``host:port`` (``[v6]:port``), ``default_port`` where none is given."""
        return [
            f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            for host, port in self.endpoints(default_port)
        ]

    def single_host(self, default_port: int) -> tuple[str, int]:
        """The one host of a URL that may name only one."""
        endpoints = self.endpoints(default_port)
        if len(endpoints) != 1:
            raise StoreURLError(f"The URL {self.url!r} must name exactly one host.")
        return endpoints[0]

    def login(
        self, password: str | None, *, user_required: bool, password_required: bool = True
    ) -> tuple[str | None, str | None]:
        """The user and password to connect with: the URL's own password, else ``password``
        (given apart, e.g. from the environment).

        :param user_required: the store knows no password without a user (digest or etcd
            users): a password given apart is then ignored when the URL names no user, and a
            user without any password is refused, unless ``password_required`` is False.
        :param password_required: with ``user_required``, whether a user needs a password
            (False for stores that may trust a user without one, as PostgreSQL's peer and
            trust logins do).
        """
        secret = self.password if self.password is not None else password
        if not user_required:
            return self.user, secret
        if self.user is None:
            if self.password is not None:
                raise StoreURLError(f"The URL {self.url!r} gives a password but no user.")
            return None, None
        if secret is None and password_required:
            raise StoreURLError(
                f"The URL {self.url!r} names user {self.user!r} but no password: set "
                "CONFO_PASSWORD (or write user:password@ in the URL)."
            )
        return self.user, secret

    def options(self, known: Mapping[str, str]) -> dict[str, str]:
        """The ``?option=value`` pairs as credentials: ``known`` maps each option the backend
        reads to its credentials key; any other option is refused, naming the known ones."""
        unknown = sorted(set(self.query) - set(known))
        if unknown:
            names = ", ".join(sorted(known)) or "none"
            raise StoreURLError(
                f"Unknown option {unknown[0]!r} in the URL {self.url!r}. "
                f"Options this kind of URL takes: {names}."
            )
        return {known[name]: value for name, value in self.query.items()}


def split_url(url: str) -> URLParts:
    """Split ``scheme://[user[:password]@]hosts[/path][?query]``.

    :raises StoreURLError: the URL is malformed; the message names the part and never the
        password.
    """
    shown = redact(url)
    scheme, separator, rest = url.partition("://")
    if not separator or not _SCHEME.fullmatch(scheme):
        raise StoreURLError(f"{shown!r} is not a URL of the form scheme://host:port.")
    userinfo, rest = _userinfo(rest)
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    user = given = None
    if userinfo is not None:
        name, has_password, secret = userinfo.partition(":")
        user = unquote(name) or None
        given = unquote(secret) if has_password else None
    if not netloc:
        raise StoreURLError(f"The URL {shown!r} names no host. Add one: {scheme}://HOST:PORT")
    return URLParts(
        url=shown,
        scheme=scheme.lower(),
        user=user,
        password=given,
        hosts=[_host(entry, shown) for entry in netloc.split(",")],
        path=unquote(slash + path),
        query=_query(query, shown),
    )


def _host(entry: str, shown: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    if entry.startswith("["):
        host, bracket, port = entry[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise StoreURLError(f"Bad IPv6 host {entry!r} in the URL {shown!r}: write [::1]:PORT.")
        port = port[1:]
    else:
        host, _, port = entry.partition(":")
    if not host:
        raise StoreURLError(f"Empty host in the URL {shown!r}.")
    if not port:
        return host, None
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise StoreURLError(f"Bad port {port!r} in the URL {shown!r}: use a number 1-65535.")
    return host, int(port)


def _query(query: str, shown: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise StoreURLError(
            f"Bad options in the URL {shown!r}: write ?name=value&name=value."
        ) from None
    options: dict[str, str] = {}
    for name, value in pairs:
        if name in options:
            raise StoreURLError(f"Option {name!r} is given twice in the URL {shown!r}.")
        options[name] = value
    return options


@dataclass(frozen=True)
class StoreAddress:
    """A URL read by the backend that knows it: ``load_backend(credentials, name, backend_type)``
    connects to it. ``url`` is redacted, for messages."""

    backend_type: str
    credentials: dict[str, Any] = field(repr=False)
    url: str


def parse_store_url(url: str, *, password: str | None = None) -> StoreAddress:
    """Find the installed backend that reads ``url`` and get its credentials from it.

    The backend is the one whose class lists the URL's scheme in ``url_schemes``: the backend
    type named like the scheme is asked first (one import), the others only if it does not.

    :param password: used when the URL carries none.
    :raises StoreURLError: not a URL, malformed for its backend, or no installed backend reads it.
    """
    shown = redact(url)
    scheme, separator, rest = url.partition(":")
    if not separator or not _SCHEME.fullmatch(scheme):
        raise StoreURLError(
            f"{shown!r} is not a store URL. Name a store like file:./configs, "
            "redis://127.0.0.1:6379/0, zookeeper://127.0.0.1:2181 or etcd://127.0.0.1:2379."
        )
    scheme = scheme.lower()
    backend_type = _reader_of(scheme)
    from confo.store import Store  # noqa: PLC0415 (pluggy: only when a URL is read)

    credentials = Store("url", backend_type).credentials_from_url(url, password)
    if credentials is None:
        slashes = " (two slashes after the colon)" if not rest.startswith("//") else ""
        raise StoreURLError(
            f"{shown!r} is not a URL the {backend_type} backend reads. Write it as "
            f"{scheme}://HOST[:PORT]{slashes}, or as that backend's page shows."
        )
    return StoreAddress(backend_type, credentials, shown)


def _reader_of(scheme: str) -> str:
    """The installed backend type whose class reads ``scheme`` URLs."""
    from confo.discovery import DISTRIBUTIONS, backend_class, installed_types  # noqa: PLC0415

    installed = installed_types()
    # The type named like the scheme first, then those the scheme starts with (rediss: redis).
    ordered = sorted(installed, key=lambda t: (t != scheme, not scheme.startswith(t), t))
    for backend_type in ordered:
        try:
            schemes = getattr(backend_class(backend_type), "url_schemes", ())
        except ConfoError:
            if backend_type == scheme:
                raise
            # A broken plugin of another type must not stop this URL from being read.
            log.warning("backend %r could not be loaded to read a URL; skipped", backend_type)
            continue
        # A backend named like the scheme that declares no schemes predates url_schemes: ask it.
        if scheme in schemes or (backend_type == scheme and not schemes):
            return backend_type
    own = DISTRIBUTIONS.get(scheme.removesuffix("s"))  # rediss: and etcds: too
    advice = (
        f"Install it: pip install {own}"
        if own
        else "Confo's own read file:, redis://, rediss://, zookeeper://, etcd:// and etcds://; "
        "another store needs a backend of its own (docs/plugins.md)"
    )
    raise StoreURLError(
        f"No installed Confo backend reads {scheme}: URLs (installed: "
        f"{', '.join(installed) or 'none'}). {advice}."
    )
