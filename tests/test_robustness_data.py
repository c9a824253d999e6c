"""Hardening of the data code: bounded reads, honest error messages, an authoritative
explicit path, clean failed downloads, and one clear exception per kind of problem.

Every test runs with HOME, the cache variables and the mirror list pointed into tmp_path;
nothing touches the network (downloads use a fetch function that fails or file:// mirrors).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import tracemalloc
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from scratchnn.datasets import idx, idx_dataset, mnist, npz
from scratchnn.datasets.errors import CorruptDataError, DatasetError, DatasetNotFoundError
from scratchnn.datasets.idx import read_idx, write_idx
from scratchnn.datasets.mnist import MnistNotFoundError, load_data

MIB = 1 << 20


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Point every location the loader consults into tmp_path and forbid the network."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("SCRATCHNN_DATA", "SCRATCHNN_CACHE", "XDG_CACHE_HOME", "KERAS_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SCRATCHNN_NO_DOWNLOAD", "1")
    monkeypatch.setattr(mnist, "MIRRORS", [])

    def no_network(url, *args, **kwargs):
        raise AssertionError(f"test tried to reach the network: {url}")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return home


def tiny_mnist(n_train: int = 6, n_test: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def write_idx_set(directory: Path, arrays: dict[str, np.ndarray], gz: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for part, base in mnist.FILES.items():
        write_idx(directory / (base + (".gz" if gz else "")), arrays[part])
    return directory


def assert_loaded(loaded, arrays: dict[str, np.ndarray]) -> None:
    (x_train, y_train), (x_test, y_test) = loaded
    got = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, expected in arrays.items():
        assert got[key].dtype == np.uint8 and got[key].flags.c_contiguous
        np.testing.assert_array_equal(got[key], expected)


def idx_header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}i", *dims)


def gzip_of_header_and_zeros(header: bytes, n_zeros: int) -> bytes:
    """A valid gzip stream of ``header`` + ``n_zeros`` zero bytes, built in 1 MiB pieces."""
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: gzip container
    parts = [comp.compress(header)]
    zeros = bytes(MIB)
    for start in range(0, n_zeros, MIB):
        parts.append(comp.compress(zeros[: min(MIB, n_zeros - start)]))
    parts.append(comp.flush())
    return b"".join(parts)


def peak_bytes(fn) -> tuple[int, BaseException | None]:
    """Peak traced allocation while calling ``fn`` and the exception it raised, if any."""
    tracemalloc.start()
    try:
        fn()
        error = None
    except Exception as exc:  # returned for the caller to assert on
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, error


# --------------------------------------------------------------------------- bounded reads


def test_gzip_bomb_is_rejected_after_the_declared_size(tmp_path):
    # Header: 60,000 labels; the stream decompresses to 60,008 + 48 MiB bytes.
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip_of_header_and_zeros(idx_header(0x08, (60000,)), 60000 + 48 * MIB))
    assert path.stat().st_size < MIB
    peak, error = peak_bytes(lambda: read_idx(path))
    assert isinstance(error, CorruptDataError)
    msg = str(error)
    assert str(path) in msg and "trailing data" in msg and "60000 data bytes" in msg
    assert peak < 2 * MIB, peak  # declared size 60 KB; reading all would need > 48 MiB


def test_valid_gzip_file_still_reads_exactly(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip_of_header_and_zeros(idx_header(0x08, (3 * MIB,)), 3 * MIB))
    out = read_idx(path)
    assert out.shape == (3 * MIB,) and out.dtype == np.uint8 and not out.any()


def test_absurd_declared_size_is_rejected_from_the_header_alone(tmp_path, monkeypatch):
    path = tmp_path / "huge-idx3-ubyte"
    # dims product 2**93 overflows every fixed-width integer; nothing follows the header
    path.write_bytes(idx_header(0x0E, (2**31 - 1,) * 3))
    reads = []
    original = idx._read_up_to
    monkeypatch.setattr(idx, "_read_up_to", lambda s, n: reads.append(n) or original(s, n))
    with pytest.raises(CorruptDataError, match="more than the limit") as info:
        read_idx(path)
    assert str(path) in str(info.value) and str((2**31 - 1) ** 3 * 8) in str(info.value)
    assert reads == [4, 12]  # the 4-byte magic and the dims, no data


def test_size_limit_is_configurable(tmp_path, monkeypatch):
    arr = np.arange(100, dtype=np.uint8)
    path = write_idx(tmp_path / "a-idx1", arr)
    np.testing.assert_array_equal(read_idx(path, max_bytes=100), arr)
    with pytest.raises(CorruptDataError, match="100 data bytes, more than the limit of 99"):
        read_idx(path, max_bytes=99)
    monkeypatch.setattr(idx, "MAX_DATA_BYTES", 50)
    with pytest.raises(CorruptDataError, match="limit of 50"):
        read_idx(path)
    with pytest.raises(CorruptDataError, match="limit of 50"):
        idx.parse_idx(path.read_bytes(), name="a")
    with pytest.raises(CorruptDataError, match="limit of 50"):
        idx.read_idx_header(path)


@pytest.mark.parametrize(
    "value, error, message",
    [(-1, ValueError, "max_bytes must be >= 0"), ("9", TypeError, "max_bytes must be an int"),
     (True, TypeError, "max_bytes must be an int"), (1.5, TypeError, "max_bytes must be an int")],
)
def test_max_bytes_is_validated(tmp_path, value, error, message):
    path = write_idx(tmp_path / "a", np.zeros(3, np.uint8))
    with pytest.raises(error, match=message):
        read_idx(path, max_bytes=value)


def test_raw_file_is_checked_against_its_size_on_disk_before_reading(tmp_path):
    # 10 labels declared; the file is 256 MiB (sparse) on disk: nothing of it may be read.
    path = tmp_path / "t10k-labels-idx1-ubyte"
    with open(path, "wb") as fh:
        fh.write(idx_header(0x08, (10,)))
        fh.truncate(256 * MIB)
    peak, error = peak_bytes(lambda: read_idx(path))
    assert isinstance(error, CorruptDataError) and "has trailing data" in str(error)
    assert f"found {256 * MIB - 8}" in str(error) and str(path) in str(error)
    assert peak < MIB, peak


def test_raw_file_shorter_than_declared_is_not_allocated(tmp_path):
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(idx_header(0x08, (1_000_000, 28, 28)) + b"\x01\x02")  # 784 MB declared
    peak, error = peak_bytes(lambda: read_idx(path))
    assert isinstance(error, CorruptDataError)
    assert "truncated" in str(error) and "784000000 data bytes, found 2" in str(error)
    assert peak < MIB, peak


def test_read_bytes_is_bounded(tmp_path):
    path = tmp_path / "blob.gz"
    path.write_bytes(gzip_of_header_and_zeros(b"", 8 * MIB))
    assert idx.read_bytes(path, max_bytes=8 * MIB) == bytes(8 * MIB)
    peak, error = peak_bytes(lambda: idx.read_bytes(path, max_bytes=1000))
    assert isinstance(error, CorruptDataError) and "longer than the limit of 1000" in str(error)
    assert peak < 2 * MIB


def test_gzip_with_garbage_after_the_stream(tmp_path):
    good = gzip.compress(idx_header(0x08, (3,)) + b"\x01\x02\x03")
    path = tmp_path / "junk.gz"
    path.write_bytes(good + b"not gzip at all")
    with pytest.raises(CorruptDataError, match="corrupt gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_multibyte_dtype_is_native_and_writable(tmp_path):
    arr = np.array([[1.5, -2.0], [3.25, 1e300]])
    out = read_idx(write_idx(tmp_path / "f.gz", arr))
    assert out.dtype == np.float64 and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, arr)
    assert idx.read_idx_header(tmp_path / "f.gz") == ((2, 2), np.dtype(np.float64))


# --------------------------------------------------------------------------- .npz messages


NOT_PICKLE_ADVICE = ("pickle.load", "allow_pickle", "pickled")


def assert_not_mnist_npz(error: BaseException, path: Path) -> None:
    msg = str(error)
    assert isinstance(error, CorruptDataError), repr(error)
    assert str(path) in msg and "not a valid MNIST .npz" in msg and "zip archive" in msg
    for key in ("x_train", "y_train", "x_test", "y_test", "uint8"):
        assert key in msg
    for advice in NOT_PICKLE_ADVICE:
        assert advice not in msg


@pytest.mark.parametrize(
    "name, content, hint",
    [
        ("x.txt", b"hello, I am a text file\n", "68 65 6c 6c 6f"),
        ("random.npz", bytes(range(7, 250, 3)), "07 0a 0d"),
        ("empty.npz", b"", "empty"),
        ("array.npz", None, "single .npy array"),
        ("t10k-labels-idx1-ubyte.npz", gzip.compress(b"\x00\x00\x08\x01"), "gzip"),
    ],
)
def test_a_file_that_is_not_a_zip_is_not_a_valid_mnist_npz(tmp_path, name, content, hint):
    path = tmp_path / name
    if content is None:
        buf = io.BytesIO()
        np.save(buf, np.zeros(3))
        content = buf.getvalue()
    path.write_bytes(content)
    with pytest.raises(CorruptDataError) as info:
        load_data(path)
    assert_not_mnist_npz(info.value, path)
    assert hint in str(info.value)


def test_a_single_idx_file_as_path_points_at_its_folder(tmp_path):
    d = write_idx_set(tmp_path / "d", tiny_mnist())
    with pytest.raises(DatasetError, match="is one MNIST IDX file; pass the folder") as info:
        load_data(d / "train-images-idx3-ubyte.gz")
    assert str(d / "train-images-idx3-ubyte.gz") in str(info.value)
    assert "--data DIR" in str(info.value)


def test_object_array_in_npz_is_rejected_without_pickle(tmp_path):
    arrays = tiny_mnist()
    labels = np.empty(len(arrays["y_train"]), dtype=object)
    labels[:] = [int(v) for v in arrays["y_train"]]
    path = tmp_path / "obj.npz"
    np.savez(path, **{**arrays, "y_train": labels})
    with pytest.raises(CorruptDataError, match="'y_train' has dtype object") as info:
        load_data(path)
    assert str(path) in str(info.value) and "pickle.load" not in str(info.value)


def test_truncated_npz_names_the_file(tmp_path):
    path = tmp_path / "cut.npz"
    np.savez(path, **tiny_mnist())
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(CorruptDataError, match="not a valid MNIST .npz file") as info:
        load_data(path)
    assert str(path) in str(info.value)


def test_fortran_ordered_and_compressed_npz_load_exactly(tmp_path):
    arrays = tiny_mnist(seed=5)
    path = tmp_path / "f.npz"
    np.savez_compressed(path, **{**arrays, "x_train": np.asfortranarray(arrays["x_train"])})
    assert_loaded(load_data(path), arrays)


def npz_with_raw_members(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, content in members.items():
            zf.writestr(f"{key}.npy", content)
    return path


def npy_header(shape: tuple[int, ...], descr: str = "|u1") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()  # magic, version and the padded header dict


def test_npz_declaring_huge_arrays_is_not_allocated(tmp_path):
    n = 1_000_000  # 784 MB of images declared, a few bytes present
    path = npz_with_raw_members(tmp_path / "liar.npz", {
        "x_train": npy_header((n, 28, 28)) + b"\x00" * 10,
        "y_train": npy_header((n,)) + b"\x00" * 10,
        "x_test": npy_header((1, 28, 28)) + b"\x00" * 784,
        "y_test": npy_header((1,)) + b"\x00",
    })
    peak, error = peak_bytes(lambda: load_data(path))
    assert isinstance(error, CorruptDataError)
    assert "'x_train' truncated" in str(error) and str(path) in str(error)
    assert peak < 2 * MIB, peak


def test_npz_members_with_trailing_data_or_over_the_limit(tmp_path, monkeypatch):
    members = {
        "x_train": npy_header((1, 28, 28)) + b"\x00" * 784,
        "y_train": npy_header((1,)) + b"\x00" + b"junk",
        "x_test": npy_header((1, 28, 28)) + b"\x00" * 784,
        "y_test": npy_header((1,)) + b"\x00",
    }
    path = npz_with_raw_members(tmp_path / "j.npz", members)
    with pytest.raises(CorruptDataError, match="'y_train' has trailing data"):
        load_data(path)
    monkeypatch.setattr(idx, "MAX_DATA_BYTES", 700)
    with pytest.raises(CorruptDataError, match="'x_train' declares .* more than the limit of 700"):
        npz.read_npz(path, ["x_train"])


# --------------------------------------------------------------------------- explicit path


def test_explicit_incomplete_folder_does_not_fall_back(tmp_path, monkeypatch):
    write_idx_set(tmp_path / "data" / "mnist", tiny_mnist(seed=1))
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    explicit = write_idx_set(tmp_path / "mine", tiny_mnist(seed=2))
    (explicit / "train-labels-idx1-ubyte.gz").unlink()
    (explicit / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(MnistNotFoundError) as info:
        load_data(explicit)
    error = info.value
    assert isinstance(error, DatasetNotFoundError) and isinstance(error, FileNotFoundError)
    msg = str(error)
    assert str(explicit) in msg and "--data" in msg
    assert "missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz]" in msg
    assert error.searched == [
        f"{explicit} (incomplete: missing train-labels-idx1-ubyte[.gz], "
        "t10k-images-idx3-ubyte[.gz])"
    ]
    # the same folder complete is used; SCRATCHNN_DATA alone is used when path is not given
    assert_loaded(load_data(tmp_path / "data"), tiny_mnist(seed=1))


def test_explicit_folder_with_incomplete_mnist_subfolder(tmp_path, monkeypatch):
    write_idx_set(tmp_path / "data" / "mnist", tiny_mnist(seed=1))
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    sub = write_idx_set(tmp_path / "root" / "mnist", tiny_mnist(seed=2), gz=False)
    (sub / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(MnistNotFoundError, match=r"incomplete: missing t10k-labels-idx1-ubyte"):
        load_data(tmp_path / "root")


def test_not_found_carries_the_places_searched_and_the_cli_option(tmp_path, isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        load_data()
    error = info.value
    assert isinstance(error, MnistNotFoundError)
    assert error.searched == [
        f"{isolated / '.cache' / 'scratchnn' / 'mnist'} (directory does not exist)",
        f"{isolated / '.keras' / 'datasets' / 'mnist.npz'} (file does not exist)",
    ]
    assert "--data DIR" in str(error) and "path=" in str(error)
    with pytest.raises(DatasetNotFoundError, match="--data DIR") as info:
        load_data(tmp_path / "typo")
    assert info.value.searched == [f"{tmp_path / 'typo'} (does not exist)"]


@pytest.mark.parametrize("bad", [123, b"/tmp", 1.5])
def test_load_data_path_type_is_validated(bad):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        load_data(bad)


def test_load_data_download_flag_is_validated():
    with pytest.raises(TypeError, match="download must be a bool, got str"):
        load_data(download="no")


# --------------------------------------------------------------------------- failed downloads


def failing_fetch(url, dest, timeout):
    dest.write_bytes(b"\x1f\x8b partial")
    raise ConnectionError(f"cannot reach {url}")


def test_failed_download_removes_the_cache_folders_it_created(isolated, monkeypatch):
    monkeypatch.setenv("SCRATCHNN_NO_DOWNLOAD", "0")
    monkeypatch.setattr(mnist, "MIRRORS", ["https://mirror.invalid/"])
    monkeypatch.setattr(mnist, "_fetch_url", failing_fetch)
    with pytest.raises(MnistNotFoundError, match="(?s)download failed.*cannot reach"):
        load_data()
    assert list(isolated.iterdir()) == []  # no ~/.cache, no ~/.cache/scratchnn/mnist


def test_failed_download_keeps_folders_that_existed(tmp_path):
    tmp_path = tmp_path / "area"
    keep = tmp_path / "keep"
    (keep / "other").mkdir(parents=True)
    (keep / "other" / "file.txt").write_text("mine")
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (keep / "a" / "b" / "mnist", empty, keep):
        with pytest.raises(MnistNotFoundError, match="could not download"):
            mnist.download(target, mirrors=["https://mirror.invalid/"], fetch=failing_fetch)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "empty", "keep", "keep/other", "keep/other/file.txt",
    ]


def test_download_is_all_or_nothing_when_moving_into_place_fails(tmp_path, monkeypatch):
    data = {base: bytes(idx_header(0x08, (3,)) + b"\x01\x02\x03") for base in mnist.FILES.values()}
    table = {b: (hashlib.sha256(c).hexdigest(), len(c)) for b, c in data.items()}

    def fetch(url, dest, timeout):
        dest.write_bytes(gzip.compress(data[url.rsplit("/", 1)[1][: -len(".gz")]]))

    calls = []
    real_replace = os.replace

    def third_replace_fails(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", third_replace_fails)
    with pytest.raises(OSError, match="No space left"):
        mnist.download(tmp_path / "dl", mirrors=["https://m.invalid/"], checksums=table,
                       fetch=fetch)
    assert not (tmp_path / "dl").exists()


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_download_removes_staging_folders_of_killed_downloads(tmp_path):
    data = {base: bytes(idx_header(0x08, (3,)) + b"\x01\x02\x03") for base in mnist.FILES.values()}
    table = {b: (hashlib.sha256(c).hexdigest(), len(c)) for b, c in data.items()}

    def fetch(url, dest, timeout):
        dest.write_bytes(gzip.compress(data[url.rsplit("/", 1)[1][: -len(".gz")]]))

    target = tmp_path / "dl"
    stale = target / f".download.{_dead_pid()}.0badcafe.scratchnn-tmp"  # a SIGKILLed download
    live = target / f".download.{os.getppid()}.0000beef.scratchnn-tmp"  # a running one
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "train-images-idx3-ubyte.gz").write_bytes(b"partial")
    mnist.download(target, mirrors=["https://m.invalid/"], checksums=table, fetch=fetch)
    assert not stale.exists() and live.is_dir()
    assert sorted(p.name for p in target.iterdir() if not p.name.startswith(".")) == sorted(
        f"{base}.gz" for base in mnist.FILES.values())
    assert [p.name for p in target.iterdir() if p.name.startswith(".")] == [live.name]


def test_download_bomb_is_verified_without_decompressing_it(tmp_path):
    base = "train-labels-idx1-ubyte"
    content = idx_header(0x08, (3,)) + b"\x01\x02\x03"
    table = dict.fromkeys(mnist.FILES.values(), ("0" * 64, 11))
    table[base] = (hashlib.sha256(content).hexdigest(), len(content))
    bomb = gzip_of_header_and_zeros(content, 32 * MIB)

    def fetch(url, dest, timeout):
        dest.write_bytes(bomb)

    peak, error = peak_bytes(
        lambda: mnist.download(tmp_path / "dl", mirrors=["https://m.invalid/"],
                               checksums=table, fetch=fetch)
    )
    assert isinstance(error, mnist.ChecksumError), error
    assert "more than 11 bytes" in str(error) and "train-images-idx3-ubyte" in str(error)
    assert peak < 4 * MIB, peak
    assert not (tmp_path / "dl").exists()


def test_fetch_url_gives_up_on_an_endless_response(tmp_path, monkeypatch):
    class Endless(io.RawIOBase):
        def readinto(self, b):
            b[:] = bytes(len(b))
            return len(b)

    monkeypatch.setattr(mnist, "MAX_DOWNLOAD_BYTES", 3 * MIB)
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Endless())
    with pytest.raises(ValueError, match=f"larger than {3 * MIB} bytes"):
        mnist._fetch_url("https://m.invalid/x.gz", tmp_path / "x.gz", 1.0)
    assert (tmp_path / "x.gz").stat().st_size <= 3 * MIB


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"mirrors": "https://m.invalid/"}, TypeError, "mirrors must be a sequence of URL"),
        ({"mirrors": [None]}, TypeError, "mirrors must be a sequence of URL"),
        ({"checksums": {}}, ValueError, "checksums has no entry for .*train-images"),
        ({"timeout": 0}, ValueError, "timeout must be a positive number"),
        ({"timeout": "5"}, ValueError, "timeout must be a positive number"),
        ({"fetch": "urllib"}, TypeError, "fetch must be callable"),
        ({"directory": 5}, TypeError, "directory must be a str or os.PathLike"),
    ],
)
def test_download_arguments_are_validated(tmp_path, kwargs, error, message):
    kwargs = {"directory": tmp_path / "dl", "mirrors": ["https://m.invalid/"],
              "fetch": failing_fetch, **kwargs}
    with pytest.raises(error, match=message):
        mnist.download(**kwargs)
    assert not (tmp_path / "dl").exists()


# --------------------------------------------------------------------------- wrong kind of path


def test_scratchnn_data_that_is_a_file(tmp_path, monkeypatch):
    target = tmp_path / "mnist.npz"
    np.savez(target, **tiny_mnist())
    monkeypatch.setenv("SCRATCHNN_DATA", str(target))
    with pytest.raises(DatasetError, match="SCRATCHNN_DATA=.*is a file; it must be a folder"):
        load_data()
    assert_loaded(load_data(target), tiny_mnist())  # as an explicit path it is fine


def test_download_folder_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(DatasetError, match="is a file, expected a folder to download") as info:
        mnist.download(tmp_path / "f", mirrors=["https://m.invalid/"], fetch=failing_fetch)
    assert str(tmp_path / "f") in str(info.value)
    assert (tmp_path / "f").read_text() == "x"


def test_cache_that_is_a_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHNN_CACHE", str(tmp_path / "c"))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "mnist").write_text("x")
    with pytest.raises(MnistNotFoundError) as info:
        load_data()
    assert f"{tmp_path / 'c' / 'mnist'} (is a file, expected a folder)" in info.value.searched


def test_reading_a_folder_as_an_idx_file(tmp_path):
    with pytest.raises(DatasetError, match="is a folder, expected a file") as info:
        read_idx(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_idx_file_missing_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


# --------------------------------------------------------------------------- permissions


def deny(monkeypatch, module, victim: Path) -> None:
    """Make ``open`` in ``module`` fail for ``victim`` as a chmod 000 file would."""

    def fake_open(file, *args, **kwargs):
        if Path(file) == victim:
            raise PermissionError(13, "Permission denied", str(file))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(module, "open", fake_open, raising=False)


def test_unreadable_idx_file(tmp_path, monkeypatch):
    d = write_idx_set(tmp_path / "d", tiny_mnist())
    victim = d / "t10k-images-idx3-ubyte.gz"
    deny(monkeypatch, idx, victim)
    with pytest.raises(DatasetError, match="permission denied") as info:
        load_data(d)
    assert str(victim) in str(info.value) and isinstance(info.value, ValueError)


def test_unreadable_npz_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    np.savez(path, **tiny_mnist())
    deny(monkeypatch, npz, path)
    with pytest.raises(DatasetError, match="permission denied") as info:
        load_data(path)
    assert str(path) in str(info.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root ignores file permissions")
def test_real_chmod_000_file(tmp_path):  # pragma: no cover - not run as root
    d = write_idx_set(tmp_path / "d", tiny_mnist())
    (d / "train-images-idx3-ubyte.gz").chmod(0)
    with pytest.raises(DatasetError, match="permission denied"):
        load_data(d)


def test_unsearchable_folder(tmp_path, monkeypatch):
    victim = tmp_path / "locked"
    real_is_dir = Path.is_dir

    def is_dir(self):
        if self == victim:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self)

    victim.mkdir()
    monkeypatch.setattr(Path, "is_dir", is_dir)
    with pytest.raises(DatasetError, match="permission denied: cannot search") as info:
        load_data(victim)
    assert str(victim) in str(info.value)


def test_explicit_path_below_an_unsearchable_folder(tmp_path, monkeypatch):
    victim = tmp_path / "locked" / "mnist"

    def exists(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "exists", exists)
    with pytest.raises(DatasetError, match="permission denied: cannot search") as info:
        load_data(victim)
    assert str(victim) in str(info.value)


# --------------------------------------------------------------------------- label / count checks


def test_label_above_nine_names_the_label_file_and_index(tmp_path):
    arrays = tiny_mnist()
    arrays["y_test"][2] = 12
    d = write_idx_set(tmp_path / "d", arrays)
    with pytest.raises(CorruptDataError) as info:
        load_data(d)
    msg = str(info.value)
    assert str(d / "t10k-labels-idx1-ubyte.gz") in msg
    assert "digits 0..9, found 12 at index 2" in msg


def test_count_mismatch_names_both_files_and_is_found_from_headers(tmp_path, monkeypatch):
    arrays = tiny_mnist()
    arrays["y_train"] = arrays["y_train"][:-1]
    d = write_idx_set(tmp_path / "d", arrays)
    monkeypatch.setattr(idx_dataset, "read_idx", lambda p: pytest.fail(f"data of {p} was read"))
    with pytest.raises(CorruptDataError, match="train split has 6 images but 5 labels") as info:
        load_data(d)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)


def test_wrong_dtype_in_idx_pair_names_the_file(tmp_path):
    arrays = tiny_mnist()
    arrays["y_train"] = arrays["y_train"].astype(np.int32)
    d = write_idx_set(tmp_path / "d", arrays)
    with pytest.raises(CorruptDataError, match="train labels must be uint8, got dtype int32") as e:
        load_data(d)
    assert str(d / "train-labels-idx1-ubyte.gz") in str(e.value)
