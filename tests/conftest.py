from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def minimal_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only what a user installs first: confo-core and confo-file.

    Returns its python. Built from the working tree, as the README says to install it.
    """
    home = tmp_path_factory.mktemp("minimal-venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, f"{ROOT / 'confo-core'}[testing]", str(ROOT / "confo-file")], check=True)
    return python
