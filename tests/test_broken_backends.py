"""The conformance suite proves the contract: each deliberately broken variant of the template
backend (broken_backends.py) must fail it, in the tests meant to catch that mistake, while the
template itself passes (as datasette proves its hooks against broken plugins).

The variants are registered as backend types by entry points of a throwaway dist-info folder,
as a third party's would be, and the suite runs in a separate pytest process per variant.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from broken_backends import VARIANTS
from helpers import ROOT

SUITE = """
import pytest

from confo.testing import BackendConformance
from confo_sqlite.testing import SqliteRaw


class Sqlite(BackendConformance):
    @pytest.fixture
    def credentials(self, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
        return {"path": str(tmp_path_factory.getbasetemp() / f"{self.backend_type}.db")}

    @pytest.fixture
    def raw(self, credentials: dict[str, str]) -> SqliteRaw:
        return SqliteRaw(credentials["path"])
"""

# Seconds each against a sound backend, and no variant's mistake is theirs alone to catch.
SLOW = "not processes and not idle_watch and not threads_sharing"


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Run the suite once against the template and each variant, in one pytest process: the
    tests that failed, by backend type."""
    where = tmp_path_factory.mktemp("suite")
    site = where / "site"
    info = site / "confo_broken-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: confo-broken\nVersion: 0.1\n")
    points = [f"{name} = broken_backends:{cls.__name__}" for name, (cls, _) in VARIANTS.items()]
    (info / "entry_points.txt").write_text("[confo.backends]\n" + "\n".join(points) + "\n")
    classes = [f"class Test_{name}(Sqlite):\n    backend_type = {name!r}\n" for name in TYPES]
    (where / "test_variants.py").write_text(SUITE + "\n\n" + "\n\n".join(classes))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "tests")]),
        "CONFO_TEST_WATCH_WITHIN": "3",  # a sound backend's watch takes milliseconds here
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    result = subprocess.run(
        [*command, "--timeout=60", "-k", SLOW, "test_variants.py"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    found: dict[str, set[str]] = {name: set() for name in TYPES}
    for name, test in re.findall(r"^FAILED \S+::Test_(\w+?)::(\w+)", result.stdout, re.MULTILINE):
        found[name].add(test)
    assert "passed" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
    return found


TYPES = ["sqlite", *VARIANTS]


def test_the_template_passes(failed: dict[str, set[str]]) -> None:
    assert failed["sqlite"] == set()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_broken_variant_fails_the_suite(failed: dict[str, set[str]], variant: str) -> None:
    backend, must_fail = VARIANTS[variant]
    assert failed[variant], f"the suite passed a backend where {backend.__doc__}"
    assert must_fail <= failed[variant], f"caught by {sorted(failed[variant])} only"


def test_the_suite_runs_under_xdist() -> None:
    """pytest-xdist collects in every worker and requires the same test ids in each."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "template/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\b\d{2,} passed", result.stdout)
