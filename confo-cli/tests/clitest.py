"""The installed ``confo`` script, run as a user runs it, and the stores it is tested against."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confo.testing import RawStore

CONFO = str(Path(sys.executable).parent / "confo")
KINDS = ["file", "redis", "zookeeper", "etcd"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(
    *args: str,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Result:
    """The ``confo`` script in a subprocess, with stdout and stderr as pipes."""
    done = subprocess.run(
        [CONFO, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=60,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@dataclass
class StoreUnderTest:
    kind: str
    url: str
    raw: RawStore

    def stored(self, namespace: str, config: str) -> Any:
        """What the store holds, read with its own client in the seed layout (None: nothing)."""
        data = self.raw.get(namespace, config)
        return None if data is None else json.loads(data)
