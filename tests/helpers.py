"""Helpers shared by the cross-package tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(
    python: Path | str, code: str, cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; the result's output is checked by the caller."""
    return subprocess.run(
        [str(python), "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
