"""Entry-point discovery against real installed-distribution metadata (dist-info folders)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOAD = """
import sys
from confo import Confo
try:
    Confo().load_backend({}, "b", sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def _install_metadata(site: Path, distribution: str, entry_points: str) -> None:
    info = site / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[confo.backends]\n{entry_points}\n")


def _load(site: Path, backend_type: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", LOAD, backend_type],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_broken_plugin_is_named_and_harms_no_other_type(tmp_path: Path) -> None:
    _install_metadata(tmp_path, "confo-broken", "broken = no_such_module_xyz:Backend")
    message = _load(tmp_path, "broken")
    assert message.startswith("PluginError")
    assert "confo-broken" in message
    assert "no_such_module_xyz" in message
    assert "pip install --force-reinstall confo-broken" in message
    assert _load(tmp_path, "file").startswith("CredentialsError")  # file still loads


def test_two_distributions_for_one_type(tmp_path: Path) -> None:
    _install_metadata(tmp_path, "confo-file-fork", "file = confo_file:FileBackend")
    message = _load(tmp_path, "file")
    assert message.startswith("PluginError")
    assert "confo-file" in message
    assert "confo-file-fork" in message


def test_entry_point_that_is_not_a_class(tmp_path: Path) -> None:
    _install_metadata(tmp_path, "confo-odd", "odd = json:dumps")
    message = _load(tmp_path, "odd")
    assert message.startswith("PluginError")
    assert "not a class" in message
