"""Fashion-MNIST (Zalando's article images), loaded like ``keras.datasets.fashion_mnist``.

``load_data()`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
``(60000, 28, 28)`` / ``(10000, 28, 28)`` with pixel values 0..255, and uint8 labels 0..9 of
shape ``(60000,)`` / ``(10000,)``, the classes of :data:`CLASS_NAMES` (0 T-shirt/top,
1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).
The files have MNIST's names and IDX format; the copyright is Zalando SE's (MIT license).

Where the data is looked for, in order (the first complete copy wins), as for
:mod:`scratchnn.datasets.mnist`:

1. ``path=`` -- a directory holding the four IDX files (raw or ``.gz``) or
   ``fashion_mnist.npz``, or a directory with such a ``fashion_mnist/`` subfolder, or the path
   of an ``.npz`` file (keys ``x_train, y_train, x_test, y_test``); authoritative, never
   completed from the places below.
2. ``$SCRATCHNN_DATA/fashion_mnist/`` (not ``$SCRATCHNN_DATA`` itself: MNIST's files have the
   same names, so a folder of loose IDX files there is taken to be MNIST).
3. The cache directory :func:`cache_dir`: ``$SCRATCHNN_CACHE/fashion_mnist``, else
   ``$XDG_CACHE_HOME/scratchnn/fashion_mnist``, else ``~/.cache/scratchnn/fashion_mnist``.
4. Keras's own download, the folder ``$KERAS_HOME/datasets/fashion-mnist`` (default
   ``~/.keras``).

If nothing is found, the four ``.gz`` files are downloaded into the cache directory (unless
``download=False`` or ``SCRATCHNN_NO_DOWNLOAD=1``) from :data:`MIRRORS`: first Keras's URL
(``keras.src.datasets.fashion_mnist``), then Zalando's.  Keras's source publishes no checksum
for these files, so :data:`CHECKSUMS` holds the MD5 of each ``.gz`` file from the
Fashion-MNIST README (github.com/zalandoresearch/fashion-mnist) with the decompressed size that
the IDX format fixes (``16 + N * 28 * 28`` for images, ``8 + N`` for labels); a download is
kept only when both match, all four files or none (see :mod:`scratchnn.datasets.idx_dataset`).

Errors are those of :mod:`scratchnn.datasets.mnist`, with
:class:`FashionMnistNotFoundError` when nothing is found.
"""

from __future__ import annotations

from scratchnn.datasets.errors import DatasetNotFoundError
from scratchnn.datasets.idx_dataset import (
    DOWNLOAD_TIMEOUT,
    MAX_DOWNLOAD_BYTES,
    ChecksumError,
    DatasetSpec,
    IdxDataset,
)
from scratchnn.datasets.mnist import FILES

__all__ = ["load_data", "download", "cache_dir", "search_locations",
           "FashionMnistNotFoundError", "ChecksumError", "CLASS_NAMES", "FILES", "CHECKSUMS",
           "MIRRORS", "DOWNLOAD_TIMEOUT", "MAX_DOWNLOAD_BYTES", "NPZ_NAME", "SPEC"]

#: Label -> class name, as in Keras's docstring and the Fashion-MNIST README.
CLASS_NAMES: tuple[str, ...] = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

#: IDX base name -> (MD5 hex digest of the ``.gz`` file (README), decompressed size in bytes).
CHECKSUMS: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", 47040016),
    "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", 60008),
    "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", 7840016),
    "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", 10008),
}

#: Base URLs tried in order (Keras's first); ``<mirror><name>.gz`` is fetched.
MIRRORS: list[str] = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]

NPZ_NAME = "fashion_mnist.npz"


class FashionMnistNotFoundError(DatasetNotFoundError):
    """Fashion-MNIST was not found in any searched location and could not be downloaded;
    ``searched`` lists each place looked in with the reason it held no usable copy."""


#: Fashion-MNIST's description for the shared loader.
SPEC = DatasetSpec(
    name="fashion_mnist", title="Fashion-MNIST", files=FILES, checksums=CHECKSUMS,
    mirrors=MIRRORS, npz_name=NPZ_NAME, keras_copy="fashion-mnist", keras_copy_kind="dir",
    not_found=FashionMnistNotFoundError, digest="md5", digest_of_download=True,
    data_root=False, labels="classes",
)

load_data, download, cache_dir, search_locations, _fetch_url = (
    IdxDataset(SPEC, __name__).functions())
