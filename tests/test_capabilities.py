"""docs/capabilities.md's matrix is what the backends declare today (tools/capabilities.py)."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def test_the_capability_matrix_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "capabilities.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
