"""``confo watch``: one JSON line per change of a namespace, until interrupted."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import click

from confo.watch import Watch, WatchEvent
from confo_cli import arguments
from confo_cli.app import App


@click.command("watch")
@arguments.url
@arguments.namespace()
@click.pass_obj
def watch(app: App, url: str, namespace: str) -> None:
    """Print every change of NAMESPACE as one JSON object per line, until interrupted.

    Each line has namespace, config, kind ("put" or "delete"), value (null for a delete) and
    revision, and is flushed at once, so a pipe sees it as it happens. Changes are delivered
    after reconnects too (see each backend's watch guarantee). When the store is lost (or its
    connection goes silent) a line on stderr says so, and another once it is back and caught up.
    Ctrl-C or SIGTERM ends it with exit status 0.

    \b
    Examples:
      confo watch redis://127.0.0.1:6379 prod
      confo watch etcd://127.0.0.1:2379 prod | jq -r 'select(.kind == "put") | .config'
    """
    done = threading.Event()

    def show(event: WatchEvent) -> None:
        try:
            app.out.json_line(event.as_dict())
        except (BrokenPipeError, ValueError):  # the reader went away (or stdout was closed)
            done.set()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        done.set()

    with app.store(url) as store:
        store.handle(namespace)  # a missing one: named, with the list
        signal.signal(signal.SIGTERM, stop)
        with store.confo.watch(show, namespace) as running, _own_health_lines():
            app.out.note(f"watching {namespace} in {store.url}; Ctrl-C to stop")
            with suppress(KeyboardInterrupt):
                _follow(running, store.url, done)


def _follow(running: Watch, url: str, done: threading.Event) -> None:
    """Wait until done, saying on stderr when the store is lost and when it is back."""
    was_healthy = lost = False
    while not done.wait(0.2):  # a timed wait, so that Ctrl-C gets through
        healthy = running.healthy
        if was_healthy and not healthy:
            lost = True
            _say(f"confo: warning: lost the store at {url}; values may be stale; reconnecting")
        elif healthy and not was_healthy and lost:
            _say(f"confo: the store at {url} is back; caught up")
        was_healthy = healthy


def _say(line: str) -> None:
    with suppress(OSError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


@contextmanager
def _own_health_lines() -> Iterator[None]:
    """The listener logs the same news as a warning; here the command says it, once."""
    listener = logging.getLogger("confo.listener")
    listener.addFilter(_drop)
    try:
        yield
    finally:
        listener.removeFilter(_drop)


def _drop(record: logging.LogRecord) -> bool:
    return False
