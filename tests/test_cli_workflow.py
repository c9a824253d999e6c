"""The tutorial workflow from the command line: explore, lrfind, tune, train --save, report,
evaluate and predict, on MNIST subsets.  Printed numbers are checked against NumPy on the same
data and figures are opened as images."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from scratchnn.cli import build_parser, main


def run_cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


def png_size(path) -> tuple[int, int]:
    with Image.open(path) as img:
        assert img.format == "PNG"
        rgb = np.asarray(img.convert("RGB"))
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20  # not blank
        return img.size


def accuracy(text: str) -> float:
    return float(re.search(r"Test accuracy: ([0-9.]+)", text).group(1))


@pytest.fixture(scope="module")
def data(mnist_dir) -> str:
    return mnist_dir


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """`scratchnn train --save` on 6000 images with the standardize recipe."""
    folder = tmp_path_factory.mktemp("workflow")
    model = folder / "model.npz"
    status, out = run_cli(["train", "--hidden", "64", "--epochs", "2", "--limit", "6000",
                           "--seed", "0", "--preprocess", "standardize", "--batch-size", "64",
                           "--data", data, "--save", str(model), "--verbose", "0"])
    assert status == 0 and model.is_file()
    return {"model": model, "folder": folder, "accuracy": accuracy(out)}


def test_all_commands_are_registered():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("train", "evaluate", "explore", "lrfind", "tune", "report", "predict"):
        assert name in sub.choices


def test_explore(data, mnist_data, tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist_data
    status, out = run_cli(["explore", "--data", data, "--out", str(tmp_path), "--samples", "20"])
    assert status == 0
    assert "x_train: shape (60000, 28, 28), dtype uint8" in out
    rows = {}
    for line in out.splitlines():
        cells = re.findall(r"(\d+) \(\s*[0-9.]+%\)", line)
        if len(cells) == 4:
            rows[int(line.split()[0])] = [int(c) for c in cells]
    counts = np.array([rows[c] for c in range(10)])
    np.testing.assert_array_equal(counts[:, 0], np.bincount(y_train))
    np.testing.assert_array_equal(counts[:, 1], np.bincount(y_test))
    assert counts[:, 2].sum() == 48000 and counts[:, 3].sum() == 12000
    np.testing.assert_array_equal(counts[:, 2] + counts[:, 3], np.bincount(y_train))
    # Stratified: each class keeps its share of the validation set to within one example.
    assert np.all(np.abs(counts[:, 3] - np.bincount(y_train) * 0.2) <= 1)
    raw_mean = x_train.astype(np.float64).mean()
    raw_std = x_train.astype(np.float64).std()
    std_line = next(line for line in out.splitlines() if line.startswith("standardized test"))
    mean_test, std_test = map(float, std_line.split()[4:6])
    ref = (x_test.astype(np.float64) - raw_mean) / raw_std
    assert mean_test == pytest.approx(ref.mean(), abs=1e-3)
    assert std_test == pytest.approx(ref.std(), abs=1e-3)
    assert png_size(tmp_path / "class_counts.png") == (800, 450)
    assert png_size(tmp_path / "samples.png") == (1000, 270)
    assert png_size(tmp_path / "pixel_histograms.png") == (1280, 340)


def test_evaluate_and_report_agree(trained, data, tmp_path):
    status, out = run_cli(["evaluate", str(trained["model"]), "--data", data])
    assert status == 0 and accuracy(out) == pytest.approx(trained["accuracy"], abs=1e-4)
    status, out = run_cli(["report", str(trained["model"]), "--data", data, "--out",
                           str(tmp_path), "--sample", "3", "--grid", "16"])
    assert status == 0
    assert accuracy(out) == pytest.approx(trained["accuracy"], abs=1e-4)
    table = [line.split() for line in out.splitlines()
             if re.match(r"^\s+\d\s+\d+\s+0\.\d+\s+0\.\d+\s+0\.\d+$", line)]
    assert [int(r[0]) for r in table] == list(range(10))
    assert sum(int(r[1]) for r in table) == 10000
    pairs = re.findall(r"^  (\d) -> (\d): (\d+)", out, re.M)
    assert len(pairs) == 5 and all(t != p for t, p, _ in pairs)
    counts = [int(n) for _, _, n in pairs]
    assert counts == sorted(counts, reverse=True)
    assert "Test sample 3 (true 0)" in out
    assert png_size(tmp_path / "confusion_matrix.png") == (1150, 550)
    assert png_size(tmp_path / "precision_recall.png") == (900, 400)
    assert png_size(tmp_path / "predictions.png") == (400, 500)
    assert png_size(tmp_path / "probabilities.png") == (850, 360)
    assert png_size(tmp_path / "errors.png")[0] >= 100


def write_digit_files(mnist_data, folder, n=8):
    """Test digits scaled up 8x, inverted to dark-on-light, RGB, as PNG/JPEG files."""
    (_, _), (x_test, y_test) = mnist_data
    paths = []
    for i in range(n):
        big = Image.fromarray(255 - x_test[i]).resize((224, 224), Image.Resampling.BILINEAR)
        canvas = Image.new("RGB", (300, 260), (255, 255, 255))
        canvas.paste(big.convert("RGB"), (30 + 5 * i, 10))
        path = folder / f"digit{i}.{'jpg' if i % 2 else 'png'}"
        canvas.save(path)
        paths.append(path)
    return paths, y_test[:n]


def test_predict_own_images(trained, mnist_data, tmp_path, capsys):
    paths, labels = write_digit_files(mnist_data, tmp_path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    args = ["predict", str(trained["model"]), str(paths[0]), str(broken), *map(str, paths[1:]),
            "--show", "--out", str(tmp_path / "shown")]
    status = main(args)
    out, err = capsys.readouterr()
    assert status == 1  # one file failed ...
    assert "broken.png: not an image file" in err and "1 of 9 image(s)" in err
    lines = re.findall(r"^(\S+): (\d)  \(p = ([0-9.]+)", out, re.M)
    assert [name for name, _, _ in lines] == [str(p) for p in paths]  # ... the rest still ran
    predicted = np.array([int(d) for _, d, _ in lines])
    assert np.mean(predicted == labels) >= 0.75
    assert all(0.1 <= float(p) <= 1.0 for _, _, p in lines)
    for p in paths:
        assert png_size(tmp_path / "shown" / f"{p.name}.prediction.png") == (850, 360)
    shown = ["--out", str(tmp_path / "shown")]
    assert main(["predict", str(trained["model"]), str(paths[0]), *shown]) == 0
    assert main(["predict", str(trained["model"]), str(tmp_path / "nope.png"), *shown]) == 1
    assert "no such file" in capsys.readouterr().err


def test_lrfind(data, tmp_path):
    out_png = tmp_path / "lr.png"
    status, out = run_cli(["lrfind", "--data", data, "--limit", "3000", "--hidden", "32",
                           "--out", str(out_png), "--max-lr", "3"])
    assert status == 0
    rates = [float(m) for m in re.findall(r"^\s+\d+\s+([0-9.]+e[-+]\d+)", out, re.M)]
    assert rates[0] == 1e-4 and max(rates) <= 3.0
    m = re.search(r"suggested learning rate: (\S+) \(range (\S+) \.\. (\S+)\)", out)
    hi, lo = float(m.group(1)), float(m.group(2))
    assert hi == float(m.group(3)) and lo == pytest.approx(hi / 10, rel=0.05)
    assert 1e-6 <= lo < hi <= 3.0
    assert png_size(out_png) == (800, 450)


def test_tune_compares_runs_and_saves_the_best(data, tmp_path):
    best = tmp_path / "best.npz"
    status, out = run_cli(["tune", "--data", data, "--limit", "3000", "--validation", "600",
                           "--hidden", "32", "8,8", "--epochs", "2", "--batch-size", "64",
                           "--out", str(tmp_path), "--save-best", str(best)])
    assert status == 0
    assert "Stratified split: 2400 training / 600 validation examples" in out
    histories = json.loads((tmp_path / "histories.json").read_text())
    assert list(histories) == ["32 adam lr=0.001 scale", "8-8 adam lr=0.001 scale"]
    for h in histories.values():
        assert len(h["loss"]) == 2 and len(h["val_accuracy"]) == 2
    best_run = max(histories, key=lambda k: max(histories[k]["val_accuracy"]))
    assert f"({best_run}, epoch" in out
    for name in ("curves_1.png", "curves_2.png"):
        assert png_size(tmp_path / name) == (1000, 400)
    assert png_size(tmp_path / "compare.png")[0] == 1100
    status, ev = run_cli(["evaluate", str(best), "--data", data])
    assert status == 0
    tuned = float(re.search(r"Test accuracy of that run \(after its last epoch\): ([0-9.]+)",
                            out).group(1))
    assert accuracy(ev) == pytest.approx(tuned, abs=1e-4)


def test_bad_arguments_are_clear_errors(trained, data, capsys):
    assert main(["report", str(trained["model"]), "--data", data, "--sample", "10000"]) == 1
    assert "--sample must be in 0..9999" in capsys.readouterr().err
    assert main(["tune", "--data", data, "--hidden", "12,a"]) == 1
    assert "--hidden entries look like" in capsys.readouterr().err
