"""The MNIST handwritten digits, loaded like ``keras.datasets.mnist.load_data``.

``load_data()`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
``(60000, 28, 28)`` / ``(10000, 28, 28)`` with pixel values 0..255, and uint8 labels 0..9 of
shape ``(60000,)`` / ``(10000,)``.

Where the data is looked for, in order (the first complete copy wins):

1. ``path=`` -- a directory holding the four IDX files (``train-images-idx3-ubyte``,
   ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
   raw or ``.gz``) or ``mnist.npz``; or a directory with such a ``mnist/`` subfolder; or the
   path of a Keras-style ``.npz`` file (keys ``x_train, y_train, x_test, y_test``).
2. ``$SCRATCHNN_DATA/mnist/`` and ``$SCRATCHNN_DATA`` itself.
3. The cache directory :func:`cache_dir`: ``$SCRATCHNN_CACHE/mnist``, else
   ``$XDG_CACHE_HOME/scratchnn/mnist``, else ``~/.cache/scratchnn/mnist``.
4. Keras's own download, ``$KERAS_HOME/datasets/mnist.npz`` (default ``~/.keras``).

If nothing is found, the four ``.gz`` files are downloaded into the cache directory (unless
``download=False`` or ``SCRATCHNN_NO_DOWNLOAD=1``), trying :data:`MIRRORS` in order. Each
download is verified against :data:`CHECKSUMS` (SHA-256 and size of the *decompressed* file);
all four files go to a temporary directory first and are moved into place with
:func:`os.replace` only when all of them verify, so a failed download leaves nothing behind.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .idx import CorruptDataError, parse_idx, read_idx

__all__ = [
    "load_data",
    "download",
    "cache_dir",
    "search_locations",
    "MnistNotFoundError",
    "ChecksumError",
    "CorruptDataError",
    "FILES",
    "CHECKSUMS",
    "MIRRORS",
]

#: Split part -> IDX base name (stored with or without ``.gz``).
FILES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

#: IDX base name -> (SHA-256 hex digest, size in bytes) of the *decompressed* file.
CHECKSUMS: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte": (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        47040016,
    ),
    "train-labels-idx1-ubyte": (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        60008,
    ),
    "t10k-images-idx3-ubyte": (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        7840016,
    ),
    "t10k-labels-idx1-ubyte": (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        10008,
    ),
}

#: Base URLs tried in order; ``<mirror><name>.gz`` is fetched. Tests replace this list.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

#: Seconds before a connection or read on a mirror gives up.
DOWNLOAD_TIMEOUT: float = 60.0

NPZ_NAME = "mnist.npz"
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_FALSE_STRINGS = ("", "0", "false", "no", "off")

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class MnistNotFoundError(FileNotFoundError):
    """MNIST was not found in any searched location and could not be downloaded."""


class ChecksumError(ValueError):
    """A downloaded file does not have the expected SHA-256 digest or size."""


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """Directory where downloads are stored.

    ``$SCRATCHNN_CACHE/mnist`` if ``SCRATCHNN_CACHE`` is set, else
    ``$XDG_CACHE_HOME/scratchnn/mnist``, else ``~/.cache/scratchnn/mnist``.
    """
    env = os.environ.get("SCRATCHNN_CACHE")
    if env:
        return Path(env).expanduser() / "mnist"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "scratchnn" / "mnist"


def _keras_npz() -> Path:
    home = os.environ.get("KERAS_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".keras"
    return base / "datasets" / NPZ_NAME


def search_locations(path: str | os.PathLike | None = None) -> list[Path]:
    """Return the places :func:`load_data` looks in, in order (directories or ``.npz`` files)."""
    places: list[Path] = []
    if path is not None:
        p = Path(path).expanduser()
        if p.suffix == ".npz" or p.is_file():
            places.append(p)
        else:
            places += [p, p / "mnist"]
    data = os.environ.get("SCRATCHNN_DATA")
    if data:
        d = Path(data).expanduser()
        places += [d / "mnist", d]
    places += [cache_dir(), _keras_npz()]
    unique: list[Path] = []
    for p in places:
        if p not in unique:
            unique.append(p)
    return unique


def _idx_files_in(directory: Path) -> tuple[dict[str, Path] | None, list[str]]:
    """Map each split part to its IDX file in ``directory`` (raw preferred over .gz)."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for part, base in FILES.items():
        for candidate in (directory / base, directory / f"{base}.gz"):
            if candidate.is_file():
                found[part] = candidate
                break
        else:
            missing.append(base)
    return (found if not missing else None), missing


def _locate(place: Path) -> tuple[str, Path | dict[str, Path]] | str:
    """Return ``("npz", file)`` or ``("idx", files)`` for ``place``, or why it has no MNIST."""
    if place.suffix == ".npz" or place.is_file():
        return ("npz", place) if place.is_file() else "file does not exist"
    if not place.is_dir():
        return "directory does not exist"
    files, missing = _idx_files_in(place)
    if files is not None:
        return ("idx", files)
    if (place / NPZ_NAME).is_file():
        return ("npz", place / NPZ_NAME)
    if len(missing) < len(FILES):
        return "incomplete: missing " + ", ".join(f"{m}[.gz]" for m in missing)
    return f"no IDX files and no {NPZ_NAME}"


# --------------------------------------------------------------------------- loading


def _validate(split: Split, source: str) -> Split:
    (x_train, y_train), (x_test, y_test) = split
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise CorruptDataError(
                f"{source}: {name} images must have shape (N, 28, 28), got {x.shape}"
            )
        if y.ndim != 1:
            raise CorruptDataError(f"{source}: {name} labels must be 1-D, got shape {y.shape}")
        if len(x) != len(y):
            raise CorruptDataError(
                f"{source}: {name} split has {len(x)} images but {len(y)} labels"
            )
        for what, arr in (("images", x), ("labels", y)):
            if arr.dtype != np.uint8:
                raise CorruptDataError(
                    f"{source}: {name} {what} must be uint8, got dtype {arr.dtype}"
                )
        if y.size and int(y.max()) > 9:
            raise CorruptDataError(
                f"{source}: {name} labels must be digits 0..9, found {int(y.max())}"
            )
    return split


def _load_npz(file: Path) -> Split:
    try:
        with np.load(file, allow_pickle=False) as f:
            missing = [k for k in _NPZ_KEYS if k not in f.files]
            if missing:
                raise CorruptDataError(
                    f"{file}: missing array(s) {missing}; an MNIST .npz needs keys "
                    f"{list(_NPZ_KEYS)}, found {f.files}"
                )
            arrays = {k: np.asarray(f[k]) for k in _NPZ_KEYS}
    except CorruptDataError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, pickled content, truncated zip members...
        raise CorruptDataError(f"{file}: cannot read .npz ({type(exc).__name__}: {exc})") from exc
    split = (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    return _validate(split, str(file))


def _load_idx(files: Mapping[str, Path]) -> Split:
    arrays = {part: read_idx(p) for part, p in files.items()}
    split = (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    return _validate(split, str(Path(files["x_train"]).parent))


def _load(found: tuple[str, Path | dict[str, Path]]) -> Split:
    kind, where = found
    if kind == "npz":
        assert isinstance(where, Path)
        return _load_npz(where)
    assert isinstance(where, dict)
    return _load_idx(where)


# --------------------------------------------------------------------------- download


def _fetch_url(url: str, dest: Path, timeout: float) -> None:
    """Copy the resource at ``url`` into the (new) file ``dest`` with ``urllib``."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)


def _verify(file: Path, base: str, url: str, checksums: Mapping[str, tuple[str, int]]) -> None:
    """Check the SHA-256 and size of the decompressed content of ``file``."""
    expected_hash, expected_size = checksums[base]
    raw = file.read_bytes()
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptDataError(
            f"{base}.gz downloaded from {url} is not valid gzip ({exc}); the download was deleted"
        ) from exc
    actual_hash = hashlib.sha256(data).hexdigest()
    if actual_hash != expected_hash or len(data) != expected_size:
        raise ChecksumError(
            f"checksum mismatch for {base} downloaded from {url}: expected sha256 "
            f"{expected_hash} ({expected_size} bytes), got {actual_hash} ({len(data)} bytes); "
            "the download was deleted"
        )
    parse_idx(data, name=f"{base} from {url}")  # header/length sanity


def download(
    directory: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, tuple[str, int]] | None = None,
    timeout: float | None = None,
    fetch: Callable[[str, Path, float], None] | None = None,
) -> dict[str, Path]:
    """Download the four MNIST ``.gz`` files into ``directory`` (default :func:`cache_dir`).

    For each file the mirrors are tried in order; a download is accepted only when the
    SHA-256 digest and the size of its decompressed content match ``checksums``. All four files
    are downloaded into a temporary directory inside ``directory`` and moved into place with
    :func:`os.replace` only after every one has verified; on any failure the temporary
    directory is removed, so no partial or unverified file is ever left on disk.

    Parameters
    ----------
    directory : path, optional
        Destination directory, created if needed.
    mirrors : sequence of str, optional
        Base URLs (ending in ``/``); default :data:`MIRRORS`. ``file://`` URLs work.
    checksums : mapping, optional
        ``base name -> (sha256 hex, size)``; default :data:`CHECKSUMS`.
    timeout : float, optional
        Per-request timeout in seconds; default :data:`DOWNLOAD_TIMEOUT`.
    fetch : callable, optional
        ``fetch(url, dest_path, timeout)`` writing the resource to ``dest_path``; default
        uses :func:`urllib.request.urlopen`.

    Returns
    -------
    dict
        Split part (``"x_train"``, ...) -> path of the stored ``.gz`` file.

    Raises
    ------
    ChecksumError
        If no mirror served a file with the expected digest and at least one served a wrong one.
    CorruptDataError
        If a download was not valid gzip / IDX and no mirror served a good one.
    MnistNotFoundError
        If every mirror failed for a file (network errors); the message lists each URL tried.
    """
    directory = Path(directory) if directory is not None else cache_dir()
    mirrors = list(MIRRORS if mirrors is None else mirrors)
    checksums = CHECKSUMS if checksums is None else checksums
    timeout = DOWNLOAD_TIMEOUT if timeout is None else timeout
    fetch = _fetch_url if fetch is None else fetch
    if not mirrors:
        raise MnistNotFoundError("cannot download MNIST: the mirror list is empty")

    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=".download-"))
    try:
        staged: dict[str, Path] = {}
        for part, base in FILES.items():
            staged[part] = _download_one(base, staging, mirrors, checksums, timeout, fetch)
        final: dict[str, Path] = {}
        for part, tmp in staged.items():
            target = directory / f"{FILES[part]}.gz"
            os.replace(tmp, target)
            final[part] = target
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            try:
                directory.rmdir()  # only succeeds when the failed download left it empty
            except OSError:
                pass


def _download_one(
    base: str,
    staging: Path,
    mirrors: Sequence[str],
    checksums: Mapping[str, tuple[str, int]],
    timeout: float,
    fetch: Callable[[str, Path, float], None],
) -> Path:
    dest = staging / f"{base}.gz"
    failures: list[str] = []
    integrity_error: ValueError | None = None
    for mirror in mirrors:
        url = f"{mirror}{base}.gz"
        try:
            fetch(url, dest, timeout)
            _verify(dest, base, url, checksums)
            return dest
        except (ChecksumError, CorruptDataError) as exc:
            dest.unlink(missing_ok=True)
            integrity_error = exc
            failures.append(f"{url}: {exc}")
        except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts, bad URL
            dest.unlink(missing_ok=True)
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
    if integrity_error is not None:
        raise integrity_error
    raise MnistNotFoundError(
        f"could not download {base}.gz from any mirror:\n  " + "\n  ".join(failures)
    )


# --------------------------------------------------------------------------- public entry


def _run_download(target: Path) -> dict[str, Path]:
    # Looked up at call time so that tests can monkeypatch ``mnist.download``.
    return download(target)


def _download_disabled() -> bool:
    return os.environ.get("SCRATCHNN_NO_DOWNLOAD", "").strip().lower() not in _FALSE_STRINGS


def load_data(path: str | os.PathLike | None = None, *, download: bool = True) -> Split:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, like Keras.

    Parameters
    ----------
    path : path, optional
        A directory holding the four IDX files (raw or ``.gz``) or ``mnist.npz``, a directory
        with such a ``mnist/`` subfolder, or a Keras ``mnist.npz`` file. Searched first; see
        the module docstring for the other places searched. A ``path`` that does not exist is
        an error (no silent fallback on a typo).
    download : bool, default True
        Download into :func:`cache_dir` when nothing is found. Also disabled by the
        environment variable ``SCRATCHNN_NO_DOWNLOAD=1``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        uint8 arrays of shapes ``(N_train, 28, 28)``, ``(N_train,)``, ``(N_test, 28, 28)``,
        ``(N_test,)``; for the real data ``N_train = 60000`` and ``N_test = 10000``.

    Raises
    ------
    MnistNotFoundError
        (a ``FileNotFoundError``) listing every place looked and how to provide the data.
    CorruptDataError
        (a ``ValueError``) if a found copy is malformed (bad IDX header, truncated, wrong
        shapes, mismatched image/label counts).
    ChecksumError
        (a ``ValueError``) if a download does not match the published SHA-256.
    """
    if path is not None and not Path(path).expanduser().exists():
        raise MnistNotFoundError(
            f"MNIST path {str(path)!r} does not exist; pass a directory holding the IDX files "
            f"or {NPZ_NAME}, or the path of an .npz file"
        )
    looked: list[str] = []
    for place in search_locations(path):
        found = _locate(place)
        if isinstance(found, str):
            looked.append(f"{place} ({found})")
            continue
        return _load(found)

    target = cache_dir()
    download_note: str
    if not download:
        download_note = "downloading is disabled (download=False)"
    elif _download_disabled():
        download_note = "downloading is disabled (SCRATCHNN_NO_DOWNLOAD is set)"
    else:
        try:
            files = _run_download(target)
        except MnistNotFoundError as exc:
            download_note = f"download failed: {exc}"
        else:
            return _load_idx(files)
    raise MnistNotFoundError(
        "MNIST not found. Looked in:\n  " + "\n  ".join(looked) + f"\nand {download_note}.\n"
        "To provide the data, either:\n"
        "  - set SCRATCHNN_DATA to a directory containing mnist/ with the four IDX files "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz) or mnist.npz,\n"
        "  - pass load_data(path=...) pointing at such a directory or at an mnist.npz file, or\n"
        f"  - put the IDX files or Keras's mnist.npz in the cache directory {target}\n"
        "    (or allow the automatic download)."
    )
