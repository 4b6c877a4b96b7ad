"""Test helpers for Confo backends and their users (needs pytest: ``confo-core[testing]``).

- :class:`BackendConformance`: the conformance suite every backend runs against a real store;
  :class:`NetworkConformance` and the other mixins for what some stores have (docs/plugins.md
  lists them with their fixtures).
- :class:`ServerProcess`: start a real server on a free 127.0.0.1 port (each backend subclasses it).
"""

try:
    import pytest  # noqa: F401 (the suite is made of pytest fixtures and marks)
except ImportError:  # pragma: no cover - exercised in a venv without pytest
    raise ImportError(
        "confo.testing needs pytest, which is not installed. Install it with the 'testing' "
        "extra: pip install 'confo-core[testing]'"
    ) from None

from confo.testing.asyncmode import AsyncConformance
from confo.testing.conflicts import ConflictConformance
from confo.testing.conformance import BackendConformance, NetworkConformance, TLSConformance
from confo.testing.contract import ContractConformance
from confo.testing.faults import NetworkFaultConformance
from confo.testing.helpers import connected, eventually, unique
from confo.testing.history import HistoryConformance
from confo.testing.lastgood import CacheConformance, OfflineConformance
from confo.testing.outcomes import LoseAnswers, LostAnswerConformance
from confo.testing.privilege import ReadOnlyConformance
from confo.testing.proxy import TCPProxy
from confo.testing.raw import RawStore
from confo.testing.secrets import SecretsConformance, everything_logged
from confo.testing.servers import (
    ServerError,
    ServerGroup,
    ServerProcess,
    TLSFiles,
    free_port,
    make_tls_files,
    tcp_exchange,
)
from confo.testing.watching import Recorder, WatchConformance, until

__all__ = [
    "AsyncConformance",
    "BackendConformance",
    "CacheConformance",
    "ConflictConformance",
    "ContractConformance",
    "HistoryConformance",
    "LoseAnswers",
    "LostAnswerConformance",
    "NetworkConformance",
    "NetworkFaultConformance",
    "OfflineConformance",
    "RawStore",
    "ReadOnlyConformance",
    "Recorder",
    "SecretsConformance",
    "ServerError",
    "ServerGroup",
    "ServerProcess",
    "TCPProxy",
    "TLSConformance",
    "TLSFiles",
    "WatchConformance",
    "connected",
    "eventually",
    "everything_logged",
    "free_port",
    "make_tls_files",
    "tcp_exchange",
    "unique",
    "until",
]
