"""Helpers shared by the cross-package tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(
    python: Path | str, code: str, cwd: Path | None = None, *args: str
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


def run_ok(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter of this venv; it must succeed. Returns its output."""
    result = run_python(sys.executable, code, None, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_page(page: str, *replacements: str, python: Path | str = sys.executable) -> None:
    """Run a page's examples in a fresh interpreter (Confo() is a process-wide singleton)."""
    args = [f"--replace={item}" for item in replacements]
    result = subprocess.run(
        [str(python), str(ROOT / "tools" / "rundoc.py"), *args, str(ROOT / page)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "examples passed" in result.stdout
