"""``make pythons`` and ``make lowest``: the test suite where ``make test`` does not run it.

``tests`` runs it on every Python the distributions claim (3.10 to 3.13); interpreters not on
the machine are skipped (``--no-error-on-missing-interpreters``), as tox would. ``lowest`` runs
it on the oldest Python with the oldest release of every dependency the distributions admit:
their lower bounds are promises to users, and only a run at those versions keeps them.
Each session builds a fresh virtual environment and installs every package of the repository
and the development tools.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import nox
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # nox itself needs tomli there
    import tomli as tomllib

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

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]


@nox.session(python=["3.10", "3.11", "3.12", "3.13"])
def tests(session: nox.Session) -> None:
    _install(session)
    session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python="3.10")
def lowest(session: nox.Session) -> None:
    constraints = Path(session.create_tmp()) / "lowest.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in lower_bounds()))
    # starlette's TestClient took httpx2 in 1.x; the oldest starlette admitted imports httpx.
    _install(session, "-c", str(constraints), "httpx")
    session.run("pytest", "-q", "-p", "no:cacheprovider", "-n", "4", "--dist", "loadgroup")


def _install(session: nox.Session, *more: str) -> None:
    editable = ["-e", "./confo-core[pydantic,testing]"]
    for package in [*PACKAGES[1:], *TEMPLATES]:
        editable += ["-e", f"./{package}"]
    session.install(*editable, "-r", "requirements-dev.txt", *more)


def lower_bounds() -> Iterator[tuple[str, str]]:
    """Each third-party dependency of the published distributions, extras included, with the
    version its ``>=`` bound names."""
    bounds: dict[str, str] = {}
    for package in PACKAGES:
        project = tomllib.loads(Path(package, "pyproject.toml").read_text())["project"]
        extras = project.get("optional-dependencies", {}).values()
        for text in [*project["dependencies"], *(r for extra in extras for r in extra)]:
            requirement = Requirement(text)
            for specifier in requirement.specifier:
                if specifier.operator == ">=" and not requirement.name.startswith("confo"):
                    bounds[requirement.name] = specifier.version
    yield from sorted(bounds.items())
