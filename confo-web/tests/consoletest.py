"""Running ``confo web`` as a process, and talking to it, for the console's tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

from confo.testing import free_port


def serve(
    url: str,
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    cwd: Path | None = None,
) -> tuple[subprocess.Popen[str], int]:
    """``confo web URL`` on a free port, once it answers; and the port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "confo_cli", "web", url, "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"confo web did not start: {process.communicate()}")


class Answer:
    def __init__(self, status: int, text: str, headers: dict[str, str]) -> None:
        self.status_code, self.text, self.headers = status, text, headers


def request(
    method: str,
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> Answer:
    """One request to the console (http.client: nothing but the standard library)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    body = None if data is None else urlencode(data)
    sent = dict(headers or {})
    if body is not None:
        sent["content-type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=sent)
    answer = connection.getresponse()
    text = answer.read().decode()
    connection.close()
    return Answer(answer.status, text, {name.lower(): value for name, value in answer.getheaders()})


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    out, err = process.communicate(timeout=30)
    return out + err
