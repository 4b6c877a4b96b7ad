"""Run the ```console blocks of a Markdown page and compare what each command prints.

In a block, a line starting with ``$ `` is a command (a trailing ``\\`` continues it); the lines
under it, up to the next command, are what it prints on stdout and stderr together. ``...``
matches anything, as in doctest. All blocks of a page run in order in one bash process, in one
folder, so a later block sees what an earlier one made, and ``$?`` and ``$!`` work.

    python tools/runconsole.py [--replace OLD=NEW ...] PAGE.md
"""

from __future__ import annotations

import argparse
import doctest
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples(text: str) -> list[tuple[str, str]]:
    """Every (command, expected output) of the page's console blocks, in order."""
    found: list[list[str]] = []
    for block in BLOCK.findall(text):
        continued = first = True
        for line in block.splitlines():
            if not first and continued:
                found[-1][0] += "\n" + line
            elif line.startswith("$ "):
                found.append([line[2:], ""])
            elif first:
                raise ValueError(f"Output before any command in a console block: {line!r}")
            else:
                found[-1][1] += line + "\n"
            first = False
            continued = line.endswith("\\")
    return [(command, output) for command, output in found]


def run(text: str, cwd: Path) -> list[str]:
    """Run the page's commands; return a description of each mismatch (none: all passed)."""
    pairs = examples(text)
    marker = f"@@{uuid.uuid4().hex}@@"
    script = ["exec 2>&1", "__status=0"]
    for command, _ in pairs:
        script += [f"echo '{marker}'", f"(exit $__status); {command}", "__status=$?"]
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outputs = done.stdout.split(marker + "\n")[1:]
    checker = doctest.OutputChecker()
    failures = []
    for (command, want), got in zip(pairs, outputs + [""] * len(pairs), strict=False):
        if not checker.check_output(want, got, doctest.ELLIPSIS):
            failures.append(f"$ {command}\n--- expected:\n{want}--- got:\n{got}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--replace", action="append", default=[], metavar="OLD=NEW")
    options = parser.parse_args()
    text = options.page.read_text(encoding="utf-8")
    for item in options.replace:
        old, _, new = item.partition("=")
        text = text.replace(old, new)
    with tempfile.TemporaryDirectory() as folder:
        failures = run(text, Path(folder))
    for failure in failures:
        print(failure)
    print(f"{len(examples(text)) - len(failures)} of {len(examples(text))} commands passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
