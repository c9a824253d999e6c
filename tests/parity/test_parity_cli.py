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
