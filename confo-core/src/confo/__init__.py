"""Confo: one configuration API over local JSON files, etcd, ZooKeeper and Redis.

``from confo import Confo`` is the manager; ``confo.Backend`` is the base class of a backend
plugin, and ``confo.hookimpl`` marks a plugin's hooks.

Importing this package imports nothing else: each name below is imported on first use (PEP 562),
and a backend's client library only when that backend is loaded, so ``import confo`` costs about
what a bare interpreter start does.
"""

from __future__ import annotations

import os
import warnings
from importlib import import_module

from confo._version import __version__

# Not typing.TYPE_CHECKING: importing typing costs about as much as the interpreter's own start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from confo.compat.shared import Confo
    from confo.errors import ConflictError, ConfoError
    from confo.events import WatchEvent
    from confo.history import ChangeRecord
    from confo.hookspecs import Backend
    from confo.markers import hookimpl
    from confo.model import Changes, Revision, Snapshot, WriteResult
    from confo.namespace import Namespace
    from confo.offline import Source
    from confo.watch import Watch

__all__ = [
    "Backend",
    "ChangeRecord",
    "Changes",
    "ConflictError",
    "Confo",
    "ConfoError",
    "Namespace",
    "Revision",
    "Snapshot",
    "Source",
    "Watch",
    "WatchEvent",
    "WriteResult",
    "__version__",
    "hookimpl",
]

_HOME = {
    "Backend": "confo.hookspecs",
    "ChangeRecord": "confo.history",
    "Changes": "confo.model",
    "ConflictError": "confo.errors",
    "Confo": "confo.compat.shared",
    "ConfoError": "confo.errors",
    "Namespace": "confo.namespace",
    "Revision": "confo.model",
    "Snapshot": "confo.model",
    "Source": "confo.offline",
    "Watch": "confo.watch",
    "WatchEvent": "confo.events",
    "WriteResult": "confo.model",
    "hookimpl": "confo.markers",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'confo' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


def _warn_if_the_original_is_installed() -> None:
    """The original Confo is the distribution ``confo`` and installs this same package: with
    both installed, uninstalling either deletes files of the other (see docs/migration.md)."""
    site = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        entries = os.listdir(site)
    except OSError:
        return
    if any(entry.startswith("confo-") and entry.endswith(".dist-info") for entry in entries):
        warnings.warn(
            f"The original Confo (the distribution 'confo') is installed in {site} beside "
            "confo-core, and both install the package 'confo': uninstalling either one "
            "deletes files of the other. Fix it with: pip uninstall -y confo confo-core && "
            "pip install confo-core (then reinstall your confo-* backends).",
            UserWarning,
            stacklevel=2,
        )


_warn_if_the_original_is_installed()

# The seed path confo.Confo is a submodule that shares its name with the class. Loaded now, so
# Python never binds the package attribute to the module later; the attribute then falls back
# to __getattr__ above, which gives the class whichever import style came first.
import_module("confo.Confo")
globals().pop("Confo", None)
