"""Turn a photo or drawing of a digit into an MNIST-style 28x28 image.

MNIST was made from binary NIST scans: each digit was size-normalized to fit a 20x20 box
keeping its aspect ratio (anti-aliasing gives the grey levels), then placed in a 28x28 field so
that its centre of mass lies at the centre, pixel (14, 14); ink is bright (255) on a black (0)
background.  :func:`to_mnist` repeats those steps on an image of any size and polarity:

1. **Grayscale** (:func:`load_image`): RGB -> luma ``0.299 R + 0.587 G + 0.114 B`` (ITU-R 601,
   what Pillow's ``convert("L")`` uses); transparency is composited onto a background that
   contrasts with the ink; EXIF orientation is applied.  Files and PIL images whose longer
   side exceeds :data:`MAX_SIDE` are shrunk while decoding by an integer factor ``k``
   (JPEG: the decoder's 1/2, 1/4, 1/8 draft scales; then ``k x k`` box averages), so a
   12-megapixel photo costs what a 1-megapixel one does; the digit is cropped and shrunk to
   20x20 anyway.  Files over Pillow's decompression-bomb limit (twice
   ``Image.MAX_IMAGE_PIXELS``, about 179 megapixels) are refused with an error naming the file
   and its size.
2. **Polarity**: the background level ``b`` is the median of the image border.  If ``b`` lies
   nearer the bright end of the image's range, the image is dark-on-light and is inverted
   (``255 - x``), so ink is bright as in MNIST.
3. **Background removal**: ``x <- max(x - b, 0) / max(x - b)`` (ink peaks at 1), and values
   below ``noise`` (default 0.1) are set to 0, which removes paper texture and JPEG noise.
4. **Crop** to the bounding box of the remaining ink.
5. **Fit** the crop into 80x80 keeping the aspect ratio (Lanczos), optionally thicken thin
   strokes there (see below), then shrink by exactly 4 with box averaging into 20x20 -- the
   anti-aliasing that gave MNIST its grey edges.  The result is rescaled so its peak is 255.
6. **Centre by centre of mass**: with ``c = (sum_ij i x_ij, sum_ij j x_ij) / sum_ij x_ij``
   the box is pasted into the 28x28 field at offset ``round(14 - c)`` (clamped so the box stays
   inside), which puts ``c`` within half a pixel of (14, 14), as in MNIST.

**Stroke width.**  A digit drawn with a thin pen on a large canvas becomes a faint hairline at
20x20, while MNIST strokes are about 2-3 px wide.  With ``thicken=True`` the stroke width is
estimated at the 80x80 stage (:func:`stroke_width`, divided by 4 to count 20x20 pixels) and,
if thinner than :data:`MIN_STROKE`, brightened (the 90th percentile of the ink becomes full
intensity, since a hairline shrunk 5x is also faint) and grown by a grey-level dilation (a
k x k maximum filter) to about :data:`TARGET_STROKE`.  On the first 1000 MNIST test digits
put through the same stage this estimate has median 2.25 and 1st percentile 1.3, so
MNIST-like input is never thickened.

The output is a uint8 array (28, 28) like ``mnist.load_data()``'s images; apply a model's
preprocessing recipe (``model.metadata["preprocess"]``) before predicting, as
:func:`predict_digits` does.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnn.workflow.preprocessing import model_input

__all__ = [
    "DigitImageError",
    "load_image",
    "to_mnist",
    "image_to_mnist",
    "center_of_mass",
    "stroke_width",
    "DigitPrediction",
    "predict_digits",
    "MIN_STROKE",
    "TARGET_STROKE",
    "MAX_SIDE",
]

#: Longer side (pixels) above which an image file is shrunk while it is decoded.
MAX_SIDE = 1024

#: Estimated stroke width (pixels of the 20x20 box) below which ``thicken`` dilates.
MIN_STROKE = 1.0
#: Stroke width (pixels of the 20x20 box) that ``thicken`` aims for: MNIST's median.
TARGET_STROKE = 2.25

_BOX = 20  # the digit is fitted into BOX x BOX ...
_FIELD = 28  # ... and centred in FIELD x FIELD
_UPSAMPLE = 4  # working resolution for thickening: (BOX * UPSAMPLE)^2



class DigitImageError(ValueError):
    """An image could not be read, or holds nothing that looks like a digit."""


# --------------------------------------------------------------------------- loading


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _composite(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Flatten ``gray`` (0..255) with ``alpha`` (0..1) onto white or black, whichever contrasts
    with the opaque pixels (dark ink -> white paper, light ink -> black)."""
    if alpha.min() >= 1.0:
        return gray
    weight = alpha.sum()
    ink_level = (gray * alpha).sum() / weight if weight > 0 else 0.0
    background = 255.0 if ink_level < 127.5 else 0.0
    return gray * alpha + background * (1.0 - alpha)


def _array_to_gray(arr: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DigitImageError(f"{name}: image array must be numeric, got dtype {arr.dtype}")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.float64) * 255.0
    arr = arr.astype(np.float64)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        gray, alpha = arr, None
    elif arr.ndim == 3 and arr.shape[-1] == 2:
        gray, alpha = arr[..., 0], arr[..., 1] / 255.0
    elif arr.ndim == 3 and arr.shape[-1] in (3, 4):
        gray = _luma(arr)
        alpha = arr[..., 3] / 255.0 if arr.shape[-1] == 4 else None
    else:
        raise DigitImageError(
            f"{name}: expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if gray.size == 0:
        raise DigitImageError(f"{name}: the image is empty (shape {arr.shape})")
    if not np.isfinite(gray).all():
        raise DigitImageError(f"{name}: the image contains NaN or infinite values")
    if alpha is not None:
        gray = _composite(gray, np.clip(alpha, 0.0, 1.0))
    return gray


#: Modes ``Image.reduce`` averages directly; the others are converted first.
_REDUCIBLE = {"L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "I": "I", "F": "F",
              "1": "L", "I;16": "I", "I;16B": "I", "I;16L": "I"}


def _shrink(img):
    """``img`` reduced by the smallest integer factor that brings its longer side to at most
    :data:`MAX_SIDE` (``k x k`` box averages); unchanged when it is small enough."""
    factor = math.ceil(max(img.size) / MAX_SIDE)
    if factor <= 1:
        return img
    return img.convert(_REDUCIBLE.get(img.mode, "RGBA")).reduce(factor)


def _pil_to_gray(img, name: str) -> np.ndarray:
    from PIL import ImageOps

    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not stop the digit from being read
        pass
    mode = img.mode  # before shrinking: 16-bit files keep their 0..65535 scale
    img = _shrink(img)
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        return _array_to_gray(arr * (255.0 / top), name)
    if mode == "F":
        return _array_to_gray(np.asarray(img, dtype=np.float64), name)
    if img.mode == "1":
        img = img.convert("L")
    elif img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA")  # P, PA, CMYK, YCbCr, HSV, ...
    return _array_to_gray(np.asarray(img), name)


def _open_image(path: Path):
    """``Image.open(path)``, refusing files over Pillow's decompression-bomb limit (twice
    ``Image.MAX_IMAGE_PIXELS``, about 179 megapixels) with a DigitImageError that names the
    file and its size.  Images between the warning limit and that are decoded (and shrunk)."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError as exc:
            found = re.search(r"\((\d+) pixels\) exceeds limit of (\d+)", str(exc))
            size = (f"{int(found.group(1)):,} pixels, over the {int(found.group(2)):,}-pixel "
                    "limit" if found else str(exc))
            raise DigitImageError(f"{path}: the image is too large to decode safely ({size}); "
                                  "scale it down first") from None


def load_image(source) -> np.ndarray:
    """Read an image as grayscale floats in 0..255, shape (H, W).

    Parameters
    ----------
    source : path (PNG, JPEG, or anything Pillow reads), ``PIL.Image.Image``, or array
        An array may be (H, W) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB or (H, W, 4) RGBA
        with values in 0..255.

    Returns
    -------
    np.ndarray, float64, shape (H, W)
        Luma ``0.299 R + 0.587 G + 0.114 B``; transparent areas are composited onto white when
        the opaque pixels are dark on average, onto black otherwise.  A file or PIL image whose
        longer side exceeds :data:`MAX_SIDE` comes back shrunk by an integer factor (arrays
        are returned at full size).

    Raises
    ------
    DigitImageError
        If the file is missing, not an image, truncated, over Pillow's decompression-bomb
        limit, or the array has an unusable shape.
    """
    if isinstance(source, np.ndarray):
        return _array_to_gray(source, "array")
    from PIL import Image

    if isinstance(source, Image.Image):
        return _pil_to_gray(source, "image")
    if not isinstance(source, (str, os.PathLike)):
        raise DigitImageError(
            f"cannot read an image from {type(source).__name__}; pass a path, a PIL image or "
            "a NumPy array")
    return _load_file(Path(source))


def _load_file(path: Path) -> np.ndarray:
    """:func:`load_image` for a file: decode (JPEG at a reduced draft scale) and convert."""
    from PIL import UnidentifiedImageError

    if not path.exists():
        raise DigitImageError(f"{path}: no such file")
    if path.is_dir():
        raise DigitImageError(f"{path}: is a directory, not an image file")
    try:
        with _open_image(path) as img:
            img.draft(None, (MAX_SIDE, MAX_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
            img.load()
            return _pil_to_gray(img, str(path))
    except MemoryError:
        raise DigitImageError(f"{path}: not enough memory to decode the image") from None
    except UnidentifiedImageError:
        raise DigitImageError(f"{path}: not an image file Pillow can read "
                              "(expected PNG, JPEG, BMP, GIF, ...)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, DigitImageError):
            raise
        raise DigitImageError(f"{path}: cannot decode the image ({exc})") from exc


# --------------------------------------------------------------------------- measuring


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted centre ``(row, col) = sum_ij (i, j) x_ij / sum_ij x_ij``.

    Raises ``ValueError`` for an all-zero image (no centre).
    """
    x = np.asarray(image, dtype=np.float64)
    total = x.sum()
    if not total > 0:
        raise ValueError("the image is blank; it has no centre of mass")
    rows = np.arange(x.shape[0]) @ x.sum(axis=1) / total
    cols = np.arange(x.shape[1]) @ x.sum(axis=0) / total
    return float(rows), float(cols)


def stroke_width(image: np.ndarray, level: float = 0.5) -> float:
    """Estimated stroke width in pixels: ``2 * area / boundary`` of the ink mask.

    The mask is ``image >= level * max(image)``; ``area`` counts its pixels and ``boundary``
    those with a 4-neighbour outside it.  A band of width ``w >= 2`` and length ``L`` has area
    ``w L`` and boundary about ``2 L``, hence the estimate ``w``; a one-pixel line reads as 2.
    Returns 0 for a blank image.
    """
    x = np.asarray(image, dtype=np.float64)
    peak = x.max() if x.size else 0.0
    if not peak > 0:
        return 0.0
    mask = x >= level * peak
    padded = np.pad(mask, 1)
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    boundary = int(np.count_nonzero(mask & ~interior))
    return 2.0 * np.count_nonzero(mask) / max(1, boundary)


# --------------------------------------------------------------------------- the pipeline


def _resize(x: np.ndarray, height: int, width: int, resample: str) -> np.ndarray:
    from PIL import Image

    filt = {"lanczos": Image.Resampling.LANCZOS, "box": Image.Resampling.BOX}[resample]
    img = Image.fromarray(np.ascontiguousarray(x, dtype=np.float32))
    return np.asarray(img.resize((width, height), filt), dtype=np.float64)


def _max_filter(x: np.ndarray, k: int) -> np.ndarray:
    """Grey-level dilation with a k x k square (k odd): separable running maximum."""
    r = k // 2
    padded = np.pad(x, r)
    rows = padded[:, : padded.shape[1] - 2 * r].copy()
    for s in range(1, 2 * r + 1):
        np.maximum(rows, padded[:, s: s + rows.shape[1]], out=rows)
    out = rows[: rows.shape[0] - 2 * r].copy()
    for s in range(1, 2 * r + 1):
        np.maximum(out, rows[s: s + out.shape[0]], out=out)
    return out


def _polarity_and_background(gray: np.ndarray, invert) -> tuple[np.ndarray, float]:
    h, w = gray.shape
    t = max(1, min(h, w) // 20)
    border = np.concatenate([gray[:t].ravel(), gray[-t:].ravel(),
                             gray[:, :t].ravel(), gray[:, -t:].ravel()])
    background = float(np.median(border))
    if invert == "auto":
        lo, hi = float(gray.min()), float(gray.max())
        invert = background > (lo + hi) / 2
    elif not isinstance(invert, (bool, np.bool_)):
        raise ValueError(f"invert must be 'auto', True or False, got {invert!r}")
    if invert:
        return 255.0 - gray, 255.0 - background
    return gray, background


def to_mnist(image, invert="auto", *, thicken: bool = True, noise: float = 0.1) -> np.ndarray:
    """Convert a grayscale image of one digit into an MNIST-style uint8 (28, 28) array.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Grayscale values in 0..255 (see :func:`load_image`), any size, either polarity.
    invert : 'auto', True or False, default 'auto'
        Whether to invert (``255 - x``) so that ink is bright.  'auto' inverts when the border
        median is nearer the image's maximum than its minimum (dark ink on light paper).
    thicken : bool, default True
        Dilate strokes thinner than :data:`MIN_STROKE` pixels (at 20x20) to about
        :data:`TARGET_STROKE` pixels.
    noise : float in [0, 1), default 0.1
        After background subtraction and scaling to peak 1, values below ``noise`` become 0.

    Returns
    -------
    np.ndarray, uint8, shape (28, 28)
        Ink bright on black; the digit's bounding box fits 20x20 with its longer side 20 px
        (unless the crop was smaller than one pixel in a direction), centre of mass within
        half a pixel of (14, 14) whenever the box allows it.

    Raises
    ------
    DigitImageError
        If the image holds no ink (it is uniform, or nothing stands out above ``noise``).
    """
    x = _check_gray(image, noise)
    x, background = _polarity_and_background(x, invert)
    x = _fit_box(_ink_crop(x, background, noise))
    if thicken:
        x = _thicken_thin_strokes(x)
    x = _resize(x, x.shape[0] // _UPSAMPLE, x.shape[1] // _UPSAMPLE, "box")  # exact 4x4 averages
    return _center_in_field(np.clip(x / x.max(), 0.0, 1.0))


def _check_gray(image, noise: float) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise DigitImageError(f"to_mnist expects a 2-D grayscale image, got shape {x.shape} "
                              "(use load_image to convert colour images)")
    if x.size == 0 or not np.isfinite(x).all():
        raise DigitImageError("the image is empty or contains NaN/infinite values")
    if not 0 <= noise < 1:
        raise ValueError(f"noise must be in [0, 1), got {noise}")
    return x


def _ink_crop(x: np.ndarray, background: float, noise: float) -> np.ndarray:
    """Steps 3-4: ``max(x - b, 0) / peak``, values below ``noise`` -> 0, crop to the ink."""
    x = np.maximum(x - background, 0.0)
    peak = x.max()
    if not peak > 1.0:  # less than one grey level of contrast anywhere
        raise DigitImageError("no digit found: the image is blank (a single uniform colour)")
    x /= peak
    x[x < noise] = 0.0
    rows, cols = np.flatnonzero(x.any(axis=1)), np.flatnonzero(x.any(axis=0))
    return x[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _fit_box(x: np.ndarray) -> np.ndarray:
    """Fit the longer side to 80 px (4x the final 20 px box) keeping the aspect ratio; both
    sides a multiple of 4 (Lanczos, negative ringing clipped to 0)."""
    big = _BOX * _UPSAMPLE
    h, w = x.shape
    scale = big / max(h, w)
    hb = max(_UPSAMPLE, int(round(h * scale / _UPSAMPLE)) * _UPSAMPLE)
    wb = max(_UPSAMPLE, int(round(w * scale / _UPSAMPLE)) * _UPSAMPLE)
    return np.maximum(_resize(x, hb, wb, "lanczos"), 0.0)


def _thicken_thin_strokes(x: np.ndarray) -> np.ndarray:
    """At the 80 px stage: a stroke thinner than :data:`MIN_STROKE` (counted at 20 px) is
    brightened and dilated to about :data:`TARGET_STROKE`, then fitted to 80 px again."""
    width = stroke_width(x) / _UPSAMPLE
    if not 0 < width < MIN_STROKE:
        return x
    # A hairline shrunk to 80 px is faint as well as thin: restore its intensity
    # (90th percentile of the ink -> 1) before widening it.
    ink = x[x > 0.1 * x.max()]
    x = np.clip(x / np.percentile(ink, 90), 0.0, 1.0)
    k = int(round((TARGET_STROKE - width) * _UPSAMPLE)) | 1  # odd, grows width by k-1
    x = _max_filter(np.pad(x, k), k)  # pad so the grown ink is not cut at the edges
    x = x[np.ix_(x.any(axis=1), x.any(axis=0))]
    return _fit_box(x)


def _center_in_field(x: np.ndarray) -> np.ndarray:
    """Step 6: paste the box (values in [0, 1]) into the 28x28 field at ``round(14 - c)``
    (clamped), ``c`` its centre of mass; returns uint8 0..255."""
    cy, cx = center_of_mass(x)
    h, w = x.shape
    top = int(np.clip(np.round(_FIELD / 2 - cy), 0, _FIELD - h))
    left = int(np.clip(np.round(_FIELD / 2 - cx), 0, _FIELD - w))
    out = np.zeros((_FIELD, _FIELD))
    out[top: top + h, left: left + w] = x
    return np.round(out * 255.0).astype(np.uint8)


def image_to_mnist(source, invert="auto", *, thicken: bool = True,
                   noise: float = 0.1) -> np.ndarray:
    """:func:`load_image` then :func:`to_mnist`: a file/PIL image/array -> uint8 (28, 28).

    An error about a file's content (blank, no digit) starts with the file's path."""
    gray = load_image(source)
    try:
        return to_mnist(gray, invert, thicken=thicken, noise=noise)
    except DigitImageError as exc:
        if not isinstance(source, (str, os.PathLike)):
            raise
        raise DigitImageError(f"{Path(source)}: {exc}") from None


# --------------------------------------------------------------------------- predicting


@dataclass
class DigitPrediction:
    """One image's result from :func:`predict_digits`.

    ``image`` is the MNIST-style uint8 (28, 28) input (None if it failed), ``probabilities``
    the model's output (10,), ``digit`` its argmax and ``probability`` the largest value;
    ``error`` holds the reason when the image could not be processed.
    """

    source: str
    image: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    digit: int | None = None
    probability: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def predict_digits(model, sources: Iterable | Sequence, invert="auto", *,
                   thicken: bool = True) -> list[DigitPrediction]:
    """Preprocess each image like MNIST and classify it with ``model``.

    The images go through :func:`image_to_mnist`, then the model's own preprocessing recipe
    (``model.metadata["preprocess"]``, default pixels/255).  An image that cannot be read or
    holds no digit gets a :class:`DigitPrediction` with ``error`` set; the others still run.
    """
    results = []
    for src in sources:
        name = str(src) if isinstance(src, (str, os.PathLike)) else type(src).__name__
        try:
            results.append(DigitPrediction(name, image_to_mnist(src, invert, thicken=thicken)))
        except DigitImageError as exc:
            results.append(DigitPrediction(name, error=str(exc)))
        except MemoryError:
            results.append(DigitPrediction(name, error=f"{name}: not enough memory to process "
                                                       "the image"))
    good = [r for r in results if r.ok]
    if good:
        probs = model.predict(model_input(model, np.stack([r.image for r in good])), verbose=0)
        for r, p in zip(good, probs):
            r.probabilities = np.asarray(p, dtype=np.float64)
            r.digit = int(np.argmax(p))
            r.probability = float(p[r.digit])
    return results
