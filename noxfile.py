"""``make pythons``: the test suite on every Python the distributions claim (3.10 to 3.13).

Each session builds a fresh virtual environment with that Python, installs every package of
the repository and the development tools, and runs pytest; interpreters not on the machine are
skipped (``--no-error-on-missing-interpreters``), as tox would.
"""

from __future__ import annotations

import nox

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


@nox.session(python=["3.10", "3.11", "3.12", "3.13"])
def tests(session: nox.Session) -> None:
    for package in [*PACKAGES, *TEMPLATES]:
        session.install("-e", f"./{package}")
    session.install("-r", "requirements-dev.txt")
    session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
