"""The original import path: ``from confo.Confo import Confo``."""

from confo.manager import Confo

__all__ = ["Confo"]
