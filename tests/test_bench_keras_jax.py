"""The ``keras-jax`` benchmark framework (Keras 3 on JAX, the GPU report's Keras fallback).

Keras's backend is fixed at its first import, so everything that runs Keras on JAX runs in a
subprocess here, as the report runs it.  Correctness only (the forward equals NumPy's formula
``relu(x W + b)``), never a timing; skipped with its reason when jax is not installed (it is
in the ``bench`` extra, not in CI's).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import config, gpu

ROOT = Path(__file__).resolve().parent.parent
NO_JAX = "jax is not installed (pip install -e '.[bench]'), so Keras 3 on JAX cannot run"


def _require_jax() -> None:
    if importlib.util.find_spec("jax") is None:
        print(NO_JAX)
        pytest.skip(NO_JAX)


def test_keras_jax_forward_equals_the_numpy_formula_in_a_subprocess():
    _require_jax()
    x = np.random.default_rng(3).random((3, config.INPUT_DIM), dtype=np.float32) - 0.5
    proc = subprocess.run([sys.executable, "-m", "benchmarks.impl_keras_jax"], cwd=ROOT,
                          input=json.dumps({"x": x.tolist(), "widths": [8]}),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["backend"] == "jax"
    kernel = np.asarray(got["kernel"], dtype=np.float32)
    bias = np.asarray(got["bias"], dtype=np.float32)
    assert kernel.shape == (config.INPUT_DIM, 8) and bias.shape == (8,)
    expected = np.maximum(x @ kernel + bias, 0)  # Dense(8, relu): relu(x W + b)
    out = np.asarray(got["out"], dtype=np.float32)
    assert out.shape == (3, 8) and (out > 0).any()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # ~20 s: a pytest subprocess compiling every op once
def test_keras_jax_runs_a_micro_sweep_through_the_report(tmp_path):
    """Every op and the epoch, timed in the report's own subprocess (pytest-benchmark)."""
    _require_jax()
    from benchmarks import report

    merged = report.run(config.sweep("micro"), tmp_path, only=["keras-jax"], rss=False)
    rows = [b for b in merged["benchmarks"] if b["extra_info"]["framework"] == "keras-jax"]
    assert {b["extra_info"]["op"] for b in rows} == set(config.OPS) | {"epoch"}
    assert all(b["stats"]["min"] > 0 for b in rows)
    assert merged["scratchnn_report"]["versions"]["jax"]
    assert "Keras on JAX" in (tmp_path / "micro.md").read_text()


def test_gpu_report_uses_tf_then_keras_on_jax_then_none():
    def available(names):
        return lambda framework: framework in names

    base = ["scratchnn-cupy", "scratchnn-torch-gpu", "torch-gpu"]
    with_tf = base[:2] + ["tf-gpu"] + base[2:]
    assert gpu.with_keras_fallback(with_tf, available({"keras-jax-gpu"})) == with_tf
    assert gpu.with_keras_fallback(base, available({"keras-jax-gpu"})) == (
        base[:2] + ["keras-jax-gpu"] + base[2:])
    assert gpu.with_keras_fallback(base, available(set())) == base


@pytest.mark.parametrize("keras_row,says", [
    ("tf-gpu", "TensorFlow ran on CUDA"),
    ("keras-jax-gpu", "the Keras row is Keras 3 on JAX with CUDA (jax 0.9.9"),
    (None, "Neither TensorFlow nor JAX sees a CUDA GPU here, so there is no Keras row")])
def test_gpu_report_names_which_keras_ran(keras_row, says):
    fws = ["scratchnn-cupy", "torch-gpu"] + ([keras_row] if keras_row else [])
    rows = [{"stats": {"min": s}, "extra_info": {"framework": fw, "op": "train_step",
                                                 "batch": 8192, "widths": [2048], "flops": 1e12}}
            for fw, s in zip(fws, (2.0, 1.0, 1.5))]
    merged = {"benchmarks": rows, "scratchnn_report": {
        "gpu_peak_tflops": 50.0, "frameworks": fws, "gpu": "Test GPU", "versions": {
            "jax": "0.9.9"}, "gpu_peak_library": "torch", "gpu_peak_n": 8192, "wall_s": 1.0,
        "command": "python -m benchmarks.report --device gpu"}}
    md = gpu.markdown(merged)
    assert says in md
    if keras_row == "keras-jax-gpu":
        assert "Keras on JAX (GPU) |" in md  # its column in the sweep table
