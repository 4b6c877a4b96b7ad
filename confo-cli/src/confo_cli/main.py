"""The ``confo`` command: its group, global options, and how every failure ends.

click parses, documents and completes the commands (it is what pip, flask and black build on;
typer would add a layer over it for nothing we need); rich draws tables, colour and progress on
a terminal. Every failure ends as one line on stderr and a documented exit status
(:mod:`confo_cli.failures`), never a traceback: set ``CONFO_DEBUG=1`` to see one.

The group lists no commands: they are entry points (:mod:`confo_cli.registry`), and nothing
imports this module but the console script and ``python -m confo_cli``. It used to import the
command modules, which imported ``App`` from it: a circle that broke ``import
confo_cli.reading`` on its own. ``App`` lives in :mod:`confo_cli.app` now.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

import click

from confo import __version__ as core_version
from confo.errors import ConfoError
from confo_cli import __version__, failures, output
from confo_cli.app import DEFAULT_TIMEOUT, App
from confo_cli.failures import Failure
from confo_cli.registry import Registry


@click.group(
    cls=Registry,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Stores: file:PATH, redis://[USER[:PASSWORD]@]HOST[:PORT][/DB], rediss://..., "
    "zookeeper://HOST[:PORT][,HOST[:PORT]...], etcd://HOST[:PORT][,...], etcds://...?ca_cert=PEM. "
    "Put passwords in CONFO_PASSWORD rather than in the URL. Exit status: 0 done, 1 diff found "
    "differences, 2 bad input or not found, 3 store unreachable or refused, 4 conflict, 5 refused "
    "by a schema, 130 interrupted. Shell "
    'completion: eval "$(_CONFO_COMPLETE=bash_source confo)" (zsh_source, fish_source).',
)
@click.version_option(
    __version__,
    "-V",
    "--version",
    prog_name="confo",
    message=f"%(prog)s %(version)s (confo-core {core_version})",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for a store before giving up.",
)
@click.pass_context
def cli(ctx: click.Context, timeout: float) -> None:
    """Read, edit, copy, compare and watch configuration in any Confo store.

    \b
    Examples:
      confo ls redis://127.0.0.1:6379
      confo get etcd://127.0.0.1:2379 prod database port
      confo cp zookeeper://127.0.0.1:2181 file:./backup prod
    """
    ctx.obj = App(timeout=timeout)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status (the console script exits with it)."""
    _log_confo_warnings()
    try:
        status = cli.main(args=argv, prog_name="confo", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        output.error("interrupted")
        return failures.INTERRUPTED
    except Exception as exc:  # every failure becomes one line, by design
        return _failed(exc)
    return status if isinstance(status, int) else failures.OK


def _log_confo_warnings() -> None:
    """Confo's own warnings (a skipped index entry, say) on stderr; not the client libraries'
    chatter about connections, which the error that follows sums up."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("confo: warning: %(message)s"))
    handler.addFilter(lambda record: record.name.partition(".")[0].startswith("confo"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)


def _failed(exc: Exception) -> int:
    if os.environ.get("CONFO_DEBUG"):
        raise exc
    line, status = _explain(exc)
    output.error(line)
    return status


def _explain(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, Failure):
        return str(exc), exc.exit_code
    if isinstance(exc, ConfoError):
        return failures.message(exc), failures.exit_code(exc)
    if isinstance(exc, click.UsageError):
        hint = f" Try '{exc.ctx.command_path} --help'." if exc.ctx else ""
        return f"{exc.format_message()}{hint}", exc.exit_code
    if isinstance(exc, click.ClickException):
        return exc.format_message(), exc.exit_code
    if isinstance(exc, BrokenPipeError):  # a reader such as `head` stopped reading
        _silence_stdout()
        return "output closed early", 141
    return f"unexpected {type(exc).__name__}: {exc} (set CONFO_DEBUG=1 for details)", 70


def _silence_stdout() -> None:
    """Python would report the broken pipe again when it flushes stdout on exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
