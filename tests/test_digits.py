"""scratchnn.workflow.digits: own images -> MNIST-style 28x28 inputs.

Geometry is checked against hand-derived numbers (bounding box, aspect ratio, centre of mass,
stroke width); the whole pipeline against real MNIST test digits that were shifted, scaled,
inverted, coloured, noised and saved as PNG/JPEG, and against digits drawn with Pillow, which
a small model trained here must classify correctly.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import scratchnn as snn
from scratchnn.workflow.digits import (
    DigitImageError,
    center_of_mass,
    image_to_mnist,
    load_image,
    predict_digits,
    stroke_width,
    to_mnist,
)
from scratchnn.workflow.preprocessing import apply_preprocessing, fit_preprocessing

# ----------------------------------------------------------------------------- loading


def test_rgb_luma_matches_pillow(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(13, 17, 3), dtype=np.uint8)
    expected = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    np.testing.assert_allclose(load_image(rgb), expected, atol=1e-9)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    pil_gray = np.asarray(Image.fromarray(rgb).convert("L"), dtype=float)
    assert np.abs(load_image(tmp_path / "c.png") - pil_gray).max() <= 1.0


def test_transparent_background_becomes_paper(tmp_path):
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)  # transparent black everywhere
    rgba[5:15, 9:11] = (0, 0, 0, 255)  # an opaque black stroke
    Image.fromarray(rgba).save(tmp_path / "t.png")
    gray = load_image(tmp_path / "t.png")
    assert gray[0, 0] == 255.0 and gray[10, 10] == 0.0  # dark ink composited onto white
    light = rgba.copy()
    light[5:15, 9:11] = (255, 255, 255, 255)
    assert load_image(light)[0, 0] == 0.0  # light ink composited onto black


def test_16_bit_png_is_scaled(tmp_path):
    a = np.zeros((10, 10), dtype=np.uint16)
    a[2:8, 4:6] = 65535
    Image.fromarray(a).save(tmp_path / "deep.png")
    gray = load_image(tmp_path / "deep.png")
    assert gray.max() == pytest.approx(255.0) and gray.min() == 0.0


def test_unreadable_inputs_raise_clear_errors(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"this is not an image")
    with pytest.raises(DigitImageError, match="junk.png: not an image file"):
        load_image(tmp_path / "junk.png")
    with pytest.raises(DigitImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(DigitImageError, match="is a directory"):
        load_image(tmp_path)
    good = Image.new("L", (50, 50), 255)
    good.save(tmp_path / "trunc.png")
    data = (tmp_path / "trunc.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DigitImageError, match="trunc.png"):
        load_image(tmp_path / "trunc.png")
    with pytest.raises(DigitImageError, match="shape"):
        load_image(np.zeros((4, 4, 5)))
    with pytest.raises(DigitImageError, match="blank"):
        to_mnist(np.full((40, 40), 200.0))


# ----------------------------------------------------------------------------- geometry


def test_center_of_mass_hand_values():
    x = np.zeros((5, 5))
    x[1, 1], x[3, 4] = 1.0, 3.0
    assert center_of_mass(x) == pytest.approx(((1 + 9) / 4, (1 + 12) / 4))
    with pytest.raises(ValueError, match="blank"):
        center_of_mass(np.zeros((3, 3)))


@pytest.mark.parametrize("width", [2, 3, 5, 8])
def test_stroke_width_of_a_band(width):
    x = np.zeros((200, 60))
    x[10:190, 20: 20 + width] = 1.0
    # area w*180, boundary 2*180 + 2*(w-2) (top/bottom rows): 2A/B slightly below w.
    expected = 2 * width * 180 / (2 * 180 + 2 * (width - 2))
    assert stroke_width(x) == pytest.approx(expected)


def test_rectangle_fits_box_keeps_aspect_and_is_centred():
    img = np.zeros((300, 400))
    img[40:240, 150:250] = 255  # 200 x 100: aspect 2:1
    out = to_mnist(img, thicken=False)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert len(rows) == 20 and len(cols) == 10
    cy, cx = center_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert out.max() == 255


def test_polarity_position_and_canvas_size_do_not_matter():
    digit = np.zeros((120, 90))
    digit[10:110, 40:52] = 255
    digit[10:22, 15:52] = 255  # a "7"-like shape
    light_on_dark = np.zeros((400, 300))
    light_on_dark[50:170, 100:190] = digit
    dark_on_light = np.full((250, 500), 255.0)
    dark_on_light[120:240, 300:390] = 255 - digit
    a = to_mnist(light_on_dark)
    b = to_mnist(dark_on_light)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(to_mnist(dark_on_light, invert=True), a)
    with pytest.raises(DigitImageError, match="blank"):  # wrong polarity: ink below paper
        to_mnist(dark_on_light, invert=False)
    with pytest.raises(ValueError, match="invert"):
        to_mnist(dark_on_light, invert="sometimes")


def test_thin_pen_strokes_are_thickened_to_mnist_width():
    img = Image.new("L", (600, 600), 255)
    ImageDraw.Draw(img).line([(200, 100), (400, 100), (260, 500)], fill=0, width=2)
    thick = to_mnist(np.asarray(img, dtype=float))
    thin = to_mnist(np.asarray(img, dtype=float), thicken=False)
    # MNIST's strokes: stroke_width of the 28x28 digits is 2.2 .. 3.9 (10th..90th pct).
    assert 1.8 <= stroke_width(thick) <= 4.5
    assert stroke_width(thin) < stroke_width(thick)
    assert (thick > 127).sum() > 2 * (thin > 127).sum()


def test_mnist_digits_pass_through_almost_unchanged(mnist_data):
    (_, _), (x_test, _) = mnist_data
    corr = [np.corrcoef(to_mnist(x).ravel().astype(float), x.ravel().astype(float))[0, 1]
            for x in x_test[:200]]
    assert np.median(corr) > 0.99
    assert np.mean(corr) > 0.98


# ----------------------------------------------------------------------------- with a model


@pytest.fixture(scope="module")
def model(mnist_data):
    """A small MLP trained on 12k MNIST images with the standardize recipe (so an image
    that skipped the recipe would be misread)."""
    (x_train, y_train), (x_test, y_test) = mnist_data
    snn.utils.set_random_seed(0)
    recipe = fit_preprocessing("standardize", x_train[:12000])
    m = snn.Sequential([snn.layers.Flatten(input_shape=(28, 28)),
                        snn.layers.Dense(128, activation="relu"),
                        snn.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(apply_preprocessing(recipe, x_train[:12000]), y_train[:12000], epochs=3,
          batch_size=64, verbose=0, seed=0)
    m.metadata = {"preprocess": recipe}
    acc = m.evaluate(apply_preprocessing(recipe, x_test), y_test, verbose=0)[1]
    assert acc > 0.93
    return m


def disguise(img: np.ndarray, rng: np.random.Generator, k: int) -> Image.Image:
    """Scale a 28x28 MNIST digit up, put it somewhere on a larger canvas, and make it look
    like a photo: dark ink on coloured paper (even k) or grey on black, plus noise."""
    size = int(28 * rng.uniform(4, 12))
    big = np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR), float)
    h, w = int(size * rng.uniform(1.2, 2.2)), int(size * rng.uniform(1.2, 2.2))
    ink = np.zeros((h, w))
    top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
    ink[top: top + size, left: left + size] = big / 255
    if k % 2 == 0:
        paper, pen = np.array([245.0, 240, 220]), np.array([20.0, 30, 120])
        rgb = paper * (1 - ink[..., None]) + pen * ink[..., None]
    else:
        rgb = np.repeat((15 + 225 * ink)[..., None], 3, axis=2)
    rgb += rng.normal(0, 6, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def test_disguised_mnist_digits_are_recovered_and_classified(model, mnist_data, tmp_path):
    (_, _), (x_test, y_test) = mnist_data
    recipe = model.metadata["preprocess"]
    probs = model.predict(apply_preprocessing(recipe, x_test[:300]), verbose=0)
    right = np.flatnonzero(probs.argmax(1) == y_test[:300])[:40]  # digits it knows as is
    rng = np.random.default_rng(1)
    paths = []
    for k, i in enumerate(right):
        path = tmp_path / f"d{k}.{'jpg' if k % 3 == 0 else 'png'}"
        disguise(x_test[i], rng, k).save(path)
        paths.append(path)
    results = predict_digits(model, paths)
    assert all(r.ok for r in results)
    recovered = np.stack([r.image for r in results])
    corr = [np.corrcoef(a.ravel().astype(float), x_test[i].ravel().astype(float))[0, 1]
            for a, i in zip(recovered, right)]
    assert np.median(corr) > 0.9
    correct = np.mean([r.digit == y_test[i] for r, i in zip(results, right)])
    assert correct >= 0.9


def draw_digit(d: int, width: int, dark_on_light: bool) -> Image.Image:
    bg, fg = (255, 0) if dark_on_light else (0, 255)
    im = Image.new("L", (400, 500), bg)
    dr = ImageDraw.Draw(im)
    if d == 0:
        dr.ellipse([120, 100, 280, 400], outline=fg, width=width)
    elif d == 1:
        dr.line([(200, 90), (200, 410)], fill=fg, width=width)
    elif d == 2:
        dr.arc([120, 90, 280, 260], 180, 40, fill=fg, width=width)
        dr.line([(262, 210), (120, 410), (290, 410)], fill=fg, width=width)
    elif d == 3:
        dr.arc([130, 90, 270, 250], 200, 90, fill=fg, width=width)
        dr.arc([120, 250, 280, 410], 270, 160, fill=fg, width=width)
    elif d == 6:
        dr.arc([100, 90, 300, 500], 180, 270, fill=fg, width=width)
        dr.ellipse([110, 250, 290, 410], outline=fg, width=width)
    elif d == 7:
        dr.line([(120, 100), (290, 100), (170, 410)], fill=fg, width=width, joint="curve")
    return im


def test_drawn_digits_are_classified(model):
    cases = [(d, w, dark) for d in (0, 1, 2, 3, 6, 7) for w in (3, 24) for dark in (True, False)]
    images = [draw_digit(d, w, dark).convert("RGB") for d, w, dark in cases]
    results = predict_digits(model, images)
    truth = np.array([d for d, _, _ in cases])
    got = np.array([r.digit for r in results])
    assert np.mean(got == truth) >= 0.9, list(zip(truth, got))
    # Polarity is undone: both versions of a drawing give the same 28x28 input.
    for a, b in zip(results[0::2], results[1::2]):
        np.testing.assert_array_equal(a.image, b.image)


def test_predict_keeps_going_past_bad_files(model, tmp_path):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG garbage")
    draw_digit(7, 12, True).save(tmp_path / "seven.png")
    Image.new("L", (64, 64), 128).save(tmp_path / "blank.png")
    results = predict_digits(model, [tmp_path / "bad.png", tmp_path / "seven.png",
                                     tmp_path / "missing.png", tmp_path / "blank.png"])
    assert [r.ok for r in results] == [False, True, False, False]
    assert "bad.png" in results[0].error and "no such file" in results[2].error
    assert "blank" in results[3].error
    seven = results[1]
    assert seven.digit == 7 and seven.probability == pytest.approx(seven.probabilities.max())
    expected = model.predict(apply_preprocessing(model.metadata["preprocess"],
                                                 image_to_mnist(tmp_path / "seven.png")[None]),
                             verbose=0)[0]
    np.testing.assert_allclose(seven.probabilities, expected, rtol=1e-6)
