"""Tests for scratchnn.datasets: the IDX reader/writer and the MNIST loader.

No test touches the network or the user's real caches: every test runs with HOME, the cache
variables and the mirror list pointed at tmp_path, and downloads use file:// mirrors serving
tiny generated files.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from scratchnn.datasets import idx, mnist
from scratchnn.datasets.idx import CorruptDataError, read_idx, write_idx
from scratchnn.datasets.mnist import ChecksumError, MnistNotFoundError, load_data

REPO_ROOT = Path(__file__).resolve().parents[1]
_ORIGINAL_DATA_ENV = os.environ.get("SCRATCHNN_DATA")
NAMES = list(mnist.FILES.values())


def _real_mnist_root() -> Path | None:
    candidates = [Path(_ORIGINAL_DATA_ENV)] if _ORIGINAL_DATA_ENV else []
    candidates.append(REPO_ROOT.parent / "shared" / "datasets")
    for c in candidates:
        for d in (c / "mnist", c):
            if (d / "train-images-idx3-ubyte.gz").is_file() or (
                d / "train-images-idx3-ubyte"
            ).is_file():
                return d
    return None


REAL_MNIST = _real_mnist_root()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Point every location the loader consults into tmp_path and forbid the network."""
    return isolate(monkeypatch, tmp_path, mnist)


def isolate(monkeypatch, tmp_path, dataset_module) -> Path:
    """Empty HOME in tmp_path (returned), no data/cache variables, downloads off, no mirrors
    for ``dataset_module``, and only ``file:`` URLs reachable."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("SCRATCHNN_DATA", "SCRATCHNN_CACHE", "XDG_CACHE_HOME", "KERAS_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SCRATCHNN_NO_DOWNLOAD", "1")
    monkeypatch.setattr(dataset_module, "MIRRORS", [])

    real_urlopen = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        if not str(url).startswith("file:"):
            raise AssertionError(f"test tried to reach the network: {url}")
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
    return home


def tiny_mnist(n_train: int = 12, n_test: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, size=n_train, dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    y_test = rng.integers(0, 10, size=n_test, dtype=np.uint8)
    return (x_train, y_train), (x_test, y_test)


def write_idx_set(directory: Path, data, gz: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for part, base in mnist.FILES.items():
        write_idx(directory / (base + (".gz" if gz else "")), arrays[part])
    return directory


def write_npz(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def assert_same(loaded, expected) -> None:
    for got_pair, exp_pair in zip(loaded, expected, strict=True):
        for got, exp in zip(got_pair, exp_pair, strict=True):
            assert got.dtype == np.uint8
            assert got.shape == exp.shape
            np.testing.assert_array_equal(got, exp)


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


# --------------------------------------------------------------------------- IDX format


def test_write_idx_produces_the_documented_header_and_bytes(tmp_path):
    arr = np.array([[1, 2, 3], [4, 5, 255]], dtype=np.uint8)
    write_idx(tmp_path / "a.idx", arr)
    expected = b"\x00\x00\x08\x02" + struct.pack(">ii", 2, 3) + bytes([1, 2, 3, 4, 5, 255])
    assert (tmp_path / "a.idx").read_bytes() == expected


def test_read_idx_decodes_hand_built_big_endian_file(tmp_path):
    # 1-D int16 [-2, 258, 7] written by hand, not by write_idx.
    raw = b"\x00\x00\x0b\x01" + struct.pack(">i", 3) + struct.pack(">3h", -2, 258, 7)
    (tmp_path / "h.idx").write_bytes(raw)
    out = read_idx(tmp_path / "h.idx")
    assert out.dtype == np.int16 and out.dtype.isnative
    np.testing.assert_array_equal(out, [-2, 258, 7])
    out[0] = 5  # result must be writable


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_roundtrip_all_dtypes(tmp_path, dtype, suffix):
    rng = np.random.default_rng(1)
    arr = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = write_idx(tmp_path / f"x-idx3{suffix}", arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, arr)


def test_gzip_is_detected_by_magic_bytes_not_extension(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    gz_named_plain = tmp_path / "labels-idx1-ubyte"
    write_idx(tmp_path / "tmp.gz", arr)
    (tmp_path / "tmp.gz").rename(gz_named_plain)
    plain_named_gz = tmp_path / "other-idx1-ubyte.gz"
    write_idx(tmp_path / "tmp2", arr)
    (tmp_path / "tmp2").rename(plain_named_gz)
    np.testing.assert_array_equal(read_idx(gz_named_plain), arr)
    np.testing.assert_array_equal(read_idx(plain_named_gz), arr)


def test_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">i", 1) + b"\x00")
    with pytest.raises(CorruptDataError, match="magic") as info:
        read_idx(path)
    assert str(path) in str(info.value) and "0x12340801" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_dtype_code(tmp_path):
    path = tmp_path / "code.idx"
    path.write_bytes(b"\x00\x00\x0a\x01" + struct.pack(">i", 1) + b"\x00")
    with pytest.raises(CorruptDataError, match="unknown IDX dtype code 0x0A") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_zero_dimensions_rejected(tmp_path):
    path = tmp_path / "nodim.idx"
    path.write_bytes(b"\x00\x00\x08\x00")
    with pytest.raises(CorruptDataError, match="0 dimensions"):
        read_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_file_reports_expected_and_actual_bytes(tmp_path, suffix):
    arr = np.zeros((4, 28, 28), dtype=np.uint8)
    raw = tmp_path / "full-idx3-ubyte"
    write_idx(raw, arr)
    content = raw.read_bytes()[:-100]  # 4*784 = 3136 data bytes -> 3036 left
    path = tmp_path / f"trunc-idx3-ubyte{suffix}"
    path.write_bytes(gzip.compress(content) if suffix else content)
    with pytest.raises(CorruptDataError, match="truncated") as info:
        read_idx(path)
    msg = str(info.value)
    assert str(path) in msg and "3136" in msg and "3036" in msg


def test_trailing_bytes_rejected(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(b"\x00\x00\x08\x01" + struct.pack(">i", 2) + b"\x01\x02\x03")
    with pytest.raises(CorruptDataError, match="trailing data.*needs 2 data bytes, found 3"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "hdr.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">i", 2))
    with pytest.raises(CorruptDataError, match="truncated IDX header"):
        read_idx(path)
    (tmp_path / "tiny.idx").write_bytes(b"\x00\x00")
    with pytest.raises(CorruptDataError, match="4-byte header"):
        read_idx(tmp_path / "tiny.idx")


def test_corrupt_gzip(tmp_path):
    arr = np.arange(2000, dtype=np.int32)
    good = write_idx(tmp_path / "good.gz", arr).read_bytes()
    cut = tmp_path / "cut-idx1-ubyte.gz"
    cut.write_bytes(good[: len(good) // 2])  # stream ends early
    with pytest.raises(CorruptDataError, match="corrupt gzip") as info:
        read_idx(cut)
    assert str(cut) in str(info.value)
    flipped = bytearray(good)
    flipped[-6] ^= 0xFF  # inside the CRC32 trailer
    bad_crc = tmp_path / "crc-idx1-ubyte.gz"
    bad_crc.write_bytes(bytes(flipped))
    with pytest.raises(CorruptDataError, match="corrupt gzip"):
        read_idx(bad_crc)


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))
    assert not (tmp_path / "x").exists()


def test_dtype_code_table_matches_idx_spec():
    expected = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    assert {c: np.dtype(s) for c, s in expected.items()} == idx.DTYPE_CODES


# --------------------------------------------------------------------------- finding MNIST


@pytest.mark.parametrize("gz", [True, False])
def test_load_from_idx_directory(tmp_path, gz):
    data = tiny_mnist()
    directory = write_idx_set(tmp_path / "d", data, gz=gz)
    loaded = load_data(directory)
    assert_same(loaded, data)
    loaded[0][0][0, 0, 0] = 1  # writable like Keras's arrays


def test_load_from_directory_with_mnist_subfolder(tmp_path):
    data = tiny_mnist(seed=3)
    write_idx_set(tmp_path / "root" / "mnist", data)
    assert_same(load_data(tmp_path / "root"), data)
    assert_same(load_data(str(tmp_path / "root")), data)


def test_load_from_npz_file_and_directory(tmp_path):
    data = tiny_mnist(seed=4)
    npz = write_npz(tmp_path / "k" / "mnist.npz", data)
    assert_same(load_data(npz), data)
    assert_same(load_data(tmp_path / "k"), data)


def test_search_order_and_every_location(tmp_path, monkeypatch, isolated):
    home = isolated
    sets = {
        name: tiny_mnist(n_train=3 + i, n_test=2, seed=i)
        for i, name in enumerate(
            [
                "path",
                "data_sub",
                "data_root",
                "cache_env",
                "xdg",
                "home_cache",
                "keras_home",
                "keras_default",
            ]
        )
    }
    write_idx_set(tmp_path / "explicit", sets["path"])
    write_idx_set(tmp_path / "data" / "mnist", sets["data_sub"])
    write_npz(tmp_path / "data2" / "mnist.npz", sets["data_root"])
    write_idx_set(tmp_path / "sc" / "mnist", sets["cache_env"])
    write_idx_set(tmp_path / "xdg" / "scratchnn" / "mnist", sets["xdg"])
    write_idx_set(home / ".cache" / "scratchnn" / "mnist", sets["home_cache"])
    write_npz(tmp_path / "kh" / "datasets" / "mnist.npz", sets["keras_home"])
    write_npz(home / ".keras" / "datasets" / "mnist.npz", sets["keras_default"])

    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SCRATCHNN_CACHE", str(tmp_path / "sc"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert_same(load_data(tmp_path / "explicit"), sets["path"])
    # An explicit path is authoritative: one without MNIST is an error, never a fallback.
    (tmp_path / "empty").mkdir()
    with pytest.raises(MnistNotFoundError, match="explicit path"):
        load_data(tmp_path / "empty")
    assert_same(load_data(), sets["data_sub"])
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data2"))
    assert_same(load_data(), sets["data_root"])
    monkeypatch.delenv("SCRATCHNN_DATA")
    assert_same(load_data(), sets["cache_env"])
    monkeypatch.delenv("SCRATCHNN_CACHE")
    assert_same(load_data(), sets["xdg"])
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert_same(load_data(), sets["home_cache"])
    for f in files_under(home / ".cache"):
        f.unlink()
    assert_same(load_data(), sets["keras_home"])
    monkeypatch.delenv("KERAS_HOME")
    assert_same(load_data(), sets["keras_default"])


def test_not_found_lists_every_place_and_how_to_fix(tmp_path, monkeypatch, isolated):
    home = isolated
    (tmp_path / "p").mkdir()
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    with pytest.raises(MnistNotFoundError) as explicit:
        load_data(tmp_path / "p")
    msg = str(explicit.value)
    assert str(tmp_path / "p") in msg and str(tmp_path / "p" / "mnist") in msg
    assert str(tmp_path / "data") not in msg  # the explicit path was the only place searched
    with pytest.raises(MnistNotFoundError) as info:
        load_data()
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for place in [
        tmp_path / "data",
        home / ".cache" / "scratchnn" / "mnist",
        home / ".keras" / "datasets" / "mnist.npz",
    ]:
        assert str(place) in msg, place
    assert "SCRATCHNN_DATA" in msg and "path=" in msg and "mnist.npz" in msg
    assert "SCRATCHNN_NO_DOWNLOAD" in msg


def test_incomplete_directory_is_reported(tmp_path):
    d = write_idx_set(tmp_path / "d", tiny_mnist())
    (d / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MnistNotFoundError, match=r"incomplete: missing t10k-labels-idx1-ubyte"):
        load_data(d)


def test_nonexistent_explicit_path_is_an_error_even_if_cache_has_data(tmp_path, isolated):
    write_idx_set(isolated / ".cache" / "scratchnn" / "mnist", tiny_mnist())
    with pytest.raises(MnistNotFoundError, match="does not exist"):
        load_data(tmp_path / "typo")


def test_corrupt_copy_is_reported_not_skipped(tmp_path, isolated):
    write_idx_set(isolated / ".cache" / "scratchnn" / "mnist", tiny_mnist())
    d = write_idx_set(tmp_path / "d", tiny_mnist())
    f = d / "train-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-3])
    with pytest.raises(CorruptDataError, match="train-labels-idx1-ubyte.gz"):
        load_data(d)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: {**s, "x_train": s["x_train"][:, :, :27]}, r"shape \(N, 28, 28\)"),
        (lambda s: {**s, "y_test": s["y_test"][:-1]}, "5 images but 4 labels"),
        (lambda s: {**s, "y_train": s["y_train"].reshape(-1, 1)}, "labels must be 1-D"),
        (lambda s: {**s, "y_train": s["y_train"] + 10}, "digits 0..9"),
        (lambda s: {**s, "x_test": s["x_test"].astype(np.float32)}, "must be uint8"),
    ],
)
def test_shape_and_count_validation(tmp_path, mutate, message):
    (a, b), (c, d) = tiny_mnist()
    arrays = mutate({"x_train": a, "y_train": b, "x_test": c, "y_test": d})
    npz = tmp_path / "m.npz"
    np.savez(npz, **arrays)
    with pytest.raises(CorruptDataError, match=message):
        load_data(npz)
    # the same check applies to IDX files
    idx_dir = tmp_path / "idx"
    idx_dir.mkdir()
    for part, base in mnist.FILES.items():
        write_idx(idx_dir / base, arrays[part])
    with pytest.raises(CorruptDataError, match=message):
        load_data(idx_dir)


def test_npz_missing_key_and_garbage(tmp_path):
    (a, b), (c, d) = tiny_mnist()
    np.savez(tmp_path / "m.npz", x_train=a, y_train=b, x_test=c)
    with pytest.raises(CorruptDataError, match=r"missing array\(s\) \['y_test'\]"):
        load_data(tmp_path / "m.npz")
    (tmp_path / "g.npz").write_bytes(b"this is not a zip file at all")
    with pytest.raises(CorruptDataError, match="g.npz"):
        load_data(tmp_path / "g.npz")


# --------------------------------------------------------------------------- downloading


def make_mirror(root: Path, data) -> tuple[str, dict[str, tuple[str, int]]]:
    """Serve ``data`` as four .gz files; return (file:// URL, checksum table)."""
    raw_dir = write_idx_set(root / "raw", data, gz=False)
    served = root / "served"
    served.mkdir()
    table = {}
    for base in NAMES:
        content = (raw_dir / base).read_bytes()
        table[base] = (hashlib.sha256(content).hexdigest(), len(content))
        (served / f"{base}.gz").write_bytes(gzip.compress(content))
    return served.as_uri() + "/", table


def enable_download(monkeypatch, mirrors, table=None):
    monkeypatch.setenv("SCRATCHNN_NO_DOWNLOAD", "0")
    monkeypatch.setattr(mnist, "MIRRORS", mirrors)
    if table is not None:
        monkeypatch.setattr(mnist, "CHECKSUMS", table)


def test_download_from_file_mirror_into_cache(tmp_path, monkeypatch, isolated):
    data = tiny_mnist(seed=7)
    url, table = make_mirror(tmp_path / "mirror", data)
    dead = (tmp_path / "nowhere").as_uri() + "/"
    enable_download(monkeypatch, [dead, url], table)
    assert_same(load_data(), data)
    cache = isolated / ".cache" / "scratchnn" / "mnist"
    assert [p.name for p in files_under(cache)] == sorted(f"{b}.gz" for b in NAMES)
    assert not [p for p in cache.iterdir() if p.is_dir()]  # staging dir removed
    # second call is served from the cache without touching the mirrors
    monkeypatch.setattr(mnist, "MIRRORS", [])
    assert_same(load_data(), data)


def test_download_goes_to_scratchnn_cache(tmp_path, monkeypatch):
    data = tiny_mnist(seed=8)
    url, table = make_mirror(tmp_path / "mirror", data)
    enable_download(monkeypatch, [url], table)
    monkeypatch.setenv("SCRATCHNN_CACHE", str(tmp_path / "c"))
    assert_same(load_data(), data)
    assert len(files_under(tmp_path / "c" / "mnist")) == 4


def test_checksum_mismatch_raises_and_deletes(tmp_path, monkeypatch, isolated):
    data = tiny_mnist(seed=9)
    url, table = make_mirror(tmp_path / "mirror", data)
    actual = table["t10k-labels-idx1-ubyte"][0]
    wrong = "0" * 64
    table["t10k-labels-idx1-ubyte"] = (wrong, table["t10k-labels-idx1-ubyte"][1])
    enable_download(monkeypatch, [url], table)
    with pytest.raises(ChecksumError) as info:
        load_data()
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "t10k-labels-idx1-ubyte" in msg and wrong in msg and actual in msg
    # the three good files are not kept either: all-or-nothing
    assert files_under(isolated / ".cache") == []


def test_size_mismatch_is_a_checksum_error(tmp_path, monkeypatch):
    url, table = make_mirror(tmp_path / "mirror", tiny_mnist())
    digest, size = table["train-images-idx3-ubyte"]
    table["train-images-idx3-ubyte"] = (digest, size + 1)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte"):
        mnist.download(tmp_path / "dl", mirrors=[url], checksums=table)
    assert files_under(tmp_path / "dl") == []


def test_bad_mirror_then_good_mirror(tmp_path, monkeypatch):
    good_data = tiny_mnist(seed=10)
    good_url, table = make_mirror(tmp_path / "good", good_data)
    bad_url, _ = make_mirror(tmp_path / "bad", tiny_mnist(seed=11))
    files = mnist.download(tmp_path / "dl", mirrors=[bad_url, good_url], checksums=table)
    assert set(files) == set(mnist.FILES)
    assert_same(load_data(tmp_path / "dl"), good_data)


def test_failed_download_leaves_no_file(tmp_path, monkeypatch, isolated):
    url, table = make_mirror(tmp_path / "mirror", tiny_mnist())
    # the last file is missing on the mirror: the first three must not stay in the cache
    (tmp_path / "mirror" / "served" / "t10k-labels-idx1-ubyte.gz").unlink()
    enable_download(monkeypatch, [url], table)
    with pytest.raises(MnistNotFoundError) as info:
        load_data()
    msg = str(info.value)
    assert "download failed" in msg and "t10k-labels-idx1-ubyte.gz" in msg and url in msg
    assert files_under(isolated / ".cache") == []


def test_interrupted_fetch_leaves_no_partial_file(tmp_path):
    url, table = make_mirror(tmp_path / "mirror", tiny_mnist())
    calls = []

    def flaky(u, dest, timeout):
        calls.append((u, timeout))
        if len(calls) == 1:
            dest.write_bytes(b"\x1f\x8b half a file")
            raise TimeoutError("read timed out")
        mnist._fetch_url(u, dest, timeout)

    out = tmp_path / "dl"
    mnist.download(out, mirrors=["file:///dead/", url], checksums=table, fetch=flaky, timeout=3)
    assert calls[0] == ("file:///dead/train-images-idx3-ubyte.gz", 3)
    assert calls[1] == (url + "train-images-idx3-ubyte.gz", 3)
    assert [p.name for p in files_under(out)] == sorted(f"{b}.gz" for b in NAMES)


def test_corrupt_gzip_download(tmp_path):
    url, table = make_mirror(tmp_path / "mirror", tiny_mnist())
    served = tmp_path / "mirror" / "served" / "train-labels-idx1-ubyte.gz"
    served.write_bytes(served.read_bytes()[:-10])
    with pytest.raises(CorruptDataError, match="not valid gzip"):
        mnist.download(tmp_path / "dl", mirrors=[url], checksums=table)
    assert files_under(tmp_path / "dl") == []


@pytest.mark.parametrize("how", ["env", "argument"])
def test_download_disabled(tmp_path, monkeypatch, how):
    url, table = make_mirror(tmp_path / "mirror", tiny_mnist())
    enable_download(monkeypatch, [url], table)

    def must_not_run(target):
        raise AssertionError("download attempted")

    monkeypatch.setattr(mnist, "download", must_not_run)
    if how == "env":
        monkeypatch.setenv("SCRATCHNN_NO_DOWNLOAD", "1")
        with pytest.raises(MnistNotFoundError, match="SCRATCHNN_NO_DOWNLOAD"):
            load_data()
    else:
        with pytest.raises(MnistNotFoundError, match="download=False"):
            load_data(download=False)


def test_empty_mirror_list(tmp_path):
    with pytest.raises(MnistNotFoundError, match="mirror list is empty"):
        mnist.download(tmp_path / "dl", mirrors=[])


# --------------------------------------------------------------------------- real MNIST

needs_real = pytest.mark.skipif(REAL_MNIST is None, reason="real MNIST files not available")


@needs_real
def test_real_mnist_matches_published_facts():
    (x_train, y_train), (x_test, y_test) = load_data(REAL_MNIST)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(
        np.bincount(y_train, minlength=10),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    )
    np.testing.assert_array_equal(y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    assert x_train.mean(dtype=np.float64) == pytest.approx(33.318421449829934, rel=1e-12)
    assert x_train.std(dtype=np.float64) == pytest.approx(78.56748998339798, rel=1e-12)
    assert int(x_train.max()) == 255 and int(x_train.min()) == 0


@needs_real
def test_published_checksums_match_real_files(tmp_path):
    # Serve the real .gz files from a file:// mirror and verify them against CHECKSUMS.
    out = tmp_path / "dl"
    files = mnist.download(out, mirrors=[REAL_MNIST.as_uri() + "/"])
    assert len(files) == 4
    for base in NAMES:
        digest, size = mnist.CHECKSUMS[base]
        content = gzip.decompress((out / f"{base}.gz").read_bytes())
        assert len(content) == size and hashlib.sha256(content).hexdigest() == digest
