"""The version of confo-core; every distribution of this repository is released at the same one."""

__version__ = "0.3.0"
