"""No password in any log, repr or error: a canary password, every logger at its most verbose.

Mix :class:`SecretsConformance` in beside :class:`~confo.testing.BackendConformance` for a
store that takes a password, and provide ``secret_credentials``: credentials for a running store
that holds a password (the canary) which nothing may show, and the canary itself.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from confo.errors import BackendAuthenticationError, ConfoError
from confo.testing.helpers import BACKEND, connected, unique
from confo.testing.watching import Recorder, until


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # with any traceback, formatted as it would be


@contextmanager
def everything_logged() -> Iterator[list[str]]:
    """Every record any logger makes meanwhile, at every level (kazoo's BLATHER, 5, too), as
    formatted lines: loggers set to quieter levels are opened up for the duration."""
    keep = _Keep()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]  # fmt: skip
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(1)
        logger.disabled = False
    logging.getLogger().addHandler(keep)
    try:
        yield keep.lines
    finally:
        logging.getLogger().removeHandler(keep)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


class SecretsConformance:
    """For a backend that takes a password: it never reaches a log record (at any level), a
    repr or an error, and a wrong one is refused as a login, not taken for an outage.

    Fixture ``secret_credentials``: credentials for a store of its own whose password is a
    canary (a unique string no other test uses), and the canary. It must be the store's real
    password: the test logs in with it, then with it changed.
    """

    backend_type: ClassVar[str]

    @pytest.fixture
    def secret_credentials(self) -> tuple[Mapping[str, Any], str]:
        """(credentials whose password is the canary, the canary)."""
        raise NotImplementedError("a backend that takes a password provides this fixture")

    def test_no_password_reaches_a_log_a_repr_an_error_or_the_cache(
        self, secret_credentials: tuple[Mapping[str, Any], str], tmp_path: Path
    ) -> None:
        credentials, secret = secret_credentials
        credentials = {**credentials, "cache_dir": str(tmp_path / "cache")}
        wrong_secret = secret + "-wrong"
        wrong = {
            key: wrong_secret if value == secret else value for key, value in credentials.items()
        }
        assert wrong != credentials, "the credentials do not hold the canary"
        shown: list[str] = []
        with everything_logged() as lines:
            with connected(self.backend_type, credentials) as manager:
                name = unique("secret")
                manager.create_namespace(name)
                manager.use_namespace(name)
                manager.set("db", {"v": 1})
                manager.persist()
                seen = Recorder()
                with manager.watch(seen):
                    manager.update("db", lambda config: {"v": 2})
                    until(lambda: seen.last() == {"db": {"v": 2}})
                manager.reload()
                store = manager._sessions[BACKEND].store  # the suite may look inside
                shown += [repr(manager), repr(store), repr(store.backend)]
            try:
                with connected(self.backend_type, wrong) as stranger:
                    stranger.use_namespace(name)
                    stranger.set("db", "v", 3)
                    stranger.persist()
            except BackendAuthenticationError as exc:
                shown += [str(exc), "".join(traceback.format_exception(exc))]
            except ConfoError as exc:  # a refused login must not read as an unreachable store
                pytest.fail(f"a wrong password gave {type(exc).__name__}, not a refusal: {exc}")
            else:
                pytest.fail("a wrong password was accepted")
        assert lines, "nothing was logged: the test proved nothing"
        cached = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
        assert cached, "nothing was cached: the test proved nothing about the cache"
        shown += [str(path) for path in cached]
        shown += [path.read_bytes().decode() for path in cached]
        leaks = [text for text in lines + shown if secret in text]
        assert not leaks, f"{len(leaks)} leaks, the first: {leaks[0][:300]}"
