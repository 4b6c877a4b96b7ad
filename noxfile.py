"""``make pythons`` and ``make lowest``: the test suite where ``make test`` does not run it.

``tests`` runs it on every Python the distributions claim (3.10 to 3.13); interpreters not on
the machine are skipped (``--no-error-on-missing-interpreters``), as tox would. ``lowest`` runs
it on the oldest Python with each direct third-party dependency of the distributions and the
templates at its lower bound: those bounds are promises to users, and only a run at those
versions keeps them. Neither runs in CI (``make test``): run them when a bound or a supported
Python changes. Each session builds a fresh virtual environment and installs every package of
the repository and the development tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nox
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PACKAGES = [
    "confo-core",
    "confo-file",
    "confo-redis",
    "confo-zookeeper",
    "confo-etcd",
    "confo-cli",
    "confo-web",
]
# The templates for new backends (a local store, a network store): tested, not published.
TEMPLATES = ["template/confo-sqlite", "template/confo-postgres"]
OLDEST_PYTHON = "3.10"

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]


@nox.session(python=["3.10", "3.11", "3.12", "3.13"])
def tests(session: nox.Session) -> None:
    _install(session)
    session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=OLDEST_PYTHON)
def lowest(session: nox.Session) -> None:
    constraints = Path(session.create_tmp()) / "lowest.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in lower_bounds()))
    # starlette's TestClient took httpx2 in 1.x; the oldest starlette admitted imports httpx.
    _install(session, "-c", str(constraints), "httpx")
    pytest = ["pytest", "-q", "-p", "no:cacheprovider", "-n", "4", "--dist", "loadgroup"]
    session.run(*pytest, *session.posargs)


def _install(session: nox.Session, *more: str) -> None:
    editable = ["-e", "./confo-core[pydantic,testing]"]
    for package in [*PACKAGES, *TEMPLATES]:
        if package != "confo-core":
            editable += ["-e", f"./{package}"]
    session.install(*editable, "-r", "requirements-dev.txt", *more)


def lower_bounds() -> list[tuple[str, str]]:
    """Each direct third-party requirement of the distributions and templates, extras
    included, that applies on the oldest Python, with the highest lower bound it is given."""
    projects = [_project(package) for package in [*PACKAGES, *TEMPLATES]]
    ours = {canonicalize_name(project["name"]) for project in projects}
    python = {"python_version": OLDEST_PYTHON, "python_full_version": f"{OLDEST_PYTHON}.0"}
    environment = {**default_environment(), **python, "extra": ""}
    bounds: dict[str, Version] = {}
    for project in projects:
        for text in _requirements(project):
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            applies = requirement.marker is None or requirement.marker.evaluate(environment)
            if name in ours or not applies:
                continue
            lows = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "~=")]
            if not lows:
                raise ValueError(
                    f"{project['name']} requires {text!r} with no lower bound (>=): give it one, "
                    "the oldest release it works with, for make lowest to test"
                )
            bounds[name] = max([*lows, bounds.get(name, lows[0])])
    return [(name, str(version)) for name, version in sorted(bounds.items())]


def _project(package: str) -> dict[str, Any]:
    project: dict[str, Any] = nox.project.load_toml(Path(package, "pyproject.toml"))["project"]
    return project


def _requirements(project: dict[str, Any]) -> list[str]:
    extras = project.get("optional-dependencies", {}).values()
    return [*project.get("dependencies", []), *(text for extra in extras for text in extra)]
