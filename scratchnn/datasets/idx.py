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
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["CorruptDataError", "read_idx", "parse_idx", "write_idx", "read_bytes", "DTYPE_CODES"]

#: IDX dtype code -> big-endian NumPy dtype.
DTYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


class CorruptDataError(ValueError):
    """A data file is malformed: bad header, truncated, wrong length or corrupt compression."""


def read_bytes(path: str | os.PathLike) -> bytes:
    """Return the (decompressed) content of ``path``.

    The file is gunzipped when it starts with the gzip magic bytes ``1f 8b``, whatever its
    name; otherwise it is returned as is.

    Raises
    ------
    CorruptDataError
        If the file looks like gzip but cannot be decompressed (truncated or damaged stream,
        CRC mismatch).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise CorruptDataError(
            f"{path}: corrupt gzip data ({type(exc).__name__}: {exc}); "
            "delete the file and download it again"
        ) from exc


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode an uncompressed IDX byte string into a native-endian array.

    Parameters
    ----------
    data : bytes
        The whole file content (header + data), already decompressed.
    name : str
        Name used in error messages (normally the file path).

    Returns
    -------
    np.ndarray
        A writable, C-contiguous array of shape ``(n_1, ..., n_d)`` in the native byte
        order of the IDX dtype (``uint8`` for MNIST).

    Raises
    ------
    CorruptDataError
        For a bad magic number, an unknown dtype code, ``ndim == 0``, or when the number of
        data bytes differs from ``prod(dims) * itemsize`` (truncated or padded file).
    """
    if len(data) < 4:
        raise CorruptDataError(
            f"{name}: not an IDX file: only {len(data)} byte(s), need at least a 4-byte header"
        )
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero0 != 0 or zero1 != 0:
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
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise CorruptDataError(
            f"{name}: truncated IDX header: {ndim} dimension(s) need {header_len} header bytes, "
            f"file has {len(data)}"
        )
    dims = struct.unpack(f">{ndim}i", data[4:header_len])
    if any(d < 0 for d in dims):
        raise CorruptDataError(f"{name}: negative dimension in IDX header: {dims}")
    dtype = DTYPE_CODES[code]
    count = 1
    for d in dims:
        count *= d
    expected = count * dtype.itemsize
    actual = len(data) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing data"
        raise CorruptDataError(
            f"{name}: IDX file {what}: shape {tuple(dims)} of {dtype.name} needs "
            f"{expected} data bytes, found {actual} (expected file size {header_len + expected} "
            f"bytes, actual {len(data)})"
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header_len).reshape(dims)
    # astype copies: the result is writable and native-endian.
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    Parameters
    ----------
    path : str or os.PathLike
        File to read. Gzip compression is detected by the magic bytes ``1f 8b``.

    Returns
    -------
    np.ndarray
        Array of the shape and dtype declared in the header, e.g. ``uint8 (60000, 28, 28)``
        for ``train-images-idx3-ubyte``. Decoding uses ``np.frombuffer`` (no Python loops).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CorruptDataError
        (a ``ValueError``) naming the file, for corrupt gzip, bad magic, unknown dtype code,
        or a data length that does not match the header (expected vs actual byte count).
    """
    return parse_idx(read_bytes(path), name=str(path))


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
    from ..atomic import atomic_write

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
