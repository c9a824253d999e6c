"""Property-based fuzzing of the IDX reader and the MNIST ``.npz`` reader (bounded for CI).

Properties, for raw and gzip files alike:

* whatever the bytes, reading either returns an array or raises the documented
  :class:`CorruptDataError` (a ``ValueError``) -- never ``struct.error``, ``MemoryError``,
  ``EOFError``, ``zlib.error`` or a NumPy exception;
* when an array comes back, re-encoding it gives back exactly the (decompressed) bytes read:
  nothing is invented, dropped or reinterpreted;
* valid files round-trip bit for bit (NaN payloads included);
* a header declaring a huge size costs memory proportional to the bytes actually present
  (tracemalloc peak), not to the declaration.
"""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile
import zlib
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchnn.datasets import idx, mnist
from scratchnn.datasets.errors import CorruptDataError, DatasetError
from scratchnn.datasets.idx import DTYPE_CODES, read_idx

_QUIET = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
FUZZ = settings(max_examples=150, **_QUIET)
FEW = settings(max_examples=25, **_QUIET)
MIB = 1 << 20


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}i", *dims)


def encode(arr: np.ndarray) -> bytes:
    """The IDX bytes of ``arr`` (independent of ``write_idx``)."""
    (code, big_endian), = [(c, d) for c, d in DTYPE_CODES.items()
                           if d.newbyteorder("=") == arr.dtype]
    return header(code, arr.shape) + arr.astype(big_endian).tobytes()


def read_or_corrupt(path: Path) -> np.ndarray | None:
    """``read_idx(path)``, or ``None`` when it raised the documented error."""
    try:
        return read_idx(path)
    except CorruptDataError as exc:
        assert str(path) in str(exc)
        return None


def decompressed(content: bytes) -> bytes | None:
    """What a gzip reader should see in ``content`` (``None`` if it is not valid gzip)."""
    if content[:2] != b"\x1f\x8b":
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error):
        return None


def check_any_bytes(path: Path, content: bytes) -> np.ndarray | None:
    """Write ``content``, read it, and check the two properties above."""
    path.write_bytes(content)
    out = read_or_corrupt(path)
    if out is not None:
        assert out.flags.c_contiguous and out.flags.writeable and out.dtype.isnative
        assert encode(out) == decompressed(content)
    return out


# --------------------------------------------------------------------------- strategies

codes = st.sampled_from(sorted(DTYPE_CODES))


@st.composite
def valid_idx(draw) -> tuple[bytes, bytes]:
    """(whole file content, data bytes) of a small valid IDX file."""
    code = draw(codes)
    dims = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=4)))
    n = int(np.prod(dims)) * DTYPE_CODES[code].itemsize
    data = draw(st.binary(min_size=n, max_size=n))
    return header(code, dims) + data, data


@st.composite
def idx_like(draw) -> bytes:
    """Header-shaped noise: any magic bytes, dtype code, ndim, dims and a random body."""
    zeros = draw(st.sampled_from([b"\x00\x00", b"\x00\x00", b"\x00\x01", b"\xff\x00"]))
    code = draw(st.one_of(codes, st.integers(0, 255)))
    ndim = draw(st.one_of(st.integers(0, 4), st.integers(0, 255)))
    n_dims = draw(st.integers(0, ndim))  # may be short of what ndim announces
    dim = st.one_of(st.integers(0, 4), st.integers(-(2**31), 2**31 - 1))
    dims = draw(st.lists(dim, min_size=n_dims, max_size=n_dims))
    body = draw(st.binary(max_size=64))
    return zeros + bytes([code, ndim]) + struct.pack(f">{n_dims}i", *dims) + body


maybe_gzip = st.booleans()


def packed(content: bytes, gz: bool) -> bytes:
    return gzip.compress(content, mtime=0) if gz else content


# --------------------------------------------------------------------------- IDX properties


@FUZZ
@given(valid=valid_idx(), gz=maybe_gzip)
def test_valid_files_round_trip_exactly(workdir, valid, gz):
    content, data = valid
    out = check_any_bytes(workdir / "valid", packed(content, gz))
    assert out is not None
    assert out.astype(out.dtype.newbyteorder(">")).tobytes() == data
    np.testing.assert_array_equal(idx.parse_idx(content), out)


@FUZZ
@given(content=idx_like(), gz=maybe_gzip)
def test_random_headers_give_an_array_or_corrupt_data_error(workdir, content, gz):
    check_any_bytes(workdir / "noise", packed(content, gz))


@FUZZ
@given(content=st.binary(max_size=96))
def test_random_bytes(workdir, content):
    check_any_bytes(workdir / "bytes", content)


@FUZZ
@given(valid=valid_idx(), gz=maybe_gzip, data=st.data())
def test_truncation_is_always_an_error(workdir, valid, gz, data):
    content, _ = valid
    cut = data.draw(st.integers(0, len(content) - 1))
    assert check_any_bytes(workdir / "cut", packed(content[:cut], gz)) is None


@FUZZ
@given(valid=valid_idx(), junk=st.binary(min_size=1, max_size=32), gz=maybe_gzip)
def test_trailing_junk_inside_the_data_is_always_an_error(workdir, valid, junk, gz):
    content, _ = valid
    assert check_any_bytes(workdir / "long", packed(content + junk, gz)) is None


@FUZZ
@given(valid=valid_idx(), junk=st.binary(min_size=1, max_size=32))
def test_junk_after_a_gzip_stream(workdir, valid, junk):
    content, _ = valid
    out = check_any_bytes(workdir / "after", gzip.compress(content, mtime=0) + junk)
    if out is not None:  # gzip readers accept zero padding after the last member
        assert junk.strip(b"\x00") == b"" and encode(out) == content


@FUZZ
@given(valid=valid_idx(), gz=maybe_gzip, data=st.data())
def test_bit_flips_in_valid_files(workdir, valid, gz, data):
    file = bytearray(packed(valid[0], gz))
    positions = data.draw(st.lists(st.integers(0, len(file) * 8 - 1), min_size=1, max_size=3))
    for bit in positions:
        file[bit // 8] ^= 1 << (bit % 8)
    check_any_bytes(workdir / "flipped", bytes(file))


def traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@FEW
@given(
    code=codes,
    dims=st.lists(st.integers(1, 2**31 - 1), min_size=1, max_size=4),
    body=st.binary(max_size=256),
    gz=maybe_gzip,
)
def test_huge_declared_sizes_cost_no_memory(workdir, code, dims, body, gz):
    declared = int(np.prod(dims, dtype=object)) * DTYPE_CODES[code].itemsize
    content = header(code, tuple(dims)) + body
    path = workdir / "huge"
    path.write_bytes(packed(content, gz))

    def read() -> None:
        with pytest.raises(CorruptDataError) if declared != len(body) else nullcontext():
            read_idx(path)

    assert traced_peak(read) < MIB


@FEW
@given(valid=valid_idx(), extra_mib=st.integers(1, 8))
def test_decompression_stops_at_the_declared_size(workdir, valid, extra_mib):
    content, _ = valid
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)  # a gzip bomb: MiBs of zeros after the data
    bomb = comp.compress(content) + comp.compress(bytes(extra_mib * MIB)) + comp.flush()
    path = workdir / "bomb"
    path.write_bytes(bomb)

    def read() -> None:
        with pytest.raises(CorruptDataError, match="trailing data"):
            read_idx(path)

    assert traced_peak(read) < MIB // 2


# --------------------------------------------------------------------------- npz properties


@st.composite
def mnist_arrays(draw) -> dict[str, np.ndarray]:
    n_train, n_test = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def npz_bytes(arrays: dict[str, np.ndarray], compressed: bool) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def load_or_corrupt(path: Path):
    try:
        return mnist.load_data(path, download=False)
    except DatasetError as exc:  # CorruptDataError and the unreadable-file errors
        assert str(path) in str(exc)
        return None


@FEW
@given(arrays=mnist_arrays(), compressed=st.booleans())
def test_valid_npz_round_trips(workdir, arrays, compressed):
    path = workdir / "ok.npz"
    path.write_bytes(npz_bytes(arrays, compressed))
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path, download=False)
    for key, got in {"x_train": x_train, "y_train": y_train,
                     "x_test": x_test, "y_test": y_test}.items():
        assert got.dtype == np.uint8 and got.shape == arrays[key].shape
        assert got.tobytes() == arrays[key].tobytes()


@FUZZ
@given(arrays=mnist_arrays(), compressed=st.booleans(), data=st.data())
def test_npz_truncations_and_bit_flips(workdir, arrays, compressed, data):
    file = bytearray(npz_bytes(arrays, compressed))
    if data.draw(st.booleans()):
        file = file[: data.draw(st.integers(0, len(file) - 1))]
    else:
        for bit in data.draw(st.lists(st.integers(0, len(file) * 8 - 1), min_size=1,
                                      max_size=3)):
            file[bit // 8] ^= 1 << (bit % 8)
    path = workdir / "bad.npz"
    path.write_bytes(bytes(file))
    out = load_or_corrupt(path)
    if out is not None:  # a flip in a field nobody checks (e.g. a timestamp)
        (x_train, y_train), (x_test, y_test) = out
        assert x_train.shape[1:] == (28, 28) and len(x_train) == len(y_train)
        assert int(max(y_train.max(initial=0), y_test.max(initial=0))) <= 9


@FUZZ
@given(content=st.one_of(st.binary(max_size=200),
                         st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)))
def test_random_bytes_as_npz(workdir, content):
    path = workdir / "noise.npz"
    path.write_bytes(content)
    assert load_or_corrupt(path) is None


@FEW
@given(n=st.integers(10**5, 10**6), present=st.integers(0, 1000))
def test_npz_declaring_huge_arrays_costs_no_memory(workdir, n, present):
    def member(shape: tuple[int, ...], payload: int) -> bytes:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "|u1", "fortran_order": False, "shape": shape})
        return buf.getvalue() + bytes(payload)

    path = workdir / "liar.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x_train.npy", member((n, 28, 28), present))
        zf.writestr("y_train.npy", member((n,), present))
        zf.writestr("x_test.npy", member((0, 28, 28), 0))
        zf.writestr("y_test.npy", member((0,), 0))
    assert traced_peak(lambda: load_or_corrupt(path)) < MIB
    assert load_or_corrupt(path) is None


def test_empty_shape_too_large_for_numpy_is_corrupt_data(tmp_path):
    """Found by test_bit_flips_in_valid_files: dims (2**24, 2**24, 2**15, 0) need no data
    bytes, yet NumPy cannot form that shape; the reader must say so, not raise ValueError."""
    path = tmp_path / "flipped"
    path.write_bytes(struct.pack(">4B4I", 0, 0, 8, 4, 2**24, 2**24, 2**15, 0))
    with pytest.raises(CorruptDataError, match="cannot represent"):
        read_idx(path)
