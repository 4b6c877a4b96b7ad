"""Run the ``>>>`` examples of a Markdown page and check their output, in a fresh temp folder.

    python tools/rundoc.py [--verbose] [--replace OLD=NEW ...] PAGE.md

``make demo`` runs the README this way (``--verbose`` echoes each example and what it printed);
the test suite runs every page in docs/ through it, replacing the documented ports with the test
servers' ports, so documentation examples cannot rot. Exits 1 on the first example whose output
differs from what the page shows.
"""

from __future__ import annotations

import argparse
import doctest
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


class _Runner(doctest.DocTestRunner):
    """Echoes each example as the page shows it, when verbose; stops at the first failure."""

    def __init__(self, verbose: bool) -> None:
        super().__init__(optionflags=FLAGS | doctest.REPORT_ONLY_FIRST_FAILURE, verbose=False)
        self.echo = verbose

    def report_start(self, out: Any, test: doctest.DocTest, example: doctest.Example) -> None:
        if self.echo:
            lines = example.source.rstrip("\n").split("\n")
            prompts = (">>> ", *["... "] * (len(lines) - 1))
            echoed = "".join(f"{p}{line}\n" for p, line in zip(prompts, lines, strict=True))
            out(echoed + example.want)


def run(page: Path, replacements: list[tuple[str, str]], verbose: bool) -> int:
    text = page.read_text(encoding="utf-8")
    for old, new in replacements:
        text = text.replace(old, new)
    globs = {"__name__": "__main__"}
    test = doctest.DocTestParser().get_doctest(text, globs, page.name, str(page), 0)
    if not test.examples:
        print(f"{page}: no >>> examples found", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="confo-doc-") as workdir:
        previous = os.getcwd()
        os.chdir(workdir)
        try:
            failures, _ = _Runner(verbose).run(test)
        finally:
            os.chdir(previous)
    if failures:
        return 1
    print(f"{page}: {len(test.examples)} examples passed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--verbose", action="store_true", help="echo examples and their output")
    parser.add_argument("--replace", action="append", default=[], metavar="OLD=NEW")
    args = parser.parse_args()
    replacements = [tuple(item.split("=", 1)) for item in args.replace]
    return run(args.page.resolve(), replacements, args.verbose)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
