"""``scratchnn parity``: the table, JSON, exit statuses, and the error without TensorFlow."""

from __future__ import annotations

import json
import os
import sys

import pytest

import tfref.report
from scratchnn.cli import main

SMALL = ["--hidden", "8", "--steps", "4", "--batch-size", "5", "--seed", "1"]


def test_table_and_exit_status_zero(capsys):
    status = main(["parity", *SMALL])
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("scratchnn vs TensorFlow/Keras: 784-8-10 (relu, softmax), adam")
    header = next(line for line in lines if line.startswith("quantity"))
    for column in ("max abs error", "max rel error", "tolerance", "result"):
        assert column in header
    rows = [line for line in lines if line.endswith((" pass", " FAIL"))]
    names = " | ".join(rows)
    for quantity in ("forward dense", "predict", "loss, fused softmax+CE (as in fit)",
                     "loss, plain on probabilities (clipped)", "gradient input",
                     "weights after each of 4 adam steps (worst)", "epoch loss (fit history)",
                     "evaluate accuracy"):
        assert quantity in names
    assert all(row.endswith(" pass") for row in rows)
    assert f"{len(rows)}/{len(rows)} quantities within tolerance" in out
    # the float32 single-op tolerance is printed with each of those rows
    assert any("gradient" in row and "1e-05" in row for row in rows)


def test_json_output_float64_sgd(capsys):
    status = main(["parity", *SMALL, "--json", "--dtype", "float64", "--optimizer", "sgd",
                   "--momentum", "0.9", "--nesterov", "--activation", "tanh"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["passed"] is True
    cfg = report["config"]
    assert (cfg["dtype"], cfg["optimizer"], cfg["momentum"], cfg["nesterov"]) == \
        ("float64", "sgd", 0.9, True)
    assert cfg["train_samples"] == 3 * 5 + 3  # three full batches and a ragged one of 3
    for row in report["rows"]:
        assert row["passed"] and row["max_rel"] <= row["tolerance"]
        if row["category"] == "single":
            assert row["tolerance"] == 1e-10
    grads = [r for r in report["rows"] if r["quantity"].startswith("gradient ")]
    assert len(grads) == 2 * 2 + 1  # kernel and bias of both layers, and the input


def test_a_failure_gives_exit_status_one(capsys, monkeypatch):
    monkeypatch.setitem(tfref.report.TOLERANCES["float32"], "single", -1.0)
    status = main(["parity", *SMALL])
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL" in out and "FAILED" in out.splitlines()[-1]
    fails = [line for line in out.splitlines() if line.endswith(" FAIL")]
    assert any(line.startswith("gradient") for line in fails)


def test_without_tensorflow_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # makes `import tensorflow` fail
    status = main(["parity", *SMALL])
    err = capsys.readouterr().err
    assert status == 2
    assert "TensorFlow is not available" in err and "pip install" in err


def test_mnist_option(capsys, mnist):
    status = main(["parity", *SMALL, "--mnist", "--data", os.environ["SCRATCHNN_DATA"]])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "mnist data (18 train / 1000 eval samples)" in out


@pytest.mark.parametrize("bad", [["--steps", "0"], ["--hidden", "0"]])
def test_bad_options_are_errors(bad, capsys):
    assert main(["parity", *SMALL, *bad]) == 1
    assert "error" in capsys.readouterr().err


def _json_report(capsys, *argv):
    status = main(["parity", *SMALL, "--json", *argv])
    return status, json.loads(capsys.readouterr().out)


def test_toolbox_flags_batchnorm_l2_schedule_clipnorm(capsys):
    status, report = _json_report(capsys, "--batchnorm", "--l2", "0.01", "--optimizer", "nadam",
                                  "--schedule", "cosine", "--clipnorm", "1")
    assert status == 0 and report["passed"] is True
    cfg = report["config"]
    assert (cfg["batchnorm"], cfg["l2"], cfg["clipnorm"], cfg["schedule"]) == \
        (True, 0.01, 1.0, "cosine")
    names = [r["quantity"] for r in report["rows"]]
    for part in ("/gamma", "/beta", "/moving_mean after training",
                 "/moving_variance after training"):
        assert any(n.startswith(("gradient batch_normalization", "batch_normalization"))
                   and n.endswith(part) for n in names), part
    assert "weights after each of 4 nadam steps (worst)" in names
    assert len([n for n in names if n.startswith("gradient dense") and n.endswith("/bias")]) \
        == 1  # only the output Dense: Dense -> BN has no bias


@pytest.mark.parametrize("optimizer", ["rmsprop", "adagrad", "adadelta", "adamw", "adamax"])
def test_every_optimizer(capsys, optimizer):
    status, report = _json_report(capsys, "--optimizer", optimizer, "--dtype", "float64")
    assert status == 0 and report["passed"] is True
    assert f"weights after each of 4 {optimizer} steps (worst)" in \
        [r["quantity"] for r in report["rows"]]


def test_dropout_with_fixed_masks_compares_loss_and_gradients(capsys):
    _, plain = _json_report(capsys, "--dtype", "float64")
    status, report = _json_report(capsys, "--dropout", "0.5", "--dtype", "float64")
    assert status == 0 and report["passed"] is True
    names = [r["quantity"] for r in report["rows"]]
    assert any(n.startswith("forward dropout") for n in names)
    assert len([n for n in names if n.startswith("gradient dense")]) == 2 * 2
    assert len(report["rows"]) == len(plain["rows"]) + 1 - 6  # + forward dropout - 6 training rows
    assert not any(name.startswith(("weights after", "epoch", "evaluate")) for name in names)
    out = main(["parity", *SMALL, "--dropout", "0.5"]), capsys.readouterr().out
    assert out[0] == 0 and "dropout 0.5 (masks fixed; no lockstep training rows)" in out[1]


def test_toolbox_bad_values_are_refused(capsys):
    for argv, message in [(["--dropout", "1"], "argument --dropout: must be in [0, 1)"),
                          (["--l2", "-0.5"], "argument --l2: must be a number >= 0"),
                          (["--schedule", "step"], "argument --schedule: invalid choice")]:
        assert main(["parity", *SMALL, *argv]) == 1
        assert message in capsys.readouterr().err
