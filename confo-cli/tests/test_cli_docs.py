"""docs/cli.md and the confo-cli README run as written, against a real Redis: their outputs are
what the command prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from confo_redis.testing import RedisServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("page", ["docs/cli.md", "confo-cli/README.md"])
def test_console_examples_run(page: str, redis_server: RedisServer) -> None:
    # The page's confo is the one installed beside this interpreter.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "runconsole.py"),
            f"--replace=127.0.0.1:6379={redis_server.host}:{redis_server.port}",
            str(ROOT / page),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " commands passed" in result.stdout
