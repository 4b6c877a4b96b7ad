"""Helpers shared by the cross-package tests."""

from __future__ import annotations

import subprocess
import sys
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


def run_page(page: str, *replacements: str) -> None:
    """Run a page's examples in a fresh interpreter (Confo() is a process-wide singleton)."""
    args = [f"--replace={item}" for item in replacements]
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "rundoc.py"), *args, str(ROOT / page)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "examples passed" in result.stdout


def run_ok(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter of this venv; it must succeed. Returns its output."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
