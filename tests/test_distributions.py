"""The distributions as users get them: built wheels, installed alone, in fresh environments.

- ``pip install confo-core confo-redis`` (from their wheels, nothing else of this repository)
  runs docs/backends/redis.md against a real Redis.
- What ``import confo`` imports (the time is a benchmark; what is imported is tested here).
- Metadata a careful maintainer publishes: licence, long description, versions in step.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT, run_page, run_python

import confo
from confo_redis.testing import RedisServer

# Builds every wheel once, and fresh venvs: a generous bound, and one worker for the module.
pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("distributions")]

PACKAGES = [
    "confo-core",
    "confo-file",
    "confo-redis",
    "confo-zookeeper",
    "confo-etcd",
    "confo-cli",
    "confo-web",
]


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A wheel of every distribution, built from the working tree."""
    out = tmp_path_factory.mktemp("wheels")
    for package in PACKAGES:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "-w",
                str(out),
                f"./{package}",
            ],
            cwd=ROOT,
            check=True,
        )
    return {package: next(out.glob(f"{package.replace('-', '_')}-*.whl")) for package in PACKAGES}


def _fresh_venv(home: Path, *requirements: str) -> Path:
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *requirements], check=True)
    return python


def test_confo_core_and_confo_redis_alone_run_the_redis_page(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    python = _fresh_venv(tmp_path / "venv", str(wheels["confo-core"]), str(wheels["confo-redis"]))
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ours = sorted(line.split("==")[0] for line in listed.splitlines() if "confo" in line)
    assert ours == ["confo-core", "confo-redis"]  # nothing else of this repository
    with RedisServer() as server:
        run_page("docs/backends/redis.md", f"6379={server.port}", python=python)
        run_page("confo-redis/README.md", f"6379={server.port}", python=python)


def test_wheels_carry_licence_readme_and_types(wheels: dict[str, Path]) -> None:
    for package, wheel in wheels.items():
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
        assert any(n.endswith("licenses/LICENSE") for n in names), package
        assert any(n.endswith("/py.typed") for n in names), package
        assert "License-Expression: MIT" in metadata
        assert "Programming Language :: Python :: 3.13" in metadata
        readme = (ROOT / package / "README.md").read_text(encoding="utf-8")
        assert readme.strip() in metadata, f"{package}: its README is the long description"
        assert len(readme) > 1000


def test_versions_and_licences_in_step() -> None:
    licence = (ROOT / "LICENSE").read_text()
    for package in PACKAGES:
        assert (ROOT / package / "LICENSE").read_text() == licence, package
        pyproject = (ROOT / package / "pyproject.toml").read_text()
        if package != "confo-core":  # confo-core reads its version from confo/_version.py
            assert f'\nversion = "{confo.__version__}"\n' in pyproject, package
            assert '"confo-core>=0.3.0,<0.4"' in pyproject, package
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {confo.__version__}" in changelog


IMPORTS = """
import sys
{statement}
heavy = ("importlib.metadata", "pluggy", "grpc", "kazoo", "redis", "pyetcd", "email")
print(sorted({{m.split(".")[0] + ("." + m.split(".")[1] if m.startswith("importlib.") else "")
              for m in sys.modules if m.startswith(heavy)}}))
"""


@pytest.mark.parametrize(
    "statement",
    ["import confo", "from confo.Confo import Confo", "from confo import Confo, ConflictError"],
)
def test_import_confo_imports_nothing_heavy(statement: str) -> None:
    """``import confo`` within 2x of a bare interpreter start (see docs/benchmarks.md) depends on
    this: entry points, pluggy and client libraries load with the first backend only."""
    result = run_python(sys.executable, IMPORTS.format(statement=statement))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_both_import_styles_give_the_class() -> None:
    code = (
        "from confo.Confo import Confo as A\nfrom confo import Confo as B\nimport confo\n"
        "print(A is B is confo.Confo, isinstance(A, type))"
    )
    result = run_python(sys.executable, code)
    assert result.stdout.strip() == "True True", result.stderr


def _copy_of_confo(site: Path) -> None:
    shutil.copytree(Path(confo.__file__).parent, site / "confo")


def test_the_original_confo_installed_beside_is_detected(tmp_path: Path) -> None:
    """The original distribution is also called 'confo' and installs the same package."""
    site = tmp_path / "site-packages"
    _copy_of_confo(site)
    (site / "confo-0.1.4.dist-info").mkdir()  # what pip leaves for the original
    code = f"import sys; sys.path.insert(0, {str(site)!r}); import confo"
    result = run_python(sys.executable, code)
    assert result.returncode == 0, result.stderr
    assert "original Confo" in result.stderr
    assert "pip uninstall -y confo confo-core && pip install confo-core" in result.stderr
    shutil.rmtree(site / "confo-0.1.4.dist-info")
    assert run_python(sys.executable, code).stderr == ""


def test_confo_testing_without_pytest_names_the_extra(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _copy_of_confo(site)
    (site / "pytest.py").write_text("raise ImportError('No module named pytest')\n")
    code = f"import sys; sys.path.insert(0, {str(site)!r}); import confo.testing"
    result = run_python(sys.executable, code)
    assert result.returncode == 1
    assert "pip install 'confo-core[testing]'" in result.stderr


def test_sdists_leave_the_monorepo_tests_out(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "-q",
            "--sdist",
            "--outdir",
            str(tmp_path),
            "./confo-redis",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (sdist,) = tmp_path.glob("confo_redis-*.tar.gz")
    listing = subprocess.run(
        ["tar", "tzf", str(sdist)], capture_output=True, text=True, check=True
    ).stdout
    assert "/LICENSE" in listing
    assert "/src/confo_redis/backend.py" in listing
    assert not re.search(r"/tests/", listing)
