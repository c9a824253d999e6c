"""Fashion-MNIST through the shared IDX loader: every search location, the .npz forms, the
download with a fake fetcher (MD5 of the served .gz, as the Fashion-MNIST README publishes),
and Keras's file names and URL.  No test touches the network or the user's caches."""

from __future__ import annotations

import gzip
import hashlib
import inspect
from pathlib import Path

import numpy as np
import pytest
from test_datasets import (
    assert_same,
    files_under,
    isolate,
    tiny_mnist,
    write_idx_set,
    write_npz,
)

from scratchnn.datasets import fashion_mnist, mnist
from scratchnn.datasets.errors import CorruptDataError, DatasetNotFoundError
from scratchnn.datasets.fashion_mnist import ChecksumError, FashionMnistNotFoundError, load_data

NAMES = list(fashion_mnist.FILES.values())
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Point every location the loader consults into tmp_path and forbid the network."""
    return isolate(monkeypatch, tmp_path, fashion_mnist)


def _served(data, tmp: Path) -> dict[str, bytes]:
    """IDX base name -> the .gz bytes a mirror would serve for ``data``."""
    directory = write_idx_set(tmp / "served", data, gz=False)
    return {base: gzip.compress((directory / base).read_bytes(), mtime=0) for base in NAMES}


def _table(served: dict[str, bytes]) -> dict[str, tuple[str, int]]:
    """The README's kind of checksum: MD5 of the .gz file, with the decompressed size."""
    return {base: (hashlib.md5(gz).hexdigest(), len(gzip.decompress(gz)))
            for base, gz in served.items()}


def _fake_fetch(served, calls):
    def fetch(url, dest, timeout):
        calls.append(url)
        dest.write_bytes(served[url.rsplit("/", 1)[1].removesuffix(".gz")])
    return fetch


@pytest.fixture
def served(tmp_path):
    data = tiny_mnist(seed=11)
    return data, _served(data, tmp_path)


# --------------------------------------------------------------------------- locations


@pytest.mark.parametrize("gz", [True, False])
def test_explicit_folder_and_subfolder(tmp_path, gz):
    data = tiny_mnist(seed=1)
    write_idx_set(tmp_path / "a", data, gz=gz)
    assert_same(load_data(tmp_path / "a"), data)
    write_idx_set(tmp_path / "b" / "fashion_mnist", data, gz=gz)
    assert_same(load_data(tmp_path / "b"), data)


def test_npz_file_and_npz_in_folder(tmp_path):
    data = tiny_mnist(seed=2)
    write_npz(tmp_path / "x.npz", data)
    assert_same(load_data(tmp_path / "x.npz"), data)
    write_npz(tmp_path / "d" / "fashion_mnist.npz", data)
    assert_same(load_data(tmp_path / "d"), data)


def test_search_locations_in_order(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    assert fashion_mnist.search_locations(tmp_path / "p") == [
        tmp_path / "p", tmp_path / "p" / "fashion_mnist", tmp_path / "data" / "fashion_mnist",
        isolated / ".cache" / "scratchnn" / "fashion_mnist",
        isolated / ".keras" / "datasets" / "fashion-mnist"]
    monkeypatch.setenv("SCRATCHNN_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "k"))
    assert fashion_mnist.search_locations()[1:] == [tmp_path / "c" / "fashion_mnist",
                                                   tmp_path / "k" / "datasets" / "fashion-mnist"]
    assert fashion_mnist.cache_dir() == tmp_path / "c" / "fashion_mnist"


def test_every_location_earlier_wins(tmp_path, monkeypatch, isolated):
    keras_copy, cached, in_data = (tiny_mnist(seed=s) for s in (3, 4, 5))
    write_idx_set(isolated / ".keras" / "datasets" / "fashion-mnist", keras_copy)
    assert_same(load_data(), keras_copy)
    write_idx_set(isolated / ".cache" / "scratchnn" / "fashion_mnist", cached)
    assert_same(load_data(), cached)
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    write_idx_set(tmp_path / "data" / "fashion_mnist", in_data)
    assert_same(load_data(), in_data)


def test_loose_mnist_files_in_data_root_are_not_fashion(tmp_path, monkeypatch):
    write_idx_set(tmp_path / "data", tiny_mnist(seed=6))  # MNIST's layout, MNIST's names
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    assert_same(mnist.load_data(), tiny_mnist(seed=6))
    with pytest.raises(FashionMnistNotFoundError):
        load_data()


def test_not_found_names_fashion_mnist_and_every_place(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "data"))
    with pytest.raises(FashionMnistNotFoundError) as info:
        load_data()
    err = info.value
    assert isinstance(err, DatasetNotFoundError) and isinstance(err, FileNotFoundError)
    assert not isinstance(err, mnist.MnistNotFoundError)
    msg = str(err)
    assert msg.startswith("Fashion-MNIST not found. Looked in:")
    assert "downloading is disabled (SCRATCHNN_NO_DOWNLOAD is set)" in msg
    assert "containing fashion_mnist/ with the four IDX files" in msg
    assert [s.split(" (")[0] for s in err.searched] == [
        str(p) for p in fashion_mnist.search_locations()]


def test_explicit_errors_and_bad_labels(tmp_path):
    with pytest.raises(FashionMnistNotFoundError, match="Fashion-MNIST path .* does not exist"):
        load_data(tmp_path / "nope")
    (tmp_path / "part").mkdir()
    (tmp_path / "part" / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(FashionMnistNotFoundError, match="folder .*incomplete: missing"):
        load_data(tmp_path / "part")
    (x, y), test = tiny_mnist(seed=9)
    y[3] = 10
    write_idx_set(tmp_path / "bad", ((x, y), test))
    with pytest.raises(CorruptDataError, match="train labels must be classes 0..9, found 10 at "
                                               "index 3"):
        load_data(tmp_path / "bad")


# --------------------------------------------------------------------------- download


def test_download_verifies_md5_of_the_gz_and_fills_the_cache(tmp_path, served, isolated):
    data, files = served
    calls = []
    got = fashion_mnist.download(mirrors=fashion_mnist.SPEC.mirrors, checksums=_table(files),
                                 fetch=_fake_fetch(files, calls))
    assert calls == [f"{KERAS_URL}{base}.gz" for base in NAMES]  # Keras's URL first
    cache = isolated / ".cache" / "scratchnn" / "fashion_mnist"
    assert sorted(got.values()) == files_under(cache)
    assert_same(load_data(), data)


def test_load_data_downloads_when_allowed(tmp_path, served, monkeypatch):
    data, files = served
    calls = []
    monkeypatch.setenv("SCRATCHNN_NO_DOWNLOAD", "0")
    monkeypatch.setenv("SCRATCHNN_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ["https://m.invalid/"])
    monkeypatch.setattr(fashion_mnist, "CHECKSUMS", _table(files))
    monkeypatch.setattr(fashion_mnist, "_fetch_url", _fake_fetch(files, calls))
    assert_same(load_data(), data)
    assert len(calls) == 4 and len(files_under(tmp_path / "c" / "fashion_mnist")) == 4


@pytest.mark.parametrize("corrupt", ["digest", "content_digest", "size"])
def test_corrupted_checksum_download_leaves_nothing(tmp_path, served, corrupt):
    _, files = served
    table = _table(files)
    base = NAMES[2]
    digest, size = table[base]
    if corrupt == "digest":
        table[base] = ("0" * 32, size)
    elif corrupt == "content_digest":  # the MD5 is of the .gz as served, not of its content
        table[base] = (hashlib.md5(gzip.decompress(files[base])).hexdigest(), size)
    else:
        table[base] = (digest, size + 1)
    target = tmp_path / "dl" / "fashion"
    with pytest.raises(ChecksumError, match=f"checksum mismatch for {base} downloaded from "
                                            "https://m.invalid/.*expected md5") as info:
        fashion_mnist.download(target, mirrors=["https://m.invalid/"], checksums=table,
                               fetch=_fake_fetch(files, []))
    assert "the download was deleted" in str(info.value)
    assert not (tmp_path / "dl").exists()


def test_all_mirrors_failing_is_not_found(tmp_path):
    with pytest.raises(FashionMnistNotFoundError, match="could not download"):
        fashion_mnist.download(tmp_path / "dl", mirrors=[(tmp_path / "nowhere").as_uri() + "/"])
    assert not (tmp_path / "dl").exists()


# --------------------------------------------------------------------------- published facts


def test_published_sizes_follow_the_idx_format():
    n = {"train": 60000, "t10k": 10000}
    for base, (digest, size) in fashion_mnist.CHECKSUMS.items():
        count = n[base.split("-")[0]]
        assert size == (16 + count * 28 * 28 if "images" in base else 8 + count)
        assert len(digest) == 32 and int(digest, 16) >= 0
    assert len(fashion_mnist.CLASS_NAMES) == 10


def test_file_names_and_url_are_keras_own():
    keras = pytest.importorskip("keras")
    source = inspect.getsource(keras.src.datasets.fashion_mnist)
    assert f'"{KERAS_URL}"' in source
    assert fashion_mnist.SPEC.mirrors[0] == KERAS_URL
    for base in NAMES:
        assert f'"{base}.gz"' in source
    assert np.array_equal(sorted(NAMES), sorted(mnist.FILES.values()))
