"""Commands come from the ``confo.commands`` entry points: every module imports on its own, every
command of confo-cli is registered, and another distribution's command joins them (a broken one
is skipped with one warning line and harms no other)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click
import pytest
from clitest import run

import confo_cli
from confo_cli.registry import GROUP, Registry

MODULES = sorted(
    f"confo_cli.{module.name}"
    for module in pkgutil.iter_modules(confo_cli.__path__)
    if module.name != "__main__"  # runs the command when imported: test_version_and_python_m
)
ALONE = """
import importlib, sys
importlib.import_module(sys.argv[1])
if sys.argv[1] != "confo_cli.main":
    assert "confo_cli.main" not in sys.modules, "imports confo_cli.main"
"""


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports_on_its_own(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ALONE, module], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_every_command_of_confo_cli_is_registered() -> None:
    defined = {}
    for module in set(MODULES) - {"confo_cli.main"}:  # main: the group, itself a click command
        for name, value in vars(importlib.import_module(module)).items():
            if isinstance(value, click.Command):
                defined[f"{module}:{name}"] = value.name
    ours = {
        p.value: p.name for p in entry_points(group=GROUP) if p.dist and p.dist.name == "confo-cli"
    }
    assert ours == defined


HELLO = '''
import click
from confo_cli.app import App

@click.command()
@click.pass_obj
def hello(app: App) -> None:
    """Say hello, with the group's --timeout.

    \\b
    Examples:
      confo hello
    """
    app.out.lines([f"hello after {app.timeout} s"])

not_a_command = 42
'''


def _install(site: Path, distribution: str, points: str) -> None:
    """A distribution as pip leaves it: its metadata, with entry points, on sys.path."""
    info = site / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{points}\n")


@pytest.fixture
def site(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "confo_hello.py").write_text(HELLO)
    _install(tmp_path, "confo-hello", "hello = confo_hello:hello")
    _install(
        tmp_path,
        "confo-broken",
        "gone = confo_no_such_module:gone\nodd = confo_hello:not_a_command",
    )
    _install(tmp_path, "confo-thief", "set = confo_hello:hello")
    return {"PYTHONPATH": str(tmp_path)}


def test_another_distribution_adds_a_command(site: dict[str, str]) -> None:
    said = run("--timeout", "3", "hello", env=site)
    assert (said.code, said.out) == (0, "hello after 3.0 s\n")
    listed = run("--help", env=site)
    assert listed.code == 0
    for command in ["hello", "ls", "get", "set", "rm", "export", "import", "cp", "diff", "watch"]:
        assert f"\n  {command} " in listed.out, command
    assert "gone" not in listed.out
    assert listed.err.splitlines() == [
        "confo: warning: command 'gone' of confo-broken (confo_no_such_module:gone) skipped: it "
        "failed to load (ModuleNotFoundError: No module named 'confo_no_such_module').",
        "confo: warning: command 'odd' of confo-broken (confo_hello:not_a_command) skipped: it is "
        "an object of type 'int', not a click command.",
        "confo: warning: command 'set' of confo-thief (confo_hello:hello) skipped: confo-cli "
        "(confo_cli.writing:set_) has a command of that name.",
    ]
    words = {"_CONFO_COMPLETE": "bash_complete", "COMP_WORDS": "confo ", "COMP_CWORD": "1"}
    offered = run(env={**site, **words})
    assert "plain,hello" in offered.out.splitlines()
    assert "plain,gone" not in offered.out.splitlines()
    assert offered.err == ""  # in the middle of a prompt: no warning


def test_a_broken_command_harms_no_other(site: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "store" / "prod").mkdir(parents=True)
    (tmp_path / "store" / "prod" / "app.json").write_text('{"port": 1}')
    read = run("get", f"file:{tmp_path / 'store'}", "prod", "app", "port", env=site)
    assert (read.code, read.out, read.err) == (0, "1\n", "")  # loaded when used: no warning
    written = run("set", f"file:{tmp_path / 'store'}", "prod", "app", "port", "2", env=site)
    assert written.code == 0  # confo-cli's set, not confo-thief's of the same name:
    assert written.err.startswith("confo: warning: command 'set' of confo-thief")
    assert json.loads((tmp_path / "store" / "prod" / "app.json").read_text()) == {"port": 2}
    broken = run("gone", env=site)
    assert broken.code == 2
    assert broken.err.splitlines()[0].startswith("confo: warning: command 'gone' of confo-broken")
    assert broken.err.splitlines()[1].startswith("confo: error: No such command 'gone'.")


def test_the_loader_with_entry_points_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "confo_hello.py").write_text(HELLO)
    monkeypatch.syspath_prepend(str(tmp_path))
    group = Registry(
        points=[
            EntryPoint("hello", "confo_hello:hello", GROUP),
            EntryPoint("gone", "confo_no_such_module:gone", GROUP),
        ]
    )
    context = click.Context(group)
    assert group.list_commands(context) == ["gone", "hello"]
    assert group.get_command(context, "gone") is None
    assert group.get_command(context, "gone") is None  # warned about once
    assert group.list_commands(context) == ["hello"]
    hello = group.get_command(context, "hello")
    assert isinstance(hello, click.Command)
    assert group.get_command(context, "hello") is hello  # imported once
    assert capsys.readouterr().err == (
        "confo: warning: command 'gone' of confo_no_such_module:gone skipped: it failed to load "
        "(ModuleNotFoundError: No module named 'confo_no_such_module').\n"
    )
