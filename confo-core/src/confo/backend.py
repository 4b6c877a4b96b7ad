"""``confo.Backend``: the typed base class of a backend plugin.

Subclassing it is optional (any object whose methods carry ``@confo.hookimpl`` is a plugin), but
it buys three things: mypy checks every hook's signature against :mod:`confo.hookspecs`; a
forgotten required hook fails at ``load_backend`` naming it, not at first use; and methods named
``confo_*`` are hooks without the ``@hookimpl`` marker (a marker still sets options such as
``tryfirst``).

Optional hooks are declared for the type checker only: defined here, every subclass would
implement them, and a backend without ``confo_watch`` would claim it can watch.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from confo.model import Capabilities, Changes, Snapshot, WriteResult
from confo.names import NameKind

REQUIRED_HOOKS = (
    "confo_connect",
    "confo_list_namespaces",
    "confo_create_namespace",
    "confo_delete_namespace",
    "confo_read",
    "confo_write",
    "confo_close",
)
"""The hooks every backend implements; the others (``confo_check_name``, ``confo_watch``,
``confo_capabilities``, ``confo_credentials_from_url``) are optional."""


class Backend(ABC):
    """Base class of a backend plugin: implement the abstract hooks, and any optional ones.

    The hooks' contracts (arguments, results, errors to raise) are in :mod:`confo.hookspecs`.
    ``__init__`` takes no arguments: Confo creates the instance, then calls ``confo_connect``.
    """

    @abstractmethod
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None: ...

    @abstractmethod
    def confo_list_namespaces(self) -> list[str]: ...

    @abstractmethod
    def confo_create_namespace(self, namespace: str) -> None: ...

    @abstractmethod
    def confo_delete_namespace(self, namespace: str) -> None: ...

    @abstractmethod
    def confo_read(self, namespace: str, names: Collection[str] | None) -> Snapshot: ...

    @abstractmethod
    def confo_write(self, namespace: str, changes: Changes) -> WriteResult: ...

    @abstractmethod
    def confo_close(self) -> None: ...

    if TYPE_CHECKING:  # optional hooks: signatures for mypy, absent at run time (see above)

        def confo_check_name(self, kind: NameKind, name: str) -> None: ...

        def confo_watch(
            self,
            namespace: str,
            notify: Callable[[Collection[str] | None], None],
            stopping: threading.Event,
        ) -> None: ...

        def confo_capabilities(self) -> Capabilities: ...

        def confo_credentials_from_url(
            self, url: str, password: str | None
        ) -> dict[str, Any] | None: ...
