"""``confo watch``: one JSON line per change of a namespace, until interrupted."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from confo.watch import WatchEvent
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
    after reconnects too (see each backend's watch guarantee). Ctrl-C or SIGTERM ends it with
    exit status 0.

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
        with store.confo.watch(show, namespace):
            app.out.note(f"watching {namespace} in {store.url}; Ctrl-C to stop")
            try:
                while not done.wait(0.2):  # a timed wait, so that Ctrl-C gets through
                    pass
            except KeyboardInterrupt:
                pass
