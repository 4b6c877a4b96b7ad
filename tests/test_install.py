"""What a user sees after ``pip install ./confo-core ./confo-file``, in a fresh venv.

Also the plugin contract end to end: the template backend of docs/plugins.md is built as a third
party would build it, installed, loaded by its type name and run through the whole conformance
suite.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import seedcode
from helpers import ROOT, run_page, run_python

# Fresh venvs, installed once: a generous bound, and one worker for the module.
pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("install")]

MISSING_BACKEND = """
import sys, confo.Backends as BE
from confo import Confo
from confo.errors import BackendNotInstalledError
try:
    Confo().load_backend({}, "b", getattr(BE, sys.argv[1]))
except BackendNotInstalledError as exc:
    print("load_backend:", exc)
try:
    __import__("confo.Backends." + sys.argv[2])
except ImportError as exc:
    assert isinstance(exc, BackendNotInstalledError)
    print("import:", exc)
"""


@pytest.mark.parametrize(
    ("constant", "module", "distribution"),
    [
        ("ETCD_BACKEND", "EtcdBackend", "confo-etcd"),
        ("REDIS_BACKEND", "RedisBackend", "confo-redis"),
        ("ZOOKEEPER_BACKEND", "ZookeeperBackend", "confo-zookeeper"),
    ],
)
def test_missing_backend_names_its_distribution(
    minimal_venv: Path, tmp_path: Path, constant: str, module: str, distribution: str
) -> None:
    result = run_python(minimal_venv, MISSING_BACKEND, tmp_path, constant, module)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert f"pip install {distribution}" in line
        assert "installed backends: file" in line


def test_unknown_type_explains_entry_points(minimal_venv: Path, tmp_path: Path) -> None:
    code = "from confo import Confo\nConfo().load_backend({}, 'c', 'consul')"
    result = run_python(minimal_venv, code, tmp_path)
    assert result.returncode == 1
    assert "BackendNotInstalledError" in result.stderr
    assert "'consul'" in result.stderr
    assert "confo.backends" in result.stderr


def test_import_confo_imports_no_client_library(tmp_path: Path) -> None:
    """In the full dev venv, where every client library is installed but must stay unimported."""
    code = """
import sys, os
from confo.Confo import Confo
import confo.Backends as BE
from confo.Backends.FileBackend import FileBackend
config = Confo()
config.load_backend({"config_path": "."}, "f", BE.FILE_BACKEND)
config.activate_backend("f")
config.create_namespace("n")
config.use_namespace("n")
clients = {"grpc", "kazoo", "redis", "pyetcd", "google", "etcd3"}
print(sorted(name for name in sys.modules if name.split(".")[0] in clients))
"""
    result = run_python(sys.executable, code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_readme_quickstart_in_a_minimal_install(minimal_venv: Path) -> None:
    run_page("README.md", python=minimal_venv)


FINAL_STATE = {
    "001": (
        "config2.get_all()",
        {
            "postgress": {"driver": "postgress", "host": "127.0.0.1", "port": 5678},
            "mysql": {"driver": "mysql", "host": "localhost", "port": 1234},
        },
    ),
    "004": (
        "config2.get_all()",
        {
            "mysqli": {"host": "localhost", "db_name": "sambe_db", "user": "root"},
            "postgres": {"host": "localhost", "db_name": "sambe_db", "user": "root123"},
        },
    ),
}


@pytest.mark.parametrize("seed", sorted(FINAL_STATE))
def test_seed_flows_on_the_file_backend(minimal_venv: Path, tmp_path: Path, seed: str) -> None:
    """Every call of the seeds' walkthroughs, as written, with only the backend swapped."""
    blocks, _ = seedcode.code_blocks(seed)
    (tmp_path / "configs").mkdir()
    code = seedcode.on_file_backend("\n".join(blocks), "configs")
    expression, expected = FINAL_STATE[seed]
    code += f"\nprint('FINAL', repr({expression}))\n"
    result = run_python(minimal_venv, code, tmp_path)
    assert result.returncode == 0, result.stderr
    final = result.stdout.splitlines()[-1]
    assert final.startswith("FINAL ")
    assert ast.literal_eval(final.removeprefix("FINAL ")) == expected


def test_third_party_backend_from_the_template(minimal_venv: Path, tmp_path: Path) -> None:
    """template/confo-sqlite, copied out of the repository as a new author starts: built into
    a wheel, installed, found by type name, conformant; then docs/plugins.md runs against it."""
    shutil.copytree(
        ROOT / "template" / "confo-sqlite",
        tmp_path / "confo-sqlite",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache"),
    )
    # Built into a wheel and installed from it, as a third party publishes it.
    wheels = tmp_path / "wheels"
    pip = [str(minimal_venv), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "-q", "--no-deps", "-w", str(wheels), "./confo-sqlite"],
        cwd=tmp_path,
        check=True,
    )
    (wheel,) = wheels.glob("confo_sqlite-*.whl")
    subprocess.run([*pip, "install", "-q", str(wheel)], check=True)

    suite = subprocess.run(
        [str(minimal_venv), "-m", "pytest", "-q", "-p", "no:cacheprovider", "confo-sqlite/tests"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert suite.returncode == 0, suite.stdout[-3000:]
    # The whole conformance suite ran (190 tests and more with the malformed-input corpus), not
    # some of it.
    passed = re.search(r"\b(\d+) passed", suite.stdout)
    assert passed, suite.stdout[-500:]
    assert int(passed.group(1)) >= 190, suite.stdout[-500:]

    run_page("docs/plugins.md", python=minimal_venv)

    # The command line reaches it through its URL hook, with nothing in Confo changed for it.
    subprocess.run([*pip, "install", "-q", str(ROOT / "confo-cli")], check=True)
    confo = str(minimal_venv.parent / "confo")
    url = f"sqlite:{tmp_path / 'app.db'}"
    subprocess.run([confo, "set", url, "billing", "stripe", "currency", "EUR"], check=True)
    listed = subprocess.run(
        [confo, "ls", url, "billing"], capture_output=True, text=True, check=False
    )
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "stripe\n", "")
