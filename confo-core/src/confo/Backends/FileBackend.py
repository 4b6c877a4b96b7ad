"""``from confo.Backends.FileBackend import FileBackend``: the original's backend class.

Importing fails, naming the distribution to install (``pip install confo-file``), if none
provides the "file" backend. The class works on its own, as the original's did: see
:mod:`confo.compat.legacy`.
"""

from confo.compat.legacy import legacy_backend

FileBackend = legacy_backend("file")

__all__ = ["FileBackend"]
