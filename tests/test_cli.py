"""The ``scratchnn`` command line: train / evaluate on (a subset of) MNIST, and its errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from scratchnn.cli import main


def _accuracy(text: str) -> float:
    return float(re.search(r"Test accuracy: ([0-9.]+)", text).group(1))


def test_train_save_evaluate_roundtrip(mnist_dir, tmp_path, capsys):
    data = mnist_dir
    path = tmp_path / "model.npz"
    status = main(["train", "--hidden", "64", "--epochs", "1", "--limit", "3000", "--seed", "0",
                   "--preprocess", "standardize", "--data", data, "--save", str(path),
                   "--verbose", "2"])
    out = capsys.readouterr().out
    assert status == 0
    assert "Total params: 50,890" in out  # 784*64+64 + 64*10+10
    assert "Epoch 1/1" in out and "s per epoch" in out
    trained_acc = _accuracy(out)
    assert trained_acc > 0.8
    assert main(["evaluate", str(path), "--data", data]) == 0
    assert _accuracy(capsys.readouterr().out) == pytest.approx(trained_acc, abs=1e-4)


def test_missing_data_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SCRATCHNN_NO_DOWNLOAD", "1")
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SCRATCHNN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    status = main(["train", "--epochs", "1", "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 1
    assert "scratchnn train: error:" in err and "MNIST" in err


def test_evaluate_rejects_non_model(tmp_path, capsys):
    bad = tmp_path / "x.npz"
    bad.write_text("not a model")
    assert main(["evaluate", str(bad)]) == 1
    assert "not a scratchnn model file" in capsys.readouterr().err


def test_console_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "scratchnn", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "train" in out and "evaluate" in out
