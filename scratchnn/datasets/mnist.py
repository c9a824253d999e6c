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

The loading, searching and downloading is :mod:`scratchnn.datasets.idx_dataset`, shared with
:mod:`scratchnn.datasets.fashion_mnist`; this module is MNIST's description (:data:`SPEC`).

Every problem is one of :class:`DatasetNotFoundError` (a ``FileNotFoundError``; nothing usable
found, with the places searched in ``.searched``), :class:`ChecksumError` (a ``ValueError``)
or :class:`DatasetError` (a ``ValueError``: unreadable, wrong kind of path) and its subclass
:class:`CorruptDataError` (malformed content), each naming the file and what was expected.
"""

from __future__ import annotations

from scratchnn.datasets.errors import CorruptDataError, DatasetError, DatasetNotFoundError
from scratchnn.datasets.idx_dataset import (
    DOWNLOAD_TIMEOUT,
    MAX_DOWNLOAD_BYTES,
    ChecksumError,
    DatasetSpec,
    IdxDataset,
    Split,
)

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
    "DOWNLOAD_TIMEOUT",
    "MAX_DOWNLOAD_BYTES",
    "NPZ_NAME",
    "SPEC",
    "Split",
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

NPZ_NAME = "mnist.npz"


class MnistNotFoundError(DatasetNotFoundError):
    """MNIST was not found in any searched location and could not be downloaded.

    A :class:`DatasetNotFoundError` (so a ``FileNotFoundError``); ``searched`` lists each place
    looked in with the reason it held no usable copy.
    """


#: MNIST's description for the shared loader.
SPEC = DatasetSpec(
    name="mnist", title="MNIST", files=FILES, checksums=CHECKSUMS, mirrors=MIRRORS,
    npz_name=NPZ_NAME, keras_copy=NPZ_NAME, keras_copy_kind="npz",
    not_found=MnistNotFoundError, digest="sha256", data_root=True, labels="digits",
    cli_hint=" (on the command line: --data DIR)",
)

load_data, download, cache_dir, search_locations, _fetch_url = (
    IdxDataset(SPEC, __name__).functions())
