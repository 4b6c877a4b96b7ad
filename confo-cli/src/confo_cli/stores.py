"""Opening the store a URL names, and reading and writing whole namespaces of it.

Everything goes through the public ``Confo`` API, so a store behaves here as it does in a
service: wrappers and conflict checks included. Passwords come from the URL or the environment
(``CONFO_PASSWORD``, or a per-side variable for commands with two stores) and are never shown:
messages carry the URL with its password replaced by ``***``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from confo import Confo, Namespace
from confo.errors import BackendAuthenticationError, CredentialsError, NamespaceNotFoundError
from confo.urls import parse_store_url
from confo.values import JSONObject
from confo_cli import failures
from confo_cli.dumps import Dump, same
from confo_cli.failures import Failure
from confo_cli.output import NO_PROGRESS, Progress

PASSWORD_VARIABLE = "CONFO_PASSWORD"  # noqa: S105 (a variable name, not a password)
BACKEND_NAME = "cli"


@dataclass(frozen=True)
class Change:
    """One configuration a write changes (or, for a dry run, would change)."""

    name: str
    before: JSONObject | None  # None: not in the store
    after: JSONObject | None  # None: deleted

    @property
    def verb(self) -> str:
        return "create" if self.before is None else "delete" if self.after is None else "update"


@dataclass
class NamespacePlan:
    """What a write does to one namespace: ``new`` if the store has none of that name yet."""

    name: str
    new: bool
    changes: list[Change]
    unchanged: int


@dataclass
class Plan:
    """What a write of namespaces did (or, for a dry run, would do), namespace by namespace."""

    namespaces: list[NamespacePlan] = field(default_factory=list)

    @classmethod
    def into_empty(cls, dump: Dump) -> Plan:
        """The plan of writing ``dump`` into a store that holds nothing yet."""
        plan = cls()
        for namespace, configs in dump.items():
            plan.add(namespace, configs, None, prune=False)
        return plan

    def add(
        self,
        namespace: str,
        configs: dict[str, JSONObject],
        stored: dict[str, JSONObject] | None,
        *,
        prune: bool,
    ) -> NamespacePlan:
        """Plan making ``namespace`` hold ``configs``, given what it holds (None: no namespace);
        with ``prune``, configurations ``configs`` lacks are deleted."""
        held = stored or {}
        names = sorted(configs.keys() | (held.keys() if prune else set()))
        changes = [
            Change(name, held.get(name), configs.get(name))
            for name in names
            if not same(held.get(name), configs.get(name))
        ]
        unchanged = len(configs) - sum(change.after is not None for change in changes)
        part = NamespacePlan(namespace, stored is None, changes, unchanged)
        self.namespaces.append(part)
        return part

    def summary(self, *, done: bool) -> str:
        verbs = ("create", "update", "delete")
        changes = [change for part in self.namespaces for change in part.changes]
        counts = [sum(change.verb == verb for change in changes) for verb in verbs]
        said = ", ".join(
            f"{verb}{'d' if done else ''} {count}"
            for verb, count in zip(verbs, counts, strict=True)
        )
        unchanged = sum(part.unchanged for part in self.namespaces)
        return f"{'' if done else 'would '}{said}; {unchanged} unchanged"


class Store:
    """One store, opened from a URL. ``confo`` is a private manager with it loaded and active."""

    def __init__(self, confo: Confo, url: str) -> None:
        self.confo = confo
        self.url = url  # redacted

    def namespaces(self, selected: Iterable[str] = (), *, missing_ok: bool = False) -> list[str]:
        """Every namespace, or those selected; with ``missing_ok``, only those that exist.

        Without it, selected names are not checked here: reading a missing one fails, naming
        it (listing a store can cost far more than reading a few namespaces: etcd reads every
        key to list them)."""
        chosen = list(dict.fromkeys(selected))
        if chosen and not missing_ok:
            return chosen
        existing = self.confo.get_namespaces()["all_namespaces"]
        return [name for name in chosen if name in existing] if chosen else list(existing)

    def handle(self, namespace: str) -> Namespace:
        """A handle on ``namespace``, which must exist."""
        found = self.existing(namespace)
        if found is None:
            raise self.no_namespace(namespace)
        return found

    def existing(self, namespace: str) -> Namespace | None:
        """A handle on ``namespace`` read from the store, or None if the store has none."""
        try:
            return self.confo.namespace(namespace)
        except NamespaceNotFoundError:
            return None

    def no_namespace(self, namespace: str) -> Failure:
        """The error for a missing namespace, in the command line's words, with what there is
        (the store is listed only now: on etcd a listing reads every key)."""
        existing = self.confo.get_namespaces()["all_namespaces"]
        return Failure(
            f"No namespace {namespace!r} in {self.url} (it has: "
            f"{', '.join(map(repr, existing)) or 'none'})."
        )

    def configuration(self, handle: Namespace, config: str) -> JSONObject:
        """Configuration ``config`` of the namespace ``handle`` is on, which must exist."""
        value: JSONObject | None = handle.get(config, default=None)
        if value is None:
            known = ", ".join(map(repr, sorted(handle.get_all()))) or "none"
            raise Failure(
                f"No configuration {config!r} in namespace {handle.name!r} of {self.url} "
                f"(it has: {known})."
            )
        return value

    def read(self, namespace: str) -> dict[str, JSONObject]:
        return self.handle(namespace).get_all()

    def export(self, names: Iterable[str], progress: Progress = NO_PROGRESS) -> Dump:
        """The namespaces ``names`` (from :meth:`namespaces`), each sorted by configuration."""
        dump: Dump = {}
        for namespace in names:
            dump[namespace] = dict(sorted(self.read(namespace).items()))
            progress.advance(1)
        return dump

    def write(
        self,
        dump: Dump,
        progress: Progress = NO_PROGRESS,
        *,
        prune: bool = False,
        dry_run: bool = False,
        message: str | None = None,
    ) -> Plan:
        """Make each namespace of ``dump`` hold its configurations: create what is missing and
        replace what differs; with ``prune``, delete configurations ``dump`` lacks. One
        conditional persist per namespace: a configuration changed by someone else meanwhile
        fails it with a ConflictError and writes nothing of that namespace."""
        self._check_names(dump)
        plan = Plan()
        for namespace, configs in dump.items():
            handle = self.existing(namespace)
            part = plan.add(
                namespace, configs, None if handle is None else handle.get_all(), prune=prune
            )
            progress.advance(1)
            if dry_run or (handle is not None and not part.changes):
                continue
            if handle is None:
                self.confo.create_namespace(namespace)
                handle = self.confo.namespace(namespace)
            for change in part.changes:
                if change.after is None:
                    handle.delete(change.name)
                else:
                    handle.set(change.name, change.after)
            handle.persist(message=message)
        return plan

    def copy(
        self, dump: Dump, progress: Progress = NO_PROGRESS, *, message: str | None = None
    ) -> int:
        """Replace each configuration of ``dump`` in this store whatever it holds, without
        reading the store first (a copy overwrites, as cp(1) does); return how many."""
        self._check_names(dump)
        for namespace, configs in dump.items():
            self.confo.write(namespace, configs, force=True, message=message)
            progress.advance(1)
        return sum(len(configs) for configs in dump.values())

    def _check_names(self, dump: Dump) -> None:
        """Every name first, so that a bad one stops the write before anything is written."""
        for namespace, configs in dump.items():
            self.confo.check_name("namespace", namespace)
            for name in configs:
                self.confo.check_name("configuration", name)


@contextmanager
def opened(url: str, timeout: float, password_variables: Iterable[str] = ()) -> Iterator[Store]:
    """Connect to the store ``url`` names, within ``timeout`` seconds unless the URL sets one."""
    variable = password_variable(password_variables)
    address = parse_store_url(url, password=os.environ[variable] if variable else None)
    credentials = {"timeout": timeout, **address.credentials}
    confo = Confo(shared=False)
    try:
        confo.load_backend(credentials, BACKEND_NAME, address.backend_type)
    except (CredentialsError, BackendAuthenticationError) as exc:
        # Named only if the variable's password was sent: the URL's own wins over it, and a
        # store that knows no password without a user ignores it when the URL names none.
        sent = variable is not None and os.environ[variable] in address.credentials.values()
        if not sent or "password" not in str(exc).lower():
            raise
        # The library names its credential (redis_password), which a command line user never
        # typed: say where the password came from, a variable exported for another store.
        raise Failure(
            f"{exc} (The password came from {variable}: unset it, or set this store's.)",
            failures.exit_code(exc),
        ) from None
    try:
        confo.activate_backend(BACKEND_NAME)
        yield Store(confo, address.url)
    finally:
        confo.close()


def missing_folder(url: str) -> Path | None:
    """The folder a ``file:`` URL names, if nothing is there yet; None for any other URL."""
    if url.partition(":")[0].lower() != "file":
        return None  # not parsed: a network URL is read when it is opened, and only then
    address = parse_store_url(url)
    if address.backend_type != "file":
        return None
    folder = Path(address.credentials["config_path"]).expanduser()
    # A file or a dangling link there is not missing: the backend refuses it, naming it.
    return None if folder.exists() or folder.is_symlink() else folder


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failure(f"Cannot create the folder {str(folder)!r}: {exc.strerror}.") from None


def password_variable(variables: Iterable[str] = ()) -> str | None:
    """The first of ``variables``, then ``CONFO_PASSWORD``, set (not empty) in the environment."""
    for name in (*variables, PASSWORD_VARIABLE):
        if os.environ.get(name):
            return name
    return None
