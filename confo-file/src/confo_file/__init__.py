"""confo-file: the Confo backend that keeps configurations in local JSON files."""

from confo_file.backend import FileBackend

__all__ = ["FileBackend"]
