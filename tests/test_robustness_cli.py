"""Hardening of the ``scratchnn`` command line: every numeric option validated, output paths
checked before the work, Ctrl-C, unreadable model files, models of another size, huge and
blank images, ``--help`` texts, ``--out``/``--show`` conventions, a zero-width terminal and the
README's statements.  Everything runs in-process on a tiny fake MNIST (no dataset needed)."""

from __future__ import annotations

import argparse
import io
import os
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from support import REPO

import scratchnn
from scratchnn.cli import COMMAND_MODULES, build_parser, main
from scratchnn.engine import callbacks
from scratchnn.engine.saving import ModelFileError
from scratchnn.layers import Dense, Flatten
from scratchnn.workflow.digits import MAX_SIDE, load_image

# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def fake_mnist(monkeypatch):
    """MNIST replaced by 200 training and 50 test images (uint8, 28x28, labels 0..9); the
    list it returns records every load."""
    rng = np.random.default_rng(0)
    data = ((rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), np.arange(200) % 10),
            (rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), np.arange(50) % 10))
    loads: list = []

    def load_data(path=None):
        loads.append(path)
        return data

    monkeypatch.setattr(scratchnn.datasets.mnist, "load_data", load_data)
    return loads


def save_model(path, inputs=(28, 28), outputs=10):
    layers = [Flatten(input_shape=inputs)] if len(inputs) > 1 else []
    layers.append(Dense(outputs, activation="softmax",
                        **({} if layers else {"input_shape": inputs})))
    model = scratchnn.Sequential(layers)
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.save(path)
    return path


@pytest.fixture
def model_file(tmp_path):
    return str(save_model(tmp_path / "model.npz"))


def digit_png(path, size=(120, 100)):
    """A dark 'I' stroke on white paper."""
    img = np.full(size[::-1], 255, dtype=np.uint8)
    h, w = img.shape
    img[h // 5: 4 * h // 5, w // 2 - max(1, w // 20): w // 2 + max(1, w // 20)] = 0
    Image.fromarray(img).save(path)
    return str(path)


def uniform_png(path, width: int, height: int) -> str:
    """A valid single-colour grey PNG of any size, written row by row (a 15000x15000 one is a
    few hundred KB and never exists in memory)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * width  # filter byte 0, then grey 128
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                + chunk(b"IEND", b""))
    return str(path)


def run(argv, capsys) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# --------------------------------------------------------------------------- numeric options


def test_lr_zero_is_an_error_not_the_default(capsys, fake_mnist):
    status, _, err = run(["train", "--lr", "0", "--epochs", "1"], capsys)
    assert status == 1
    assert "scratchnn train: error: argument --lr: must be a positive number, got '0'" in err
    assert fake_mnist == []  # nothing was loaded, nothing trained


@pytest.mark.parametrize("value", ["0", "-5"])
def test_limit_must_be_positive(capsys, fake_mnist, value):
    status, _, err = run(["train", "--limit", value, "--epochs", "1"], capsys)
    assert status == 1
    assert f"argument --limit: must be a positive integer, got '{value}'" in err
    assert fake_mnist == []


def test_limit_beyond_the_data_is_an_error(capsys, fake_mnist):
    status, _, err = run(["train", "--limit", "500", "--epochs", "1"], capsys)
    assert status == 1
    assert "--limit 500 is more than the 200 training images" in err


def test_given_learning_rate_is_used_as_given():
    from scratchnn.cli.common import make_optimizer

    parser = build_parser()
    for argv, expected in [(["train", "--lr", "0.25"], 0.25), (["train"], 0.001),
                           (["train", "--optimizer", "sgd"], 0.01),
                           (["train", "--optimizer", "sgd", "--lr", "1e-5"], 1e-5)]:
        opt = make_optimizer(parser.parse_args(argv))
        assert float(opt.learning_rate) == pytest.approx(expected, rel=1e-6)


#: (subcommand and required arguments, option, a bad value) -- every numeric option.
BAD_NUMBERS = [
    (["train"], "--epochs", "0"), (["train"], "--batch-size", "0"),
    (["train"], "--seed", "-2"), (["train"], "--validation-split", "1"),
    (["train"], "--validation-split", "-0.1"), (["train"], "--hidden", "0"),
    (["train"], "--lr", "-0.1"), (["train"], "--lr", "nan"), (["train"], "--lr", "inf"),
    (["train"], "--momentum", "1.5"), (["train"], "--momentum", "-1"),
    (["train"], "--epochs", "2.5"),
    (["evaluate", "m.npz"], "--batch-size", "0"),
    (["explore"], "--samples", "0"), (["explore"], "--validation", "-1"),
    (["explore"], "--seed", "-1"),
    (["lrfind"], "--start", "0"), (["lrfind"], "--steps-per-decade", "0"),
    (["lrfind"], "--max-lr", "-1"), (["lrfind"], "--epochs", "0"),
    (["lrfind"], "--batch-size", "0"), (["lrfind"], "--limit", "0"), (["lrfind"], "--seed", "-1"),
    (["lrfind"], "--hidden", "-4"),
    (["tune"], "--lr", "0"), (["tune"], "--epochs", "0"), (["tune"], "--batch-size", "-1"),
    (["tune"], "--validation", "0"), (["tune"], "--validation", "1.5"),
    (["tune"], "--limit", "0"), (["tune"], "--seed", "-3"),
    (["report", "m.npz"], "--sample", "-1"), (["report", "m.npz"], "--grid", "0"),
    (["report", "m.npz"], "--top", "0"), (["report", "m.npz"], "--seed", "-1"),
    (["report", "m.npz"], "--batch-size", "0"),
    (["predict", "m.npz", "a.png"], "--top", "0"),
    (["parity"], "--batch-size", "0"), (["parity"], "--steps", "0"), (["parity"], "--seed", "-1"),
    (["parity"], "--lr", "0"), (["parity"], "--momentum", "2"), (["parity"], "--hidden", "0"),
]


@pytest.mark.parametrize("command, option, value", BAD_NUMBERS,
                         ids=[f"{c[0]}{o}={v}" for c, o, v in BAD_NUMBERS])
def test_every_numeric_option_rejects_bad_values(capsys, fake_mnist, command, option, value):
    status, _, err = run(command + [option, value], capsys)
    assert status == 1
    assert f"scratchnn {command[0]}: error: argument {option}: " in err
    assert repr(value) in err  # the message quotes the value it refused
    assert fake_mnist == []


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if a.dest == "command")
    return dict(action.choices)


def test_no_numeric_option_uses_a_bare_int_or_float():
    """Siblings: a bare ``type=int``/``float`` accepts 0 and negatives silently; only
    ``--verbose`` (closed choices) may use one."""
    bare = [f"{name} {a.option_strings[0]}" for name, p in _subparsers().items()
            for a in p._actions
            if a.type in (int, float) and a.choices is None]
    assert bare == []


def test_tune_validation_takes_a_count_or_a_fraction():
    parser = build_parser()
    assert parser.parse_args(["tune", "--validation", "600"]).validation == 600
    assert isinstance(parser.parse_args(["tune", "--validation", "600"]).validation, int)
    assert parser.parse_args(["tune", "--validation", "0.25"]).validation == 0.25


@pytest.mark.parametrize("command", ["explore", "tune"])
def test_validation_larger_than_the_data_names_the_option(capsys, fake_mnist, tmp_path, command):
    out = tmp_path / "figs"
    status, _, err = run([command, "--validation", "300", "--out", out], capsys)
    assert status == 1
    assert f"scratchnn {command}: error: --validation 300 does not fit 200 training" in err
    assert not out.exists()  # failed before creating anything


def test_lrfind_range_and_epochs_are_checked_before_loading(capsys, fake_mnist, tmp_path):
    out = ["--out", tmp_path / "lr.png"]
    status, _, err = run(["lrfind", "--start", "0.1", "--max-lr", "0.01", *out], capsys)
    assert status == 1 and "--max-lr (0.01) must be larger than --start (0.1)" in err
    status, _, err = run(["lrfind", "--epochs", "3", *out], capsys)
    assert status == 1 and "--epochs applies to a --per-epoch sweep" in err
    status, _, err = run(["lrfind", "--out", tmp_path / "lr.jpg"], capsys)
    assert status == 1 and "ending in .png" in err
    assert fake_mnist == []


# --------------------------------------------------------------------------- output paths


def test_train_save_into_missing_folder_fails_before_training(capsys, fake_mnist, tmp_path):
    target = tmp_path / "nonexistent_dir" / "m.npz"
    status, out, err = run(["train", "--epochs", "1", "--save", target], capsys)
    assert status == 1
    assert f"scratchnn train: error: --save: cannot write {target}" in err
    assert "does not exist" in err
    assert fake_mnist == [] and "Total params" not in out  # no data loaded, no model built
    assert not target.parent.exists()


def test_save_destinations_that_are_folders_or_under_files_fail_up_front(capsys, fake_mnist,
                                                                         tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [(["train", "--save", tmp_path], "--save: ", "is a folder"),
             (["train", "--save", a_file / "m.npz"], "--save: ", "is not a folder"),
             (["tune", "--out", tmp_path / "t", "--save-best", tmp_path / "no" / "b.npz"],
              "--save-best: ", "does not exist")]
    for argv, option, why in cases:
        status, _, err = run(argv, capsys)
        assert status == 1 and option in err and why in err, err
    assert fake_mnist == []


@pytest.mark.parametrize("command", [["explore", "--validation", "50"],
                                     ["tune", "--validation", "50"], ["report", "MODEL"],
                                     ["predict", "MODEL", "IMG"], ["lrfind"]])
def test_out_that_cannot_be_a_folder_fails_before_the_work(capsys, fake_mnist, tmp_path,
                                                          model_file, command):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder should go")
    out = blocker / "lr.png" if command[0] == "lrfind" else blocker
    argv = [model_file if a == "MODEL" else digit_png(tmp_path / "d.png") if a == "IMG" else a
            for a in command]
    status, stdout, err = run([*argv, "--out", out], capsys)
    assert status == 1
    assert f"scratchnn {command[0]}: error: --out: {blocker} exists and is not a folder" in err
    assert "Epoch" not in stdout and fake_mnist in ([], [None])  # report loads its test set
    assert blocker.read_text().startswith("a file")


def test_missing_out_folders_are_created(capsys, fake_mnist, tmp_path):
    out = tmp_path / "deep" / "er"
    status, stdout, _ = run(["explore", "--out", out, "--validation", "50", "--samples", "5"],
                            capsys)
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["class_counts.png", "pixel_histograms.png",
                                                     "samples.png"]


# --------------------------------------------------------------------------- predict: images


def test_decompression_bomb_is_a_per_file_error_and_the_rest_still_run(capsys, tmp_path,
                                                                       model_file):
    bomb = uniform_png(tmp_path / "huge.png", 15000, 15000)
    assert os.path.getsize(bomb) < 1_000_000
    good = digit_png(tmp_path / "one.png")
    status, out, err = run(["predict", model_file, bomb, good, "--out", tmp_path / "figs"],
                           capsys)
    assert status == 1
    assert f"{bomb}: the image is too large to decode safely (225,000,000 pixels" in err
    assert "1 of 2 image(s)" in err and "Traceback" not in err
    assert re.search(rf"^{re.escape(good)}: \d  \(p = ", out, re.M)  # one.png was classified
    assert (tmp_path / "figs" / "one.png.prediction.png").is_file()


def test_image_over_the_warning_limit_is_decoded_shrunk(tmp_path):
    side = 9500  # 90,250,000 pixels: above Image.MAX_IMAGE_PIXELS, below Pillow's hard limit
    path = uniform_png(tmp_path / "big.png", side, side)
    gray = load_image(path)
    assert max(gray.shape) <= MAX_SIDE and gray.shape[0] == gray.shape[1]
    assert np.ptp(gray) == 0  # a uniform image stays uniform


def test_large_png_is_shrunk_by_box_averages_while_decoding(tmp_path):
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (3 * 700, 3 * 500), dtype=np.uint8)  # longer side 2100
    path = tmp_path / "big.png"
    Image.fromarray(big).save(path)
    gray = load_image(path)
    assert gray.shape == (700, 500)  # factor ceil(2100 / 1024) = 3
    expected = big.reshape(700, 3, 500, 3).astype(np.float64).mean(axis=(1, 3))
    np.testing.assert_allclose(gray, expected, atol=1.0)  # Pillow keeps uint8 averages


def test_large_jpeg_is_decoded_at_a_draft_scale(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (255, 255, 255)).save(path, quality=90)
    gray = load_image(path)
    assert max(gray.shape) <= MAX_SIDE
    assert gray.shape == (750, 1000)  # draft 1/2 (2000x1500), then 2x2 box averages
    assert np.abs(gray - 255).max() <= 2


def test_small_images_are_not_resampled(tmp_path):
    path = digit_png(tmp_path / "d.png", size=(MAX_SIDE, 300))
    assert load_image(path).shape == (300, MAX_SIDE)


def test_blank_image_error_names_the_file(capsys, tmp_path, model_file):
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 200).save(blank)
    status, _, err = run(["predict", model_file, blank, "--out", tmp_path], capsys)
    assert status == 1
    assert f"scratchnn predict: error: {blank}: no digit found: the image is blank" in err


def test_predict_writes_its_figures_into_out_without_show(capsys, tmp_path, model_file):
    good = digit_png(tmp_path / "seven.png")
    status, out, _ = run(["predict", model_file, good, "--out", tmp_path / "p"], capsys)
    assert status == 0
    picture = tmp_path / "p" / "seven.png.prediction.png"
    assert picture.is_file() and f"picture: {picture}" in out


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("command", ["evaluate", "report", "predict"])
def test_model_of_another_input_size_names_both_sizes(capsys, fake_mnist, tmp_path, command):
    model = save_model(tmp_path / "m100.npz", inputs=(100,))
    extra = {"evaluate": [], "report": ["--out", tmp_path / "r"],
             "predict": [digit_png(tmp_path / "d.png"), "--out", tmp_path / "p"]}[command]
    status, _, err = run([command, model, *extra], capsys)
    assert status == 1
    assert (f"scratchnn {command}: error: {model}: the model expects 100 input features per "
            "sample, but MNIST images have 784 (28x28)") in err
    assert "cannot reshape" not in err


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_model_with_another_number_of_classes_is_named(capsys, fake_mnist, tmp_path, command):
    model = save_model(tmp_path / "m5.npz", outputs=5)
    extra = ["--out", tmp_path / "r"] if command == "report" else []
    status, _, err = run([command, model, *extra], capsys)
    assert status == 1
    assert f"{model}: the model has 5 outputs, but MNIST has 10 classes" in err


@pytest.mark.parametrize("recipe, named", [
    ({"kind": "standardize"}, "needs a finite 'mean' and a positive 'std'"),
    ({"kind": "standardize", "mean": 33.0, "std": 0.0}, "std=0.0"),
    ({"kind": "sharpen"}, "unknown preprocessing 'sharpen'"),
    ("scale", "must be a dict"),
])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_broken_preprocessing_metadata_is_a_message(capsys, fake_mnist, tmp_path, recipe,
                                                    named, command):
    model = scratchnn.models.load_model(save_model(tmp_path / "m.npz"))
    model.metadata = {"preprocess": recipe}
    model.save(tmp_path / "m.npz")
    extra = [digit_png(tmp_path / "d.png"), "--out", tmp_path / "p"] if command == "predict" \
        else []
    status, _, err = run([command, tmp_path / "m.npz", *extra], capsys)
    assert status == 1
    assert err.startswith(f"scratchnn {command}: error: ") and named in err


def _bad_model_files(tmp_path, model_file) -> dict[str, tuple[str, str]]:
    text = tmp_path / "text.npz"
    text.write_text("not a model")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(model_file, "rb").read()[:200])
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    return {"text": (str(text), "not a scratchnn model file"),
            "truncated": (str(truncated), "truncated.npz"),
            "missing": (str(tmp_path / "missing.npz"), "missing.npz"),
            "folder": (str(folder), "folder.npz")}


@pytest.mark.parametrize("command", ["evaluate", "report", "predict"])
@pytest.mark.parametrize("kind", ["text", "truncated", "missing", "folder"])
def test_model_files_that_fail_to_load_print_one_line(capsys, fake_mnist, tmp_path, model_file,
                                                      command, kind):
    path, named = _bad_model_files(tmp_path, model_file)[kind]
    extra = {"evaluate": [], "report": ["--out", tmp_path / "r"],
             "predict": [digit_png(tmp_path / "d.png"), "--out", tmp_path / "p"]}[command]
    status, _, err = run([command, path, *extra], capsys)
    assert status == 1
    assert err.startswith(f"scratchnn {command}: error: ") and named in err
    assert "Traceback" not in err


@pytest.mark.parametrize("error", [
    ModelFileError("m.npz is corrupt"), PermissionError(13, "Permission denied", "m.npz"),
    IsADirectoryError(21, "Is a directory", "m.npz"), MemoryError(),
    scratchnn.workflow.digits.DigitImageError("d.png: no digit"),
    OSError(28, "No space left on device"),
], ids=lambda e: type(e).__name__)
def test_main_turns_user_errors_into_messages(capsys, monkeypatch, error):
    def fail(args):
        raise error

    monkeypatch.setattr("scratchnn.cli.evaluate.run", fail)
    status, _, err = run(["evaluate", "m.npz"], capsys)
    assert status == 1
    assert err.startswith("scratchnn evaluate: error: ")
    expected = "out of memory" if isinstance(error, MemoryError) else str(error)
    assert expected in err


# --------------------------------------------------------------------------- Ctrl-C


REQUIRED = {"evaluate": ["m.npz"], "report": ["m.npz"], "predict": ["m.npz", "a.png"]}


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_ctrl_c_in_any_subcommand_exits_130_without_traceback(capsys, monkeypatch, command):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(f"scratchnn.cli.{command}.run", interrupted)
    status, _, err = run([command, *REQUIRED.get(command, [])], capsys)
    assert status == 130
    assert f"scratchnn {command}: interrupted (Ctrl-C)" in err
    assert "Traceback" not in err


def test_ctrl_c_during_training_writes_no_model(capsys, monkeypatch, fake_mnist, tmp_path):
    def interrupted_fit(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(scratchnn.Sequential, "fit", interrupted_fit)
    target = tmp_path / "m.npz"
    status, out, err = run(["train", "--epochs", "1", "--save", target], capsys)
    assert status == 130 and "Total params" in out  # it was interrupted while training
    assert "scratchnn train: interrupted" in err
    assert list(tmp_path.iterdir()) == []  # no model, no temporary file


# --------------------------------------------------------------------------- --help


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_help_shows_each_default_once_and_every_option_has_help(command):
    parser = _subparsers()[command]
    assert "(default: None)" not in parser.format_help()
    formatter = parser.formatter_class(prog=parser.prog)
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        name = f"{command} {action.option_strings[0]}"
        assert action.help, f"{name} has no help"
        shown = formatter._get_help_string(action)  # the text --help expands
        assert shown.count("(default:") <= 1, f"{name}: {shown!r}"
        if action.default not in (None, False):
            assert "(default: %(default)s)" in shown, f"{name}: {shown!r}"


def test_train_help_shows_epochs_batch_size_and_preprocess_defaults(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--epochs EPOCHS passes over the training set (default: 10)" in text
    assert "examples per gradient step (default: 32)" in text
    assert "(standardize) (default: scale)" in text
    assert "learning rate (default: 0.001 for adam, 0.01 for sgd) " in text
    assert text.count("default: 0.001") == 1


def test_show_means_the_same_in_every_subcommand():
    """Every subcommand that draws figures writes them into --out and has the same --show."""
    helps = {}
    for name, parser in _subparsers().items():
        options = {a.dest: a for a in parser._actions}
        if "show" in options:
            assert "out" in options, name
            helps[name] = options["show"].help
    assert sorted(helps) == ["explore", "lrfind", "predict", "report", "tune"]
    assert all("open" in h and "window" in h for h in helps.values()), helps


def test_readme_names_each_default_figure_location():
    readme = (REPO / "README.md").read_text()
    assert "default `figures/`" not in readme
    for name, parser in _subparsers().items():
        out = next((a.default for a in parser._actions if a.dest == "out"), None)
        if out is not None:
            shown = out if out.endswith(".png") else f"{out}/"
            assert f"`{shown}`" in readme, f"README does not say where {name} writes ({shown})"


# --------------------------------------------------------------------------- progress bar


class TerminalStream(io.StringIO):
    """Captured output that claims to be file descriptor 1, so tqdm asks its terminal size."""

    def fileno(self) -> int:
        return 1

    def isatty(self) -> bool:
        return True


def _one_epoch(stream) -> str:
    bar = callbacks.ProgbarLogger(verbose=1, steps=3, epochs=2, stream=stream)
    bar.on_epoch_begin(0)
    for batch in range(3):
        bar.on_train_batch_end(batch, {"loss": 0.5, "accuracy": 0.875})
    bar.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.875})
    return stream.getvalue()


def test_zero_width_terminal_still_shows_loss_and_accuracy(monkeypatch):
    zero = os.terminal_size((0, 0))
    monkeypatch.setattr(os, "get_terminal_size", lambda *a: zero)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    stream = TerminalStream()
    monkeypatch.setattr("sys.stdout", stream)
    text = _one_epoch(stream)
    assert text.startswith("Epoch 1/2\n")
    final = text.rstrip("\n").split("\r")[-1]
    assert final.startswith("3/3 [==========] ")  # the 80-column fallback: a 10-wide bar
    assert final.endswith("loss: 0.5000 - accuracy: 0.8750")
    assert len(final) <= 80


@pytest.mark.parametrize("columns, width", [(0, 10), (80, 10), (90, 20), (200, 30)])
def test_bar_width_follows_the_terminal(monkeypatch, columns, width):
    monkeypatch.setattr("shutil.get_terminal_size",
                        lambda fallback=(80, 24): os.terminal_size((columns, 24)))
    text = _one_epoch(io.StringIO())
    final = text.rstrip("\n").split("\r")[-1]
    assert f"3/3 [{'=' * width}] " in final and "accuracy: 0.8750" in final


# --------------------------------------------------------------------------- README numbers


def test_readme_states_what_is_machine_dependent():
    text = " ".join((REPO / "README.md").read_text().split())
    assert "97.77-98.16%" in text and "97.87% for seed 0" in text
    assert "5.1 s per epoch" in text and "BLAS" in text
    assert "98.06% in 2.4 s per epoch on a 2-core machine" not in text  # no longer a promise
