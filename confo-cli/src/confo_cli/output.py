"""Output for people on a terminal and for scripts in a pipe.

Data goes to stdout as JSON (or one name per line), plain whenever stdout is not a terminal, so
``jq`` and ``grep`` read it. Tables, colour and highlighting appear only on a terminal; progress
bars and notes go to stderr, and only when stderr is a terminal. rich honours ``NO_COLOR``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


class Output:
    def __init__(self) -> None:
        self.terminal = sys.stdout.isatty()
        self.error_terminal = sys.stderr.isatty()
        self._console: Console | None = None
        self._error_console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console  # noqa: PLC0415 (rich only for a terminal)

            self._console = Console(highlight=False)
        return self._console

    @property
    def error_console(self) -> Console:
        if self._error_console is None:
            from rich.console import Console  # noqa: PLC0415 (rich only for a terminal)

            self._error_console = Console(stderr=True, highlight=False)
        return self._error_console

    def json(self, value: Any) -> None:
        text = dumps(value)
        if self.terminal:
            self.console.print_json(text)
        else:
            write(text + "\n")

    def json_line(self, value: Any) -> None:
        """One compact JSON document per line, flushed at once (for ``watch``)."""
        write(json.dumps(value, ensure_ascii=False) + "\n")

    def lines(self, items: Iterable[str]) -> None:
        write("".join(f"{item}\n" for item in items))

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        """A table on a terminal; otherwise the first column's values, one per line."""
        if not self.terminal:
            self.lines(str(row[0]) for row in rows)
            return
        from rich.table import Table  # noqa: PLC0415

        table = Table(*headers, box=None, header_style="bold")
        for row in rows:
            table.add_row(*(str(cell) for cell in row))
        self.console.print(table)

    def diff(self, lines: Iterable[str]) -> None:
        if not self.terminal:
            write("".join(lines))
            return
        from rich.text import Text  # noqa: PLC0415

        for line in lines:
            self.console.print(Text(line.rstrip("\n"), style=_diff_style(line)), soft_wrap=True)

    def note(self, text: str) -> None:
        """A remark for a person: on stderr, and only when it is a terminal."""
        if self.error_terminal:
            self.error_console.print(text, style="dim", markup=False)

    @contextmanager
    def progress(self, total: int, what: str) -> Iterator[Progress]:
        if not self.error_terminal or total < 2:
            yield NO_PROGRESS
            return
        from rich.progress import Progress as Bar  # noqa: PLC0415

        with Bar(console=self.error_console, transient=True) as bar:
            yield Progress((bar, bar.add_task(what, total=total)))


class Progress:
    """Advances a progress bar, or nothing when there is none."""

    def __init__(self, task: tuple[Any, Any] | None) -> None:
        self._task = task

    def advance(self, count: int) -> None:
        if self._task is not None:
            bar, task = self._task
            bar.advance(task, count)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def error(text: str) -> None:
    """How every failure ends: ``confo: error: TEXT``, one line on stderr."""
    _complain("error", text)


def warn(text: str) -> None:
    """Something to fix, though the command went on: one line on stderr, terminal or not."""
    _complain("warning", text)


def _complain(level: str, text: str) -> None:
    with suppress(OSError):  # a closed stderr: nowhere left to say it
        sys.stderr.write(f"confo: {level}: {' '.join(text.split())}\n")


def _diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    return ""


NO_PROGRESS = Progress(None)
