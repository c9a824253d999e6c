"""The exceptions raised by the dataset readers.

* :class:`DatasetError` (a ``ValueError``): a data file or folder exists but cannot be used --
  unreadable (permission denied), the wrong kind of path (a file where a folder is expected),
  or, as its subclass :class:`CorruptDataError`, malformed content.
* :class:`DatasetNotFoundError` (a ``FileNotFoundError``): no usable copy was found; it carries
  the list of places searched in :attr:`DatasetNotFoundError.searched`.

Every message names the file or folder and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DatasetError", "CorruptDataError", "DatasetNotFoundError"]


class DatasetError(ValueError):
    """A data file or folder cannot be used: unreadable, wrong kind of path, or malformed."""


class CorruptDataError(DatasetError):
    """A data file is malformed: bad header, truncated, wrong length or corrupt compression."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset was not found; ``searched`` lists each place looked in (with the reason).

    Parameters
    ----------
    message : str
        The full, human-readable explanation (``str(exc)``).
    searched : iterable of str, optional
        One entry per place looked in, e.g. ``"/data/mnist (directory does not exist)"``.
    """

    def __init__(self, message: str, searched: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.searched: list[str] = list(searched)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def as_path(value: object, name: str = "path") -> Path:
    """``Path(value)`` for a ``str``/``os.PathLike`` argument, else a ``TypeError`` naming it."""
    if isinstance(value, (str, os.PathLike)):
        return Path(value)
    raise TypeError(f"{name} must be a str or os.PathLike, got {type(value).__name__}")


def describe_os_error(path: Path, exc: OSError, action: str = "read") -> DatasetError:
    """A :class:`DatasetError` naming ``path`` for an ``OSError`` met while accessing it."""
    if isinstance(exc, PermissionError):
        return DatasetError(
            f"{path}: permission denied: cannot {action} it (check its permissions)"
        )
    if isinstance(exc, IsADirectoryError):
        return DatasetError(f"{path}: is a folder, expected a file")
    if isinstance(exc, NotADirectoryError):
        return DatasetError(f"{path}: a part of this path is a file, expected a folder")
    return DatasetError(f"{path}: cannot {action} it ({type(exc).__name__}: {exc.strerror or exc})")
