"""The web console (confo-web): a namespace page, and a change reaching an open page.

- the page of a namespace of 1,000 configurations (a reload of it from the store, masking,
  rendering), served through the app in-process, against the reload alone (the floor);
- live: ``confo web``'s app served by uvicorn on 127.0.0.1, an open event stream of the
  namespace (what an open page listens to), and a persist from another manager: from the
  persist called to the event read by the page's connection.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from http.client import HTTPConnection
from typing import Any

import uvicorn
from confo_web.app import create_app
from harness import Contender, compare
from starlette.testclient import TestClient

from confo.manager import Confo
from confo.testing import free_port

SIZE = 1_000
TOKEN = "bench-token"  # noqa: S105 (a benchmark's throwaway token)
AUTH = {"authorization": f"Bearer {TOKEN}"}


def _store(folder: str, n: int) -> Confo:
    manager = Confo()
    manager.load_backend({"config_path": folder}, "files", "file")
    manager.activate_backend("files")
    manager.create_namespace("big")
    handle = manager.namespace("big")
    for i in range(n):
        handle.set(f"c{i:05d}", {"host": f"db{i}.internal", "port": 5432, "password": "x"})
    handle.persist()
    return manager


def page(n: int) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="confo-bench-console-")
    manager = _store(folder, n)
    app = create_app(manager, token=TOKEN, label="file:bench")
    handle = manager.namespace("big")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        timed = compare(
            [
                Contender("page", lambda: client.get("/ns/big", headers=AUTH)),
                Contender("reload", handle.reload),
            ]
        )
    manager.close()
    return timed


def live(changes: int) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="confo-bench-live-")
    manager = _store(folder, 10)
    writer = _store_writer(folder)
    port = free_port()
    config = uvicorn.Config(
        create_app(manager, token=TOKEN, label="file:bench"), port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.01)
    seen: dict[int, float] = {}
    arrived = threading.Condition()
    stream = HTTPConnection("127.0.0.1", port, timeout=30)
    stream.request("GET", "/ns/big/events", headers=AUTH)
    answer = stream.getresponse()

    def read() -> None:
        try:
            follow()
        except (OSError, ValueError, AttributeError):  # the stream closed at the end
            return

    def follow() -> None:
        for raw in answer:
            line = raw.decode()
            if not line.startswith("data:"):
                continue
            value = json.loads(line[5:])["value"]
            if value and "seq" in value:
                seq = json.loads(value)["seq"]
                with arrived:
                    seen.setdefault(seq, time.perf_counter())
                    arrived.notify_all()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.5)  # the stream's watch is in place
    delays = []
    for seq in range(1, changes + 1):
        writer.set("c00000", {"seq": seq})
        called = time.perf_counter()
        writer.persist()
        with arrived:
            if not arrived.wait_for(lambda: seq in seen, timeout=30):  # noqa: B023
                raise TimeoutError(f"change {seq} never reached the page")
        delays.append(seen[seq] - called)
    stream.close()
    server.should_exit = True
    serving.join(10)
    writer.close()
    manager.close()
    delays.sort()
    return {"p50": statistics.median(delays), "max": delays[-1]}


def _store_writer(folder: str) -> Confo:
    writer = Confo()
    writer.load_backend({"config_path": folder}, "files", "file")
    writer.activate_backend("files")
    writer.use_namespace("big")
    return writer


def run(*, smoke: bool) -> dict[str, Any]:
    n = 20 if smoke else SIZE
    return {"n": n, "page": page(n), "live": live(3 if smoke else 30)}
