"""The original import path for errors: ``from confo.Exceptions import ...``.

Every error of :mod:`confo.errors` is importable from here.
"""

from confo.errors import *  # noqa: F403
from confo.errors import __all__  # noqa: F401
