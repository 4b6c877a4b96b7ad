"""The ``confo`` command line: list, read, edit, copy, diff and watch configuration in any store.

Run ``confo --help``; the commands are documented in docs/cli.md of the repository.
"""

__version__ = "0.3.0"
