"""A bounded, pickle-free reader for ``.npz`` archives (as written by :func:`numpy.savez`).

An ``.npz`` file is a zip archive with one ``<key>.npy`` member per array; each member is an
``.npy`` header (magic ``\\x93NUMPY``, version, a Python-literal dict with ``descr``,
``fortran_order`` and ``shape``) followed by ``prod(shape) * itemsize`` data bytes.

:func:`read_npz` checks, in this order and before reading any array data: that the file is a
zip archive at all, that every requested key is present, that every header parses and declares
a plain (non-object) dtype and at most ``max_bytes`` of data, and then whatever the caller's
``check`` demands of the declared ``(shape, dtype)`` pairs. Only then is each member read, in
chunks, up to its declared size plus one byte. Nothing is ever unpickled.
"""

from __future__ import annotations

import lzma
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from scratchnn.datasets.errors import CorruptDataError, DatasetError, as_path, describe_os_error
from scratchnn.datasets.idx import _check_max_bytes, _read_up_to

__all__ = ["read_npz", "ZIP_MAGICS"]

#: How a zip archive starts: a local file header, or the end record of an empty archive.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

_NPY_MAGIC = b"\x93NUMPY"
_GZIP_MAGIC = b"\x1f\x8b"
# What zipfile / the .npy header parser raise on damaged input (ValueError covers bad headers).
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,  # unsupported compression method
    RuntimeError,  # encrypted member
    ValueError,
    struct.error,
    KeyError,
    OverflowError,
    OSError,
)

Layout = Mapping[str, tuple[tuple[int, ...], np.dtype]]


def describe_start(head: bytes) -> str:
    """A short guess at what a file starting with ``head`` is, for error messages."""
    if not head:
        return "the file is empty"
    if head.startswith(_NPY_MAGIC):
        return "it is a single .npy array, not an .npz archive"
    if head.startswith(_GZIP_MAGIC):
        return "it is gzip-compressed data (an IDX .gz file?)"
    if head[:2] == b"\x00\x00" and len(head) >= 4:
        return "it looks like an IDX file"
    return f"it starts with the bytes {head[:8].hex(' ')}"


def _npy_header(member: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member)
    raise ValueError(f"unsupported .npy format version {version}")


def _declared_bytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    count = 1
    for d in shape:
        count *= int(d)
    return count * dtype.itemsize


def _read_member(zf: zipfile.ZipFile, key: str, file: Path) -> np.ndarray:
    with zf.open(f"{key}.npy") as member:
        shape, fortran, dtype = _npy_header(member)
        expected = _declared_bytes(shape, dtype)
        data = _read_up_to(member, expected + 1)
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing data"
        raise CorruptDataError(
            f"{file}: array {key!r} {what}: shape {shape} of {dtype} needs {expected} bytes, "
            f"found {len(data) if len(data) < expected else f'more than {expected}'}"
        )
    if fortran:
        arr = np.frombuffer(data, dtype=dtype).reshape(shape[::-1]).T
        return np.ascontiguousarray(arr, dtype=dtype.newbyteorder("="))
    arr = np.frombuffer(data, dtype=dtype).reshape(shape)
    return arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))


def _read_layout(zf: zipfile.ZipFile, keys: Sequence[str], file: Path, max_bytes: int) -> Layout:
    layout = {}
    for key in keys:
        with zf.open(f"{key}.npy") as member:
            shape, _, dtype = _npy_header(member)
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise CorruptDataError(
                f"{file}: array {key!r} has dtype {dtype}; only plain numeric arrays are read "
                "(object arrays would need pickle, which is never used)"
            )
        if _declared_bytes(shape, dtype) > max_bytes:
            raise CorruptDataError(
                f"{file}: array {key!r} declares shape {shape} of {dtype} = "
                f"{_declared_bytes(shape, dtype)} bytes, more than the limit of {max_bytes}"
            )
        layout[key] = (tuple(int(d) for d in shape), dtype.newbyteorder("="))
    return layout


def _missing_keys_error(file: Path, keys: Sequence[str], names: list[str]) -> CorruptDataError:
    present = [n[: -len(".npy")] if n.endswith(".npy") else n for n in names]
    missing = [k for k in keys if k not in present]
    return CorruptDataError(
        f"{file}: missing array(s) {missing}; expected keys {list(keys)}, found {present}"
    )


def _sniff(file: Path, label: str, expected: str) -> None:
    """Raise unless ``file`` starts like a zip archive."""
    try:
        with open(file, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise describe_os_error(file, exc) from exc
    if head[:4] not in ZIP_MAGICS:
        raise CorruptDataError(
            f"{file} is not a valid {label} file: not a zip archive ({describe_start(head)}); "
            f"expected {expected}"
        )


def read_npz(
    path: str | os.PathLike,
    keys: Sequence[str],
    *,
    check: Callable[[Layout], None] | None = None,
    max_bytes: int | None = None,
    label: str = ".npz",
    expected: str = "a zip archive as written by numpy.savez",
) -> dict[str, np.ndarray]:
    """Read the arrays ``keys`` from the ``.npz`` file ``path`` without pickle.

    Parameters
    ----------
    path : str or os.PathLike
        The archive.
    keys : sequence of str
        Array names to read (members ``<key>.npy``); all must be present.
    check : callable, optional
        Called with ``{key: (shape, native dtype)}`` after the headers are validated and before
        any data is read; raise to reject the file.
    max_bytes : int, optional
        Largest data size one array may declare; default :data:`idx.MAX_DATA_BYTES`.
    label, expected : str
        What kind of file this is and what a valid one holds, for error messages
        (``"<file> is not a valid <label> file: ...; expected <expected>"``).

    Returns
    -------
    dict
        ``key -> array``, writable, C-contiguous and native-endian.

    Raises
    ------
    CorruptDataError
        If the file is not a zip archive, a key is missing, a header is malformed or declares
        an object dtype or more than ``max_bytes``, or a member is truncated or damaged.
    DatasetError
        If the file cannot be read (permission denied, a folder).
    """
    file = as_path(path)
    limit = _check_max_bytes(max_bytes)
    _sniff(file, label, expected)
    try:
        with zipfile.ZipFile(file) as zf:
            names = zf.namelist()
            if any(f"{k}.npy" not in names for k in keys):
                raise _missing_keys_error(file, keys, names)
            layout = _read_layout(zf, keys, file, limit)
            if check is not None:
                check(layout)
            return {k: _read_member(zf, k, file) for k in keys}
    except DatasetError:
        raise
    except PermissionError as exc:
        raise describe_os_error(file, exc) from exc
    except _ARCHIVE_ERRORS as exc:
        raise CorruptDataError(
            f"{file} is not a valid {label} file: damaged archive ({type(exc).__name__}: {exc}); "
            f"expected {expected}"
        ) from exc
