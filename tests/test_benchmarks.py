"""The benchmarks run end to end (tiny sizes, one sample), so `make bench` cannot rot.

Nothing here asserts a timing: the machines are shared and noisy. Speed lives in
docs/benchmarks.md, written by `make bench`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT


@pytest.mark.timeout(600)  # a whole run of every benchmark, small: minutes on a loaded machine
def test_benchmarks_smoke(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = (tmp_path / "benchmarks.md").read_text()
    for backend in ("file", "redis", "zookeeper", "etcd"):
        assert f"## {backend}" in report
    assert "| target | measured | met |" in report
    assert "client libraries imported: []" in report
    assert (tmp_path / "benchmarks.png").read_bytes().startswith(b"\x89PNG")
