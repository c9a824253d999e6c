"""One loader for the datasets shipped as four MNIST-format IDX files (MNIST, Fashion-MNIST).

A dataset is described by a :class:`DatasetSpec` (its folder name, the four IDX file names,
their checksums, the download mirrors, its ``.npz`` name, where Keras keeps its copy);
:class:`IdxDataset` turns a spec into the ``load_data`` / ``download`` / ``cache_dir`` /
``search_locations`` functions of :mod:`scratchnn.datasets.mnist` and
:mod:`scratchnn.datasets.fashion_mnist`, whose docstrings describe the search order.

Each split is uint8 images ``(N, 28, 28)`` and uint8 labels ``(N,)`` in ``0..9``.  A download
is verified file by file against ``checksums[base] = (hex digest, size)``: ``size`` is the byte
count of the *decompressed* IDX file; the digest (``spec.digest``, e.g. SHA-256 or MD5) is of
the decompressed content, or of the ``.gz`` file as served when ``spec.digest_of_download``.
All four files go to a temporary folder first and are moved into place with :func:`os.replace`
only when all of them verify, so a failed download leaves nothing behind.

The download settings ``MIRRORS``, ``CHECKSUMS``, ``DOWNLOAD_TIMEOUT``, ``MAX_DOWNLOAD_BYTES``
and the functions ``download`` / ``_fetch_url`` are looked up on the dataset's own module at
call time (falling back to the spec and this module's defaults), so they can be replaced there,
e.g. ``monkeypatch.setattr(mnist, "MIRRORS", [...])`` in a test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
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

__all__ = ["ChecksumError", "DatasetSpec", "IdxDataset", "DOWNLOAD_TIMEOUT",
           "MAX_DOWNLOAD_BYTES", "Split"]

#: Seconds before a connection or read on a mirror gives up.
DOWNLOAD_TIMEOUT: float = 60.0

#: A mirror's response longer than this (bytes) is abandoned: the largest file is 30 MB.
MAX_DOWNLOAD_BYTES: int = 256 << 20

_FALSE_STRINGS = ("", "0", "false", "no", "off")
_NPZ_EXPECTED = (
    "a zip archive (as written by numpy.savez, like Keras's mnist.npz) holding x_train "
    "(N, 28, 28), y_train (N,), x_test (M, 28, 28) and y_test (M,), all uint8, labels 0..9"
)

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
Found = tuple[str, "Path | dict[str, Path]"]


class ChecksumError(ValueError):
    """A downloaded file does not have the expected digest or size."""


@dataclass(frozen=True)
class DatasetSpec:
    """What differs between two IDX datasets.

    ``name`` is the folder looked for under ``path=``, ``$SCRATCHNN_DATA`` and the cache;
    ``title`` names the dataset in messages; ``files`` maps ``x_train, y_train, x_test,
    y_test`` to IDX base names (stored with or without ``.gz``); ``checksums`` maps each base
    name to ``(hex digest, decompressed size)``; ``mirrors`` are base URLs (``<mirror><base>.gz``
    is fetched); ``keras_copy`` is Keras's own download under ``$KERAS_HOME/datasets``, an
    ``.npz`` file or a folder (``keras_copy_kind``); ``data_root`` says whether
    ``$SCRATCHNN_DATA`` itself may hold the files (only for MNIST: the file names are shared);
    ``labels`` describes the labels in messages; ``cli_hint`` is appended to hints about
    ``path=``; ``not_found`` is the exception raised when nothing is found.
    """

    name: str
    title: str
    files: Mapping[str, str]
    checksums: Mapping[str, tuple[str, int]]
    mirrors: Sequence[str]
    npz_name: str
    keras_copy: str
    keras_copy_kind: str
    not_found: type[DatasetNotFoundError]
    digest: str = "sha256"
    digest_of_download: bool = False
    data_root: bool = False
    labels: str = "classes"
    cli_hint: str = ""


@dataclass(frozen=True)
class _Place:
    """A place to look: a folder (``kind="dir"``) or an ``.npz`` file; ``explicit`` when it
    comes from ``path=`` (then an incomplete copy is an error instead of being skipped)."""

    path: Path
    kind: str
    explicit: bool = False


@dataclass(frozen=True)
class _Absent:
    """Why a place holds no usable copy; ``partial`` when some of the four files are there."""

    reason: str
    partial: bool = False


# --------------------------------------------------------------------------- locations


def _cache_dir(spec: DatasetSpec) -> Path:
    env = os.environ.get("SCRATCHNN_CACHE")
    if env:
        return Path(env).expanduser() / spec.name
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "scratchnn" / spec.name


def _keras_copy(spec: DatasetSpec) -> _Place:
    home = os.environ.get("KERAS_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".keras"
    return _Place(base / "datasets" / spec.keras_copy, spec.keras_copy_kind)


def _places(spec: DatasetSpec, path: Path | None) -> list[_Place]:
    places: list[_Place] = []
    if path is not None:
        if path.is_file() or (path.suffix == ".npz" and not path.is_dir()):
            places.append(_Place(path, "npz", explicit=True))
        else:
            places += [_Place(path, "dir", True), _Place(path / spec.name, "dir", True)]
    data = os.environ.get("SCRATCHNN_DATA")
    if data:
        d = Path(data).expanduser()
        places += [_Place(d / spec.name, "dir")] + ([_Place(d, "dir")] if spec.data_root else [])
    places += [_Place(_cache_dir(spec), "dir"), _keras_copy(spec)]
    unique: list[_Place] = []
    for place in places:
        if all(place.path != seen.path for seen in unique):
            unique.append(place)
    return unique


def _idx_files_in(spec: DatasetSpec, directory: Path
                  ) -> tuple[dict[str, Path] | None, list[str]]:
    """Map each split part to its IDX file in ``directory`` (raw preferred over .gz)."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for part, base in spec.files.items():
        for candidate in (directory / base, directory / f"{base}.gz"):
            if candidate.is_file():
                found[part] = candidate
                break
        else:
            missing.append(base)
    return (found if not missing else None), missing


def _locate_in(spec: DatasetSpec, place: _Place) -> Found | _Absent:
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
    files, missing = _idx_files_in(spec, p)
    if files is not None:
        return ("idx", files)
    if (p / spec.npz_name).is_file():
        return ("npz", p / spec.npz_name)
    if len(missing) < len(spec.files):
        return _Absent("incomplete: missing " + ", ".join(f"{m}[.gz]" for m in missing), True)
    return _Absent(f"no IDX files and no {spec.npz_name}")


def _locate(spec: DatasetSpec, place: _Place) -> Found | _Absent:
    """``("npz", file)`` or ``("idx", files)`` for ``place``, or why it has no copy."""
    try:
        return _locate_in(spec, place)
    except OSError as exc:  # e.g. a folder on the way that may not be searched
        raise describe_os_error(place.path, exc, "search") from exc


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as exc:  # a folder on the way that may not be searched
        raise describe_os_error(path, exc, "search") from exc


def _check_data_env(spec: DatasetSpec) -> None:
    data = os.environ.get("SCRATCHNN_DATA")
    if data and Path(data).expanduser().is_file():
        alternatives = f" (or the four IDX files, or {spec.npz_name})" if spec.data_root else ""
        raise DatasetError(
            f"SCRATCHNN_DATA={data} is a file; it must be a folder holding {spec.name}/"
            f"{alternatives}; to load an .npz file pass path=...{spec.cli_hint}"
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


def _check_labels(spec: DatasetSpec, names: Mapping[str, str],
                  arrays: Mapping[str, np.ndarray]) -> None:
    for split in ("train", "test"):
        y = arrays[f"y_{split}"]
        bad = np.flatnonzero(y > 9)
        if bad.size:
            raise CorruptDataError(
                f"{names[f'y_{split}']}: {split} labels must be {spec.labels} 0..9, found "
                f"{int(y[bad[0]])} at index {int(bad[0])} ({bad.size} label(s) out of range)"
            )


def _as_split(arrays: Mapping[str, np.ndarray]) -> Split:
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_npz(spec: DatasetSpec, file: Path) -> Split:
    if file.name.removesuffix(".gz") in spec.files.values():
        raise DatasetError(
            f"{file} is one {spec.title} IDX file; pass the folder holding all four IDX files "
            f"(path=...{spec.cli_hint}), or the path of an {spec.npz_name} file"
        )
    names = dict.fromkeys(spec.files, str(file))

    def check(layout: Layout) -> None:
        _check_layout(names, str(file), layout)

    arrays = read_npz(file, list(spec.files), check=check, label=f"{spec.title} .npz",
                      expected=_NPZ_EXPECTED)
    _check_labels(spec, names, arrays)
    return _as_split(arrays)


def _load_idx(spec: DatasetSpec, files: Mapping[str, Path]) -> Split:
    names = {part: str(p) for part, p in files.items()}
    layout = {part: read_idx_header(p) for part, p in files.items()}
    _check_layout(names, str(Path(files["x_train"]).parent), layout)
    arrays = {part: read_idx(p) for part, p in files.items()}
    _check_labels(spec, names, arrays)
    return _as_split(arrays)


def _load(spec: DatasetSpec, found: Found) -> Split:
    kind, where = found
    if kind == "npz":
        assert isinstance(where, Path)
        return _load_npz(spec, where)
    assert isinstance(where, dict)
    return _load_idx(spec, where)


# --------------------------------------------------------------------------- download


def fetch_url(url: str, dest: Path, timeout: float, max_bytes: int = MAX_DOWNLOAD_BYTES) -> None:
    """Copy the resource at ``url`` into the (new) file ``dest`` with ``urllib``.

    Gives up (``ValueError``) past ``max_bytes``, so a bad mirror cannot fill the disk."""
    copied = 0
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
        while chunk := response.read(1 << 20):
            copied += len(chunk)
            if copied > max_bytes:
                raise ValueError(f"response is larger than {max_bytes} bytes")
            out.write(chunk)


def _verify(spec: DatasetSpec, file: Path, base: str, url: str,
            checksums: Mapping[str, tuple[str, int]]) -> None:
    """Check the digest and the decompressed size of ``file``, decompressing at most one byte
    more than the expected size."""
    expected_hash, expected_size = checksums[base]
    try:
        with _open_stream(file) as (stream, _):
            data = bytes(_read_up_to(stream, expected_size + 1))
    except CorruptDataError as exc:
        raise CorruptDataError(
            f"{base}.gz downloaded from {url} is not valid gzip ({exc.__cause__ or exc}); "
            "the download was deleted"
        ) from exc
    hashed = file.read_bytes() if spec.digest_of_download else data
    actual_hash = hashlib.new(spec.digest, hashed, usedforsecurity=False).hexdigest()
    if len(data) > expected_size:
        got = f"more than {expected_size} bytes"
    else:
        got = f"{actual_hash} ({len(data)} bytes)"
    if actual_hash != expected_hash or len(data) != expected_size:
        raise ChecksumError(
            f"checksum mismatch for {base} downloaded from {url}: expected {spec.digest} "
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


def _prepare_dir(spec: DatasetSpec, directory: Path) -> list[Path]:
    """Create ``directory``; return the folders created (for removal on failure)."""
    if directory.exists() and not directory.is_dir():
        raise DatasetError(
            f"{directory}: is a file, expected a folder to download {spec.title} into")
    created = _missing_dirs(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(created)
        raise describe_os_error(directory, exc, "create") from exc
    return created


def _move_into_place(spec: DatasetSpec, staged: Mapping[str, Path],
                     directory: Path) -> dict[str, Path]:
    """``os.replace`` every staged file into ``directory``; all or nothing."""
    final: dict[str, Path] = {}
    try:
        for part, tmp in staged.items():
            target = directory / f"{spec.files[part]}.gz"
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


def _check_checksums(spec: DatasetSpec, checksums: Mapping[str, tuple[str, int]]
                     ) -> Mapping[str, tuple[str, int]]:
    missing = [base for base in spec.files.values() if base not in checksums]
    if missing:
        raise ValueError(f"checksums has no entry for {missing}; it needs one per file in FILES")
    return checksums


def _check_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


@dataclass(frozen=True)
class _Download:
    """The checked arguments of one download."""

    mirrors: list[str]
    checksums: Mapping[str, tuple[str, int]]
    timeout: float
    fetch: Callable[[str, Path, float], None]


def _download_all(spec: DatasetSpec, directory: Path, how: _Download) -> dict[str, Path]:
    """Download, verify and move the four files into ``directory``; all or nothing."""
    if not how.mirrors:
        raise spec.not_found(f"cannot download {spec.title}: the mirror list is empty")
    created = _prepare_dir(spec, directory)
    staging: Path | None = None
    try:
        # named .download.<pid>.<hex>.scratchnn-tmp: a later download removes it if this
        # process is killed before it can clean up
        staging = make_temp_dir(directory / "download")
        staged = {part: _download_one(spec, base, staging, how)
                  for part, base in spec.files.items()}
        final = _move_into_place(spec, staged, directory)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return final


def _download_one(spec: DatasetSpec, base: str, staging: Path, how: _Download) -> Path:
    dest = staging / f"{base}.gz"
    failures: list[str] = []
    integrity_error: ValueError | None = None
    for mirror in how.mirrors:
        url = f"{mirror}{base}.gz"
        try:
            how.fetch(url, dest, how.timeout)
            _verify(spec, dest, base, url, how.checksums)
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
    raise spec.not_found(
        f"could not download {base}.gz from any mirror:\n  " + "\n  ".join(failures),
        searched=[f"{mirror}{base}.gz" for mirror in how.mirrors],
    )


# --------------------------------------------------------------------------- messages


def _download_disabled() -> bool:
    return os.environ.get("SCRATCHNN_NO_DOWNLOAD", "").strip().lower() not in _FALSE_STRINGS


def _incomplete_error(spec: DatasetSpec, place: Path, absent: _Absent) -> DatasetNotFoundError:
    return spec.not_found(
        f"{spec.title} folder {place} ({absent.reason}). An explicit path is used as given, "
        "not completed from other locations: add the missing files there, or pass path=..."
        f"{spec.cli_hint} pointing at a folder with all four IDX files or {spec.npz_name}.",
        searched=[f"{place} ({absent.reason})"],
    )


def _explicit_absent_error(spec: DatasetSpec, path: Path,
                           looked: Sequence[str]) -> DatasetNotFoundError:
    return spec.not_found(
        f"No {spec.title} at the explicit path {path}. Looked in:\n  " + "\n  ".join(looked)
        + "\nAn explicit path is used as given, not replaced by other locations: pass path=..."
        f"{spec.cli_hint} pointing at a folder with the four IDX files (raw or .gz) or "
        f"{spec.npz_name}, or at an .npz file.",
        searched=list(looked),
    )


def _not_found_message(spec: DatasetSpec, looked: Sequence[str], download_note: str,
                       target: Path) -> str:
    gz_names = ", ".join(f"{base}.gz" for base in spec.files.values())
    keras = "Keras's " if spec.keras_copy_kind == "npz" else ""
    return (
        f"{spec.title} not found. Looked in:\n  " + "\n  ".join(looked)
        + f"\nand {download_note}.\n"
        "To provide the data, either:\n"
        f"  - set SCRATCHNN_DATA to a directory containing {spec.name}/ with the four IDX files "
        f"({gz_names}) or {spec.npz_name},\n"
        f"  - pass load_data(path=...){spec.cli_hint} pointing at such a directory or at an "
        f"{spec.npz_name} file, or\n"
        f"  - put the IDX files or {keras}{spec.npz_name} in the cache directory {target}\n"
        "    (or allow the automatic download)."
    )


def _path_absent_error(spec: DatasetSpec, path: object, root: Path) -> DatasetNotFoundError:
    return spec.not_found(
        f"{spec.title} path {str(path)!r} does not exist; pass a directory holding the IDX "
        f"files or {spec.npz_name}, or the path of an .npz file{spec.cli_hint}",
        searched=[f"{root} (does not exist)"],
    )


def _find(spec: DatasetSpec, path: Path | None) -> tuple[Found | None, list[str]]:
    """The first usable copy (or ``None``) and the places looked in without success."""
    looked: list[str] = []
    for place in _places(spec, path):
        if not place.explicit:
            if path is not None:  # path= is authoritative: no fallback to other places
                raise _explicit_absent_error(spec, path, looked)
            _check_data_env(spec)
        found = _locate(spec, place)
        if not isinstance(found, _Absent):
            return found, looked
        if place.explicit and found.partial:
            raise _incomplete_error(spec, place.path, found)
        looked.append(f"{place.path} ({found.reason})")
    return None, looked


# --------------------------------------------------------------------------- entry points


class IdxDataset:
    """``load_data``, ``download``, ``cache_dir``, ``search_locations`` and ``fetch_url`` for
    one :class:`DatasetSpec`, whose replaceable settings live on the module ``module``."""

    def __init__(self, spec: DatasetSpec, module: str):
        self.spec, self.module = spec, module

    def functions(self) -> tuple[Callable, ...]:
        """``(load_data, download, cache_dir, search_locations, fetch_url)``, the dataset
        module's functions."""
        return (self.load_data, self.download, self.cache_dir, self.search_locations,
                self.fetch_url)

    def _setting(self, name: str, default):
        return getattr(sys.modules[self.module], name, default)

    def cache_dir(self) -> Path:
        """Directory where downloads are stored: ``$SCRATCHNN_CACHE/<name>`` if
        ``SCRATCHNN_CACHE`` is set, else ``$XDG_CACHE_HOME/scratchnn/<name>``, else
        ``~/.cache/scratchnn/<name>``."""
        return _cache_dir(self.spec)

    def search_locations(self, path: str | os.PathLike | None = None) -> list[Path]:
        """The places ``load_data`` looks in, in order (directories or ``.npz`` files)."""
        root = None if path is None else as_path(path).expanduser()
        return [place.path for place in _places(self.spec, root)]

    def fetch_url(self, url: str, dest: Path, timeout: float) -> None:
        """:func:`fetch_url` with the module's ``MAX_DOWNLOAD_BYTES``."""
        fetch_url(url, dest, timeout, self._setting("MAX_DOWNLOAD_BYTES", MAX_DOWNLOAD_BYTES))

    def download(
        self,
        directory: str | os.PathLike | None = None,
        *,
        mirrors: Sequence[str] | None = None,
        checksums: Mapping[str, tuple[str, int]] | None = None,
        timeout: float | None = None,
        fetch: Callable[[str, Path, float], None] | None = None,
    ) -> dict[str, Path]:
        """Download the four ``.gz`` files into ``directory`` (default :meth:`cache_dir`).

        For each file the mirrors are tried in order; a download is accepted only when its
        digest and the size of its decompressed content match ``checksums``. All four files
        are downloaded into a temporary directory inside ``directory`` and moved into place
        with :func:`os.replace` only after every one has verified; on any failure the temporary
        directory, and every folder this call created, is removed, so no partial or unverified
        file (and no empty cache folder) is ever left on disk.

        Parameters
        ----------
        directory : path, optional
            Destination directory, created if needed.
        mirrors : sequence of str, optional
            Base URLs (ending in ``/``); default the module's ``MIRRORS``. ``file://`` works.
        checksums : mapping, optional
            ``base name -> (hex digest, decompressed size)``; default the module's
            ``CHECKSUMS``.
        timeout : float, optional
            Per-request timeout in seconds; default ``DOWNLOAD_TIMEOUT``.
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
            If no mirror served a file with the expected digest and one served a wrong one.
        CorruptDataError
            If a download was not valid gzip / IDX and no mirror served a good one.
        DatasetNotFoundError
            (the dataset's subclass) If every mirror failed for a file (network errors); the
            message lists each URL tried.
        DatasetError
            If ``directory`` is a file or cannot be created.
        """
        spec = self.spec
        directory = as_path(directory, "directory") if directory is not None else _cache_dir(spec)
        how = _Download(
            mirrors=_check_mirrors(self._setting("MIRRORS", spec.mirrors)
                                   if mirrors is None else mirrors),
            checksums=_check_checksums(spec, self._setting("CHECKSUMS", spec.checksums)
                                       if checksums is None else checksums),
            timeout=_check_timeout(self._setting("DOWNLOAD_TIMEOUT", DOWNLOAD_TIMEOUT)
                                   if timeout is None else timeout),
            fetch=self._setting("_fetch_url", self.fetch_url) if fetch is None else fetch)
        if not callable(how.fetch):
            raise TypeError(f"fetch must be callable as fetch(url, dest, timeout), got "
                            f"{how.fetch!r}")
        return _download_all(spec, directory, how)

    def load_data(self, path: str | os.PathLike | None = None, *, download: bool = True
                  ) -> Split:
        """Load the dataset as ``(x_train, y_train), (x_test, y_test)``, like Keras.

        Parameters
        ----------
        path : path, optional
            A directory holding the four IDX files (raw or ``.gz``) or the dataset's ``.npz``,
            a directory with such a ``<name>/`` subfolder, or an ``.npz`` file. Searched first;
            see the dataset module's docstring for the other places searched. A ``path`` that
            does not exist, or a folder holding only some of the four files, is an error.
        download : bool, default True
            Download into :meth:`cache_dir` when nothing is found. Also disabled by the
            environment variable ``SCRATCHNN_NO_DOWNLOAD=1``.

        Returns
        -------
        (x_train, y_train), (x_test, y_test)
            uint8 arrays of shapes ``(N_train, 28, 28)``, ``(N_train,)``, ``(N_test, 28, 28)``,
            ``(N_test,)``; for the real data ``N_train = 60000`` and ``N_test = 10000``.

        Raises
        ------
        DatasetNotFoundError
            (the dataset's subclass, a ``FileNotFoundError``) listing every place looked in
            (also in its ``searched`` attribute) and how to provide the data.
        CorruptDataError
            (a ``ValueError``) if a found copy is malformed (not an .npz archive, bad IDX
            header, truncated, wrong shapes or dtypes, labels above 9, mismatched counts).
        DatasetError
            (a ``ValueError``) if a file or folder cannot be read (permission denied) or is a
            file where a folder is expected (``$SCRATCHNN_DATA``, the download folder).
        ChecksumError
            (a ``ValueError``) if a download does not match the published checksum.
        """
        spec = self.spec
        root = None if path is None else as_path(path).expanduser()
        if not isinstance(download, bool):
            raise TypeError(f"download must be a bool, got {type(download).__name__}")
        if root is not None and not _exists(root):
            raise _path_absent_error(spec, path, root)
        found, looked = _find(spec, root)
        if found is not None:
            return _load(spec, found)
        target = _cache_dir(spec)
        if not download:
            note = "downloading is disabled (download=False)"
        elif _download_disabled():
            note = "downloading is disabled (SCRATCHNN_NO_DOWNLOAD is set)"
        else:
            try:
                files = self._setting("download", self.download)(target)
            except spec.not_found as exc:
                note = f"download failed: {exc}"
            else:
                return _load_idx(spec, files)
        raise spec.not_found(_not_found_message(spec, looked, note, target), searched=looked)
