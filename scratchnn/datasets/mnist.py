"""The MNIST handwritten digits, loaded like ``keras.datasets.mnist.load_data``.

``load_data()`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
``(60000, 28, 28)`` / ``(10000, 28, 28)`` with pixel values 0..255, and uint8 labels 0..9 of
shape ``(60000,)`` / ``(10000,)``.

Where the data is looked for, in order (the first complete copy wins):

1. ``path=`` -- a directory holding the four IDX files (``train-images-idx3-ubyte``,
   ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
   raw or ``.gz``) or ``mnist.npz``; or a directory with such a ``mnist/`` subfolder; or the
   path of a Keras-style ``.npz`` file (keys ``x_train, y_train, x_test, y_test``). An
   explicit ``path`` is authoritative for what it holds: a folder with only some of the four
   files is an error naming the missing ones, and a folder with none of them is an error too:
   it is never completed from, or replaced by, the places below.
2. ``$SCRATCHNN_DATA/mnist/`` and ``$SCRATCHNN_DATA`` itself (which must be a folder).
3. The cache directory :func:`cache_dir`: ``$SCRATCHNN_CACHE/mnist``, else
   ``$XDG_CACHE_HOME/scratchnn/mnist``, else ``~/.cache/scratchnn/mnist``.
4. Keras's own download, ``$KERAS_HOME/datasets/mnist.npz`` (default ``~/.keras``).

If nothing is found, the four ``.gz`` files are downloaded into the cache directory (unless
``download=False`` or ``SCRATCHNN_NO_DOWNLOAD=1``), trying :data:`MIRRORS` in order. Each
download is verified against :data:`CHECKSUMS` (SHA-256 and size of the *decompressed* file);
all four files go to a temporary directory first and are moved into place with
:func:`os.replace` only when all of them verify, so a failed download leaves nothing behind
(not even the cache folders it created).

Every problem is one of :class:`DatasetNotFoundError` (a ``FileNotFoundError``; nothing usable
found, with the places searched in ``.searched``), :class:`ChecksumError` (a ``ValueError``)
or :class:`DatasetError` (a ``ValueError``: unreadable, wrong kind of path) and its subclass
:class:`CorruptDataError` (malformed content), each naming the file and what was expected.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnn.atomic import make_temp_dir
from scratchnn.datasets.errors import (
    CorruptDataError,
    DatasetError,
    DatasetNotFoundError,
    as_path,
    describe_os_error,
)
from scratchnn.datasets.idx import _open_stream, _read_up_to, parse_idx, read_idx, read_idx_header
from scratchnn.datasets.npz import Layout, read_npz

__all__ = [
    "load_data",
    "download",
    "cache_dir",
    "search_locations",
    "MnistNotFoundError",
    "DatasetNotFoundError",
    "DatasetError",
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

#: A mirror's response longer than this (bytes) is abandoned: the largest MNIST file is 10 MB.
MAX_DOWNLOAD_BYTES: int = 256 << 20

NPZ_NAME = "mnist.npz"
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_FALSE_STRINGS = ("", "0", "false", "no", "off")

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class MnistNotFoundError(DatasetNotFoundError):
    """MNIST was not found in any searched location and could not be downloaded.

    A :class:`DatasetNotFoundError` (so a ``FileNotFoundError``); ``searched`` lists each place
    looked in with the reason it held no usable copy.
    """


class ChecksumError(ValueError):
    """A downloaded file does not have the expected SHA-256 digest or size."""


_NPZ_EXPECTED = (
    "a zip archive (as written by numpy.savez, like Keras's mnist.npz) holding x_train "
    "(N, 28, 28), y_train (N,), x_test (M, 28, 28) and y_test (M,), all uint8, labels 0..9"
)
_CLI_HINT = "(on the command line: --data DIR)"


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


@dataclass(frozen=True)
class _Place:
    """A place to look: a folder (``kind="dir"``) or an ``.npz`` file; ``explicit`` when it
    comes from ``path=`` (then an incomplete copy is an error instead of being skipped)."""

    path: Path
    kind: str
    explicit: bool = False


@dataclass(frozen=True)
class _Absent:
    """Why a place holds no usable MNIST; ``partial`` when some of the four files are there."""

    reason: str
    partial: bool = False


def _places(path: Path | None) -> list[_Place]:
    places: list[_Place] = []
    if path is not None:
        if path.is_file() or (path.suffix == ".npz" and not path.is_dir()):
            places.append(_Place(path, "npz", explicit=True))
        else:
            places += [_Place(path, "dir", True), _Place(path / "mnist", "dir", True)]
    data = os.environ.get("SCRATCHNN_DATA")
    if data:
        d = Path(data).expanduser()
        places += [_Place(d / "mnist", "dir"), _Place(d, "dir")]
    places += [_Place(cache_dir(), "dir"), _Place(_keras_npz(), "npz")]
    unique: list[_Place] = []
    for place in places:
        if all(place.path != seen.path for seen in unique):
            unique.append(place)
    return unique


def search_locations(path: str | os.PathLike | None = None) -> list[Path]:
    """Return the places :func:`load_data` looks in, in order (directories or ``.npz`` files)."""
    root = None if path is None else as_path(path).expanduser()
    return [place.path for place in _places(root)]


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


def _locate_in(place: _Place) -> tuple[str, Path | dict[str, Path]] | _Absent:
    p = place.path
    if place.kind == "npz":
        if p.is_file():
            return ("npz", p)
        why = "is a folder, expected an .npz file" if p.is_dir() else "file does not exist"
        return _Absent(why)
    if not p.exists():
        return _Absent("directory does not exist")
    if not p.is_dir():
        return _Absent("is a file, expected a folder")
    files, missing = _idx_files_in(p)
    if files is not None:
        return ("idx", files)
    if (p / NPZ_NAME).is_file():
        return ("npz", p / NPZ_NAME)
    if len(missing) < len(FILES):
        return _Absent("incomplete: missing " + ", ".join(f"{m}[.gz]" for m in missing), True)
    return _Absent(f"no IDX files and no {NPZ_NAME}")


def _locate(place: _Place) -> tuple[str, Path | dict[str, Path]] | _Absent:
    """``("npz", file)`` or ``("idx", files)`` for ``place``, or why it has no MNIST."""
    try:
        return _locate_in(place)
    except OSError as exc:  # e.g. a folder on the way that may not be searched
        raise describe_os_error(place.path, exc, "search") from exc


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as exc:  # a folder on the way that may not be searched
        raise describe_os_error(path, exc, "search") from exc


def _check_data_env() -> None:
    data = os.environ.get("SCRATCHNN_DATA")
    if data and Path(data).expanduser().is_file():
        raise DatasetError(
            f"SCRATCHNN_DATA={data} is a file; it must be a folder holding mnist/ (or the four "
            f"IDX files, or {NPZ_NAME}); to load an .npz file pass path=... {_CLI_HINT}"
        )


# --------------------------------------------------------------------------- loading


def _check_layout(names: Mapping[str, str], source: str, layout: Layout) -> None:
    """Shapes, dtypes and counts from the headers ``layout[part] = (shape, dtype)``."""
    for split in ("train", "test"):
        x_part, y_part = f"x_{split}", f"y_{split}"
        (x_shape, x_dtype), (y_shape, y_dtype) = layout[x_part], layout[y_part]
        if len(x_shape) != 3 or x_shape[1:] != (28, 28):
            raise CorruptDataError(
                f"{names[x_part]}: {split} images must have shape (N, 28, 28), got {x_shape}"
            )
        if len(y_shape) != 1:
            raise CorruptDataError(
                f"{names[y_part]}: {split} labels must be 1-D, got shape {y_shape}"
            )
        if x_shape[0] != y_shape[0]:
            raise CorruptDataError(
                f"{source}: {split} split has {x_shape[0]} images but {y_shape[0]} labels "
                f"({names[x_part]} vs {names[y_part]})"
            )
        for what, part, dtype in (("images", x_part, x_dtype), ("labels", y_part, y_dtype)):
            if dtype != np.uint8:
                raise CorruptDataError(
                    f"{names[part]}: {split} {what} must be uint8, got dtype {dtype}"
                )


def _check_labels(names: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> None:
    for split in ("train", "test"):
        y = arrays[f"y_{split}"]
        bad = np.flatnonzero(y > 9)
        if bad.size:
            raise CorruptDataError(
                f"{names[f'y_{split}']}: {split} labels must be digits 0..9, found "
                f"{int(y[bad[0]])} at index {int(bad[0])} ({bad.size} label(s) out of range)"
            )


def _as_split(arrays: Mapping[str, np.ndarray]) -> Split:
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_npz(file: Path) -> Split:
    if file.name.removesuffix(".gz") in FILES.values():
        raise DatasetError(
            f"{file} is one MNIST IDX file; pass the folder holding all four IDX files "
            f"(path=... {_CLI_HINT}), or the path of an {NPZ_NAME} file"
        )
    names = dict.fromkeys(FILES, str(file))

    def check(layout: Layout) -> None:
        _check_layout(names, str(file), layout)

    arrays = read_npz(file, list(FILES), check=check, label="MNIST .npz", expected=_NPZ_EXPECTED)
    _check_labels(names, arrays)
    return _as_split(arrays)


def _load_idx(files: Mapping[str, Path]) -> Split:
    names = {part: str(p) for part, p in files.items()}
    layout = {part: read_idx_header(p) for part, p in files.items()}
    _check_layout(names, str(Path(files["x_train"]).parent), layout)
    arrays = {part: read_idx(p) for part, p in files.items()}
    _check_labels(names, arrays)
    return _as_split(arrays)


def _load(found: tuple[str, Path | dict[str, Path]]) -> Split:
    kind, where = found
    if kind == "npz":
        assert isinstance(where, Path)
        return _load_npz(where)
    assert isinstance(where, dict)
    return _load_idx(where)


# --------------------------------------------------------------------------- download


def _fetch_url(url: str, dest: Path, timeout: float) -> None:
    """Copy the resource at ``url`` into the (new) file ``dest`` with ``urllib``.

    Gives up (``ValueError``) past :data:`MAX_DOWNLOAD_BYTES`, so a bad mirror cannot fill the
    disk."""
    copied = 0
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
        while chunk := response.read(1 << 20):
            copied += len(chunk)
            if copied > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"response is larger than {MAX_DOWNLOAD_BYTES} bytes")
            out.write(chunk)


def _verify(file: Path, base: str, url: str, checksums: Mapping[str, tuple[str, int]]) -> None:
    """Check the SHA-256 and size of the decompressed content of ``file``, decompressing at
    most one byte more than the expected size."""
    expected_hash, expected_size = checksums[base]
    try:
        with _open_stream(file) as (stream, _):
            data = bytes(_read_up_to(stream, expected_size + 1))
    except CorruptDataError as exc:
        raise CorruptDataError(
            f"{base}.gz downloaded from {url} is not valid gzip ({exc.__cause__ or exc}); "
            "the download was deleted"
        ) from exc
    actual_hash = hashlib.sha256(data).hexdigest()
    if len(data) > expected_size:
        got = f"more than {expected_size} bytes"
    else:
        got = f"{actual_hash} ({len(data)} bytes)"
    if actual_hash != expected_hash or len(data) != expected_size:
        raise ChecksumError(
            f"checksum mismatch for {base} downloaded from {url}: expected sha256 "
            f"{expected_hash} ({expected_size} bytes), got {got}; the download was deleted"
        )
    parse_idx(data, name=f"{base} from {url}")  # header/length sanity


def _missing_dirs(directory: Path) -> list[Path]:
    """``directory`` and its ancestors that do not exist yet, deepest first."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    return missing


def _remove_empty(dirs: Sequence[Path]) -> None:
    """Remove the folders ``dirs`` (deepest first) while they are empty."""
    for d in dirs:
        try:
            d.rmdir()
        except OSError:  # not empty (someone else wrote there) or already gone
            return


def _prepare_dir(directory: Path) -> list[Path]:
    """Create ``directory``; return the folders created (for removal on failure)."""
    if directory.exists() and not directory.is_dir():
        raise DatasetError(f"{directory}: is a file, expected a folder to download MNIST into")
    created = _missing_dirs(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(created)
        raise describe_os_error(directory, exc, "create") from exc
    return created


def _move_into_place(staged: Mapping[str, Path], directory: Path) -> dict[str, Path]:
    """``os.replace`` every staged file into ``directory``; all or nothing."""
    final: dict[str, Path] = {}
    try:
        for part, tmp in staged.items():
            target = directory / f"{FILES[part]}.gz"
            os.replace(tmp, target)
            final[part] = target
    except BaseException:
        for target in final.values():
            target.unlink(missing_ok=True)
        raise
    return final


def _check_mirrors(mirrors: Sequence[str]) -> list[str]:
    if isinstance(mirrors, str) or not all(isinstance(m, str) for m in mirrors):
        raise TypeError(f"mirrors must be a sequence of URL strings, got {mirrors!r}")
    return list(mirrors)


def _check_checksums(checksums: Mapping[str, tuple[str, int]]) -> Mapping[str, tuple[str, int]]:
    missing = [base for base in FILES.values() if base not in checksums]
    if missing:
        raise ValueError(f"checksums has no entry for {missing}; it needs one per file in FILES")
    return checksums


def _check_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


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
    directory, and every folder this call created, is removed, so no partial or unverified
    file (and no empty cache folder) is ever left on disk.

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
    DatasetError
        If ``directory`` is a file or cannot be created.
    """
    directory = as_path(directory, "directory") if directory is not None else cache_dir()
    mirrors = _check_mirrors(MIRRORS if mirrors is None else mirrors)
    checksums = _check_checksums(CHECKSUMS if checksums is None else checksums)
    timeout = _check_timeout(DOWNLOAD_TIMEOUT if timeout is None else timeout)
    fetch = _fetch_url if fetch is None else fetch
    if not callable(fetch):
        raise TypeError(f"fetch must be callable as fetch(url, dest, timeout), got {fetch!r}")
    if not mirrors:
        raise MnistNotFoundError("cannot download MNIST: the mirror list is empty")

    created = _prepare_dir(directory)
    staging: Path | None = None
    try:
        # named .download.<pid>.<hex>.scratchnn-tmp: a later download removes it if this
        # process is killed before it can clean up
        staging = make_temp_dir(directory / "download")
        staged = {
            part: _download_one(base, staging, mirrors, checksums, timeout, fetch)
            for part, base in FILES.items()
        }
        final = _move_into_place(staged, directory)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return final


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
        f"could not download {base}.gz from any mirror:\n  " + "\n  ".join(failures),
        searched=[f"{mirror}{base}.gz" for mirror in mirrors],
    )


# --------------------------------------------------------------------------- public entry


def _run_download(target: Path) -> dict[str, Path]:
    # Looked up at call time so that tests can monkeypatch ``mnist.download``.
    return download(target)


def _download_disabled() -> bool:
    return os.environ.get("SCRATCHNN_NO_DOWNLOAD", "").strip().lower() not in _FALSE_STRINGS


def _incomplete_error(place: Path, absent: _Absent) -> MnistNotFoundError:
    return MnistNotFoundError(
        f"MNIST folder {place} ({absent.reason}). An explicit path is used as given, not "
        "completed from other locations: add the missing files there, or pass path=... "
        f"{_CLI_HINT} pointing at a folder with all four IDX files or {NPZ_NAME}.",
        searched=[f"{place} ({absent.reason})"],
    )


def _explicit_absent_error(path: Path, looked: Sequence[str]) -> MnistNotFoundError:
    return MnistNotFoundError(
        f"No MNIST at the explicit path {path}. Looked in:\n  " + "\n  ".join(looked)
        + f"\nAn explicit path is used as given, not replaced by other locations: pass path=... "
        f"{_CLI_HINT} pointing at a folder with the four IDX files (raw or .gz) or {NPZ_NAME}, "
        f"or at an .npz file.",
        searched=list(looked),
    )


def _not_found_message(looked: Sequence[str], download_note: str, target: Path) -> str:
    return (
        "MNIST not found. Looked in:\n  " + "\n  ".join(looked) + f"\nand {download_note}.\n"
        "To provide the data, either:\n"
        "  - set SCRATCHNN_DATA to a directory containing mnist/ with the four IDX files "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz) or mnist.npz,\n"
        f"  - pass load_data(path=...) {_CLI_HINT} pointing at such a directory or at an "
        "mnist.npz file, or\n"
        f"  - put the IDX files or Keras's mnist.npz in the cache directory {target}\n"
        "    (or allow the automatic download)."
    )


def _find(path: Path | None) -> tuple[tuple[str, Path | dict[str, Path]] | None, list[str]]:
    """The first usable copy (or ``None``) and the places looked in without success."""
    looked: list[str] = []
    for place in _places(path):
        if not place.explicit:
            if path is not None:  # path= is authoritative: no fallback to other places
                raise _explicit_absent_error(path, looked)
            _check_data_env()
        found = _locate(place)
        if not isinstance(found, _Absent):
            return found, looked
        if place.explicit and found.partial:
            raise _incomplete_error(place.path, found)
        looked.append(f"{place.path} ({found.reason})")
    return None, looked


def load_data(path: str | os.PathLike | None = None, *, download: bool = True) -> Split:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, like Keras.

    Parameters
    ----------
    path : path, optional
        A directory holding the four IDX files (raw or ``.gz``) or ``mnist.npz``, a directory
        with such a ``mnist/`` subfolder, or a Keras ``mnist.npz`` file. Searched first; see
        the module docstring for the other places searched. A ``path`` that does not exist, or
        a folder holding only some of the four files, is an error (no silent fallback).
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
        (a :class:`DatasetNotFoundError`, so a ``FileNotFoundError``) listing every place
        looked in (also in its ``searched`` attribute) and how to provide the data.
    CorruptDataError
        (a ``ValueError``) if a found copy is malformed (not an .npz archive, bad IDX header,
        truncated, wrong shapes or dtypes, labels above 9, mismatched image/label counts).
    DatasetError
        (a ``ValueError``) if a file or folder cannot be read (permission denied) or is a file
        where a folder is expected (``$SCRATCHNN_DATA``, the download folder).
    ChecksumError
        (a ``ValueError``) if a download does not match the published SHA-256.
    """
    root = None if path is None else as_path(path).expanduser()
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {type(download).__name__}")
    if root is not None and not _exists(root):
        raise MnistNotFoundError(
            f"MNIST path {str(path)!r} does not exist; pass a directory holding the IDX files "
            f"or {NPZ_NAME}, or the path of an .npz file {_CLI_HINT}",
            searched=[f"{root} (does not exist)"],
        )
    found, looked = _find(root)
    if found is not None:
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
    raise MnistNotFoundError(_not_found_message(looked, download_note, target), searched=looked)
