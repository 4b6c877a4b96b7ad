"""The conformance suite proves the contract: each deliberately broken variant of the template
backend (broken_backends.py) must fail it, in the tests meant to catch that mistake, while the
template itself passes (as datasette proves its hooks against broken plugins).

The variants are registered as backend types by entry points of a throwaway dist-info folder,
as a third party's would be. The whole suite runs against the template in a pytest process of
its own, under pytest-xdist; each variant runs the tests meant to catch it, in another.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from broken_backends import VARIANTS
from helpers import ROOT

# One worker computes the module's fixture (two pytest runs of the suite) and runs its tests.
pytestmark = [pytest.mark.timeout(900), pytest.mark.xdist_group("broken_backends")]

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

    @pytest.fixture
    def store_url(self, credentials: dict[str, str]) -> str | None:
        return f"sqlite:{credentials['path']}" if self.backend_type == "sqlite" else None
"""


@pytest.fixture(scope="session")
def failed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Run the whole suite against the template, under pytest-xdist (whose workers must all
    collect the same test ids), and each variant's tests meant to catch it: the tests that
    failed, by backend type."""
    where = tmp_path_factory.mktemp("suite")
    site = where / "site"
    info = site / "confo_broken-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: confo-broken\nVersion: 0.1\n")
    points = [f"{name} = broken_backends:{cls.__name__}" for name, (cls, _) in VARIANTS.items()]
    (info / "entry_points.txt").write_text("[confo.backends]\n" + "\n".join(points) + "\n")
    classes = [f"class Test_{name}(Sqlite):\n    backend_type = {name!r}\n" for name in TYPES]
    (where / "test_variants.py").write_text(SUITE + "\n\n" + "\n\n".join(classes))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "tests")])}
    targets = sorted({test for _, tests in VARIANTS.values() for test in tests})
    # The template runs with the suite's own bounds: it must pass on a loaded machine, beside
    # this run's other workers. The variants get short ones: a sound backend's watch takes
    # milliseconds here, and a broken one fails at any bound, so waiting longer only slows it.
    runs = {
        "template": (["--timeout=300", "-n", "2", "-k", "Test_sqlite"], {}),
        "variants": (
            ["--timeout=60", "-k", "not Test_sqlite and (" + " or ".join(targets) + ")"],
            {"CONFO_TEST_WATCH_WITHIN": "3"},
        ),
    }
    found: dict[str, set[str]] = {name: set() for name in TYPES}
    for what, (options, bounds) in runs.items():
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
        result = subprocess.run(
            [*command, *options, "test_variants.py"],
            cwd=where,
            env={**env, **bounds},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        failures = re.findall(r"^FAILED \S+::Test_(\w+?)::(\w+)", result.stdout, re.MULTILINE)
        for name, test in failures:
            found[name].add(test)
        assert "passed" in result.stdout or failures, what + result.stdout[-2000:]
        if what == "template":
            passed = re.search(r"\b(\d+) passed", result.stdout)
            assert passed, result.stdout[-3000:]
            assert int(passed.group(1)) > 200, result.stdout[-3000:]
    return found


TYPES = ["sqlite", *VARIANTS]


def test_the_template_passes(failed: dict[str, set[str]]) -> None:
    assert failed["sqlite"] == set()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_broken_variant_fails_the_suite(failed: dict[str, set[str]], variant: str) -> None:
    backend, must_fail = VARIANTS[variant]
    assert failed[variant], f"the suite passed a backend where {backend.__doc__}"
    assert must_fail <= failed[variant], f"caught by {sorted(failed[variant])} only"
