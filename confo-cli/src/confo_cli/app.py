"""What every command gets from the ``confo`` group: :class:`App`, its ``click`` object.

A command, here or in another distribution, takes it with ``@click.pass_obj`` and imports it from
this module, never from :mod:`confo_cli.main`: the group imports the commands (through the
``confo.commands`` entry points, :mod:`confo_cli.registry`), so a command importing the group
would be an import circle.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from confo_cli.output import Output
from confo_cli.stores import Store, make_folder, missing_folder, opened

DEFAULT_TIMEOUT = 5.0


@dataclass
class App:
    """What every command gets: the global options, and where output goes."""

    timeout: float = DEFAULT_TIMEOUT
    out: Output = field(default_factory=Output)

    def store(self, url: str, *password_variables: str) -> AbstractContextManager[Store]:
        return opened(url, self.timeout, password_variables)

    def destination(self, url: str, *password_variables: str) -> AbstractContextManager[Store]:
        """A store to write into (cp DST, import URL): the folder of a ``file:`` URL is created
        first if it is missing, parents too, as a backup folder named for the first time."""
        folder = missing_folder(url)
        if folder is not None:
            make_folder(folder)
            self.out.note(f"created the folder {folder}")
        return self.store(url, *password_variables)
