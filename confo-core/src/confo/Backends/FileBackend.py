"""``from confo.Backends.FileBackend import FileBackend``: the installed backend class.

Raises BackendNotInstalledError (an ImportError) naming the distribution to install if none does.
"""

from confo.discovery import backend_class

FileBackend = backend_class("file")

__all__ = ["FileBackend"]
