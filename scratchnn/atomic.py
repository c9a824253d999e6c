"""Atomic file replacement shared by every writer in scratchnn (model files, IDX files).

:func:`atomic_write` writes to a temporary file next to the target, flushes it to disk and only
then renames it over the target with :func:`os.replace`, so a reader sees either the old file
or the complete new one, never a half-written one.  The rules:

* **Permissions.**  A new file gets ``0o666 & ~umask`` (as ``open``/``np.savez`` give it); a
  replaced file keeps its permission bits (it is owned by whoever wrote it last).
* **Symlinks.**  Writing through a symlink replaces the file it points to; the link stays a link.
* **Temporary files** are named ``.<target name>.<pid>.<random hex>.scratchnn-tmp`` in the
  target's folder and are removed on any error.  A process killed mid-write (SIGKILL, power
  loss) cannot remove its own, so before each write the temporary files of *that target* whose
  process no longer exists are deleted (POSIX only; a temporary file whose pid has been reused
  by a live process stays until that process ends).  Temporary *folders* (a download being
  staged, :func:`make_temp_dir`) follow the same naming and clean-up.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["TEMP_SUFFIX", "atomic_write", "make_temp_dir", "remove_stale_temp_files",
           "resolve_target", "temp_path"]

#: Suffix of every temporary file written by :func:`atomic_write`.
TEMP_SUFFIX = ".scratchnn-tmp"
_MAX_PID = 2**31 - 1


def resolve_target(path: str | os.PathLike) -> Path:
    """The regular file that writing ``path`` must replace: ``path`` with symlinks resolved.

    Raises ``FileNotFoundError`` when the folder does not exist, ``IsADirectoryError`` /
    ``OSError`` when the target exists but is not a regular file (a folder, a device, a FIFO)
    or the symlinks loop.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"filepath must be a str or os.PathLike, got {type(path).__name__}")
    given = Path(path)
    target = Path(os.path.realpath(given))
    if target.is_symlink():
        raise OSError(errno.ELOOP, f"cannot write {given}: symlink loop", str(given))
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {given}: folder {target.parent} does not exist")
    if target.exists() and not target.is_file():
        kind = "a folder" if target.is_dir() else "not a regular file"
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {given}: {target} is {kind}",
                                str(given))
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _temp_pid(entry: str, prefix: str) -> int | None:
    """The pid in ``.<name>.<pid>.<hex>.scratchnn-tmp``, or None if ``entry`` is not ours."""
    if not (entry.startswith(prefix) and entry.endswith(TEMP_SUFFIX)):
        return None
    middle = entry[len(prefix):-len(TEMP_SUFFIX)].split(".")
    if len(middle) != 2 or not middle[0].isdigit():
        return None
    pid = int(middle[0])
    return pid if 0 < pid <= _MAX_PID else None


def temp_path(target: Path) -> Path:
    """A fresh name ``.<target name>.<pid>.<random hex>.scratchnn-tmp`` beside ``target``."""
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"


def make_temp_dir(target: Path) -> Path:
    """Create and return a temporary folder named like :func:`temp_path` (e.g. to stage a
    download), after removing the stale ones of ``target`` (:func:`remove_stale_temp_files`)."""
    remove_stale_temp_files(target)
    folder = temp_path(target)
    folder.mkdir()
    return folder


def _remove(path: Path, is_dir: bool) -> bool:
    try:
        shutil.rmtree(path) if is_dir else os.unlink(path)
    except OSError:  # removed concurrently, or not ours to remove
        return False
    return True


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Delete ``target``'s temporary files (and folders) left by processes that no longer exist.

    Only entries named by :func:`temp_path` for this exact target are considered; those of
    this process and of live processes are kept.  Returns the paths removed.
    """
    if os.name != "posix":  # os.kill(pid, 0) is not an existence check elsewhere
        return []
    prefix = f".{target.name}."
    try:
        with os.scandir(target.parent) as entries:
            found = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries
                     if e.is_file(follow_symlinks=False) or e.is_dir(follow_symlinks=False)]
    except OSError:  # a folder we may write but not list: nothing to clean
        return []
    removed = []
    for name, is_dir in found:
        pid = _temp_pid(name, prefix)
        if pid is None or pid == os.getpid() or _pid_alive(pid):
            continue
        if _remove(target.parent / name, is_dir):
            removed.append(target.parent / name)
    return removed


def _new_file_mode(target: Path) -> int | None:
    """The permission bits to give the new file: the old file's, or None (umask decides)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None


def _chmod(fd: int, path: Path, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows: only the read-only bit exists
        os.chmod(path, mode)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temporary binary file, then atomically replace ``path`` with it.

    See the module docstring for permissions, symlinks and temporary files.  On any error
    (including ``KeyboardInterrupt``) the temporary file is removed and ``path`` is untouched.
    Returns the file actually written (``path`` with symlinks resolved).
    """
    target = resolve_target(path)
    remove_stale_temp_files(target)
    mode = _new_file_mode(target)
    tmp = temp_path(target)
    # O_EXCL: never follow or reuse an existing name; 0o666 lets the umask decide, as open() does
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if mode is not None:
                _chmod(f.fileno(), tmp, mode)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(target.parent)
    return target
