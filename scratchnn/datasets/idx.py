"""Reading and writing the IDX binary format used by the MNIST distribution.

An IDX file is a header followed by the raw array data, all big-endian::

    bytes 0-1   0x00 0x00           (always zero)
    byte  2     dtype code          0x08 uint8, 0x09 int8, 0x0B int16,
                                    0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim                number of dimensions d >= 1
    4 * d bytes d big-endian int32  the dimensions n_1, ..., n_d
    data        n_1 * ... * n_d * itemsize bytes, C (row-major) order

so the MNIST image files start with the magic number ``0x00000803`` (3-D uint8,
shape ``(N, 28, 28)``) and the label files with ``0x00000801`` (1-D uint8, shape
``(N,)``). Files may be gzip-compressed; compression is detected from the gzip
magic bytes ``1f 8b``, not from the file name.

The reader trusts nothing it has not checked: the header is validated first, a declared data
size ``n_1 * ... * n_d * itemsize`` above ``max_bytes`` (default :data:`MAX_DATA_BYTES`) is
rejected from the header alone, a raw file's size on disk is compared with the declared size
before any data is read, and a gzip stream is decompressed in chunks up to the declared size
plus one byte (to detect trailing data), never further. Memory use is therefore bounded by the
declared size, whatever the compressed stream would expand to.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from scratchnn.datasets.errors import CorruptDataError, DatasetError, as_path, describe_os_error

__all__ = [
    "CorruptDataError",
    "DatasetError",
    "read_idx",
    "read_idx_header",
    "parse_idx",
    "write_idx",
    "read_bytes",
    "DTYPE_CODES",
    "MAX_DATA_BYTES",
]

#: IDX dtype code -> big-endian NumPy dtype.
DTYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: Largest data size (bytes) an IDX header may declare before it is rejected unread: 1 GiB,
#: twenty times MNIST's largest file. Change it here or pass ``max_bytes=`` per call.
MAX_DATA_BYTES: int = 1 << 30

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16  # bytes per read: what a lying header can make us allocate ahead
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True)
class _Header:
    """A validated IDX header: big-endian ``dtype``, ``dims`` and the header's length."""

    dtype: np.dtype
    dims: tuple[int, ...]
    length: int

    @property
    def data_bytes(self) -> int:
        return math.prod(self.dims) * self.dtype.itemsize


def _check_max_bytes(max_bytes: int | None) -> int:
    if max_bytes is None:
        return MAX_DATA_BYTES
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)):
        raise TypeError(f"max_bytes must be an int or None, got {type(max_bytes).__name__}")
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
    return int(max_bytes)


def _read_up_to(stream: BinaryIO, n: int) -> bytearray:
    """At most ``n`` bytes from ``stream``, read in chunks so nothing of size ``n`` is allocated
    before the data is actually there (``n`` may come from an untrusted header)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


@contextmanager
def _open_stream(path: Path) -> Iterator[tuple[BinaryIO, int | None]]:
    """Yield ``(stream, size)``: the decompressed content of ``path`` and, for a raw file, its
    size on disk (``None`` for gzip). Errors become :class:`DatasetError` naming ``path``."""
    try:
        with open(path, "rb") as fh:
            is_gzip = fh.read(2) == _GZIP_MAGIC
            fh.seek(0)
            if is_gzip:
                with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                    yield gz, None
            else:
                yield fh, os.fstat(fh.fileno()).st_size
    except _GZIP_ERRORS as exc:
        raise CorruptDataError(
            f"{path}: corrupt gzip data ({type(exc).__name__}: {exc}); "
            "delete the file and download it again"
        ) from exc
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise describe_os_error(path, exc) from exc


def _parse_header(stream: BinaryIO, name: str, max_bytes: int) -> _Header:
    head = bytes(_read_up_to(stream, 4))
    if len(head) < 4:
        raise CorruptDataError(
            f"{name}: not an IDX file: only {len(head)} byte(s), need at least a 4-byte header"
        )
    code, ndim = head[2], head[3]
    magic = int.from_bytes(head, "big")
    if head[:2] != b"\x00\x00":
        raise CorruptDataError(
            f"{name}: bad IDX magic number 0x{magic:08X} (the first two bytes must be zero; "
            "expected e.g. 0x00000803 for images or 0x00000801 for labels)"
        )
    if code not in DTYPE_CODES:
        known = ", ".join(f"0x{c:02X} ({DTYPE_CODES[c].name})" for c in sorted(DTYPE_CODES))
        raise CorruptDataError(
            f"{name}: unknown IDX dtype code 0x{code:02X} in magic number 0x{magic:08X}; "
            f"known codes: {known}"
        )
    if ndim == 0:
        raise CorruptDataError(f"{name}: IDX header declares 0 dimensions (magic 0x{magic:08X})")
    raw_dims = bytes(_read_up_to(stream, 4 * ndim))
    if len(raw_dims) < 4 * ndim:
        raise CorruptDataError(
            f"{name}: truncated IDX header: {ndim} dimension(s) need {4 + 4 * ndim} header "
            f"bytes, file has {4 + len(raw_dims)}"
        )
    dims = struct.unpack(f">{ndim}i", raw_dims)
    if any(d < 0 for d in dims):
        raise CorruptDataError(f"{name}: negative dimension in IDX header: {dims}")
    header = _Header(DTYPE_CODES[code], dims, 4 + 4 * ndim)
    if header.data_bytes > max_bytes:
        raise CorruptDataError(
            f"{name}: IDX header declares shape {dims} of {header.dtype.name} = "
            f"{header.data_bytes} data bytes, more than the limit of {max_bytes} bytes; "
            "refusing to read it (raise max_bytes= or idx.MAX_DATA_BYTES for larger files)"
        )
    return header


def _length_error(
    name: str, header: _Header, actual: int, exact: bool, compressed: bool
) -> CorruptDataError:
    expected = header.data_bytes
    what = "truncated" if actual < expected else "has trailing data"
    at_least = "" if exact else "at least "
    size = "decompressed size" if compressed else "file size"
    return CorruptDataError(
        f"{name}: IDX file {what}: shape {header.dims} of {header.dtype.name} needs "
        f"{expected} data bytes, found {at_least}{actual} (expected {size} "
        f"{header.length + expected} bytes, actual {at_least}{header.length + actual})"
    )


def _parse_stream(stream: BinaryIO, size: int | None, name: str, max_bytes: int) -> np.ndarray:
    """Read one IDX array from ``stream``; ``size`` is the total length when known."""
    header = _parse_header(stream, name, max_bytes)
    expected = header.data_bytes
    compressed = size is None
    if size is not None and size - header.length != expected:
        raise _length_error(name, header, size - header.length, True, compressed)
    data = _read_up_to(stream, expected + 1)  # one byte more reveals trailing data
    if len(data) != expected:
        raise _length_error(name, header, len(data), len(data) < expected, compressed)
    try:
        arr = np.frombuffer(data, dtype=header.dtype).reshape(header.dims)
    except ValueError as exc:  # e.g. (2**24, 2**24, 2**15, 0): no bytes, but too large for NumPy
        raise CorruptDataError(f"{name}: IDX header declares shape {header.dims}, which NumPy "
                               f"cannot represent ({exc})") from exc
    if header.dtype.itemsize == 1:
        return arr  # backed by a fresh bytearray: already writable and native
    return arr.astype(header.dtype.newbyteorder("="))  # byte-swapped, writable copy


def read_bytes(path: str | os.PathLike, *, max_bytes: int | None = None) -> bytes:
    """Return the (decompressed) content of ``path``.

    The file is gunzipped when it starts with the gzip magic bytes ``1f 8b``, whatever its
    name; otherwise it is returned as is. At most ``max_bytes + 1`` bytes are ever decompressed.

    Parameters
    ----------
    path : str or os.PathLike
        File to read.
    max_bytes : int, optional
        Largest accepted content length; default :data:`MAX_DATA_BYTES`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CorruptDataError
        If the file looks like gzip but cannot be decompressed (truncated or damaged stream,
        CRC mismatch), or the content is longer than ``max_bytes``.
    DatasetError
        If the file cannot be read (permission denied, a folder, an I/O error).
    """
    path = as_path(path)
    limit = _check_max_bytes(max_bytes)
    with _open_stream(path) as (stream, _):
        data = _read_up_to(stream, limit + 1)
    if len(data) > limit:
        raise CorruptDataError(f"{path}: content is longer than the limit of {limit} bytes")
    return bytes(data)


def parse_idx(data: bytes, name: str = "<bytes>", *, max_bytes: int | None = None) -> np.ndarray:
    """Decode an uncompressed IDX byte string into a native-endian array.

    Parameters
    ----------
    data : bytes
        The whole file content (header + data), already decompressed.
    name : str
        Name used in error messages (normally the file path).
    max_bytes : int, optional
        Largest data size the header may declare; default :data:`MAX_DATA_BYTES`.

    Returns
    -------
    np.ndarray
        A writable, C-contiguous array of shape ``(n_1, ..., n_d)`` in the native byte
        order of the IDX dtype (``uint8`` for MNIST).

    Raises
    ------
    CorruptDataError
        For a bad magic number, an unknown dtype code, ``ndim == 0``, a declared size above
        ``max_bytes``, or when the number of data bytes differs from ``prod(dims) * itemsize``
        (truncated or padded file).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    limit = _check_max_bytes(max_bytes)
    return _parse_stream(io.BytesIO(data), len(data), str(name), limit)


def read_idx_header(
    path: str | os.PathLike, *, max_bytes: int | None = None
) -> tuple[tuple[int, ...], np.dtype]:
    """Return ``(shape, dtype)`` declared by the header of an IDX file, reading nothing more.

    ``dtype`` is native-endian (what :func:`read_idx` returns). The header is validated as in
    :func:`read_idx`, including the ``max_bytes`` limit; the data length is not checked.
    """
    path = as_path(path)
    limit = _check_max_bytes(max_bytes)
    with _open_stream(path) as (stream, _):
        header = _parse_header(stream, str(path), limit)
    return header.dims, header.dtype.newbyteorder("=")


def read_idx(path: str | os.PathLike, *, max_bytes: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    Parameters
    ----------
    path : str or os.PathLike
        File to read. Gzip compression is detected by the magic bytes ``1f 8b``.
    max_bytes : int, optional
        Largest data size ``prod(dims) * itemsize`` the header may declare; default
        :data:`MAX_DATA_BYTES`. Larger declarations are rejected before any data is read.

    Returns
    -------
    np.ndarray
        Array of the shape and dtype declared in the header, e.g. ``uint8 (60000, 28, 28)``
        for ``train-images-idx3-ubyte``. Decoding uses ``np.frombuffer`` (no Python loops).
        At most the declared size plus one byte is ever read or decompressed.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CorruptDataError
        (a ``ValueError``) naming the file, for corrupt gzip, bad magic, unknown dtype code,
        a declared size above ``max_bytes``, or a data length that does not match the header
        (expected vs actual byte count).
    DatasetError
        (a ``ValueError``, the base of ``CorruptDataError``) if the file cannot be read:
        permission denied, a folder, an I/O error.
    """
    path = as_path(path)
    limit = _check_max_bytes(max_bytes)
    with _open_stream(path) as (stream, size):
        return _parse_stream(stream, size, str(path), limit)


def _idx_code(dtype: np.dtype) -> int:
    for code, dt in DTYPE_CODES.items():
        if dt.kind == dtype.kind and dt.itemsize == dtype.itemsize:
            return code
    supported = ", ".join(dt.newbyteorder("=").name for dt in DTYPE_CODES.values())
    raise TypeError(f"IDX cannot store dtype {dtype}; supported: {supported}")


def write_idx(path: str | os.PathLike, array) -> Path:
    """Write ``array`` to ``path`` in IDX format; gzip-compress when the name ends in ``.gz``.

    The write is atomic (:func:`scratchnn.atomic.atomic_write`): data goes to a temporary file
    in the same directory which is then renamed over ``path`` with :func:`os.replace`.  A new
    file gets the umask's permissions, a replaced one keeps its own; writing through a symlink
    replaces the file it points to.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file (its folder must exist).
    array : array_like
        At least 1-D, at most 255-D, of dtype uint8, int8, int16, int32, float32 or float64.
        Each dimension must fit in a signed 32-bit int.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from scratchnn.atomic import atomic_write

    arr = np.asarray(array)
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"IDX arrays must have 1 to 255 dimensions, got {arr.ndim}")
    if any(d > 0x7FFFFFFF for d in arr.shape):
        raise ValueError(f"IDX dimensions must fit in int32, got shape {arr.shape}")
    code = _idx_code(arr.dtype)
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}i", *arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=DTYPE_CODES[code]).tobytes()
    path = Path(path)
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    atomic_write(path, lambda f: f.write(payload))
    return path
