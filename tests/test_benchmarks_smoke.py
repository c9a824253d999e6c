"""Smoke test of the benchmark suite: it imports, and the report runs on a micro configuration.

No timing is asserted -- only that the suite works end to end (pytest-benchmark JSON, markdown,
plots) and that its FLOP counts and tables agree with hand-derived numbers, so that rot in
``benchmarks/`` shows up in CI.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytest_benchmark")

from benchmarks import config, flops, report, tables  # noqa: E402


def test_flop_counts_by_hand():
    # 784-512-10, batch 32: forward 2*32*(784*512 + 512*10) plus bias/ReLU/softmax extras.
    assert flops.layer_dims((512,)) == [(784, 512), (512, 10)]
    assert flops.n_params((512,)) == 407_050
    assert flops.adam((512,)) == 12 * 407_050
    assert flops.dense_forward(32, 784, 512) == 2 * 32 * 784 * 512 + 2 * 32 * 512
    matmul = 6 * 32 * (784 * 512 + 512 * 10) - 2 * 32 * 784 * 512
    extra = 4 * 32 * (512 + 10) + 8 * 32 * 10 + 12 * 407_050
    assert flops.train_step(32, (512,)) == matmul + extra
    # an epoch of 100 samples in batches of 32: 4 Adam updates, 100 samples' worth of the rest
    per_sample = flops.train_step(1, (512,)) - flops.adam((512,))
    assert flops.epoch(100, 32, (512,)) == 100 * per_sample + 4 * flops.adam((512,))


def test_sweeps_cover_the_issue_axes():
    quick = config.sweep("quick")
    steps = {(c.batch, c.widths) for c in quick.cases if c.op == "train_step"}
    assert {b for b, w in steps if w == (512,)} == set(config.BATCHES)
    assert {w[0] for b, w in steps if len(w) == 1} == set(config.WIDTHS)
    assert {len(w) for b, w in steps} == set(config.DEPTHS)
    assert set(quick.epoch_batches) == {32, 128, 1024}
    with pytest.raises(ValueError, match="unknown sweep"):
        config.sweep("huge")


def test_micro_report_end_to_end(tmp_path):
    merged = report.run(config.sweep("micro"), tmp_path, only=["scratchnn"], rss=True)
    data = json.loads((tmp_path / "micro.json").read_text())
    assert data["benchmarks"] == merged["benchmarks"]
    ops = {b["extra_info"]["op"] for b in data["benchmarks"]}
    assert ops == set(config.OPS) | {"epoch"}
    for b in data["benchmarks"]:  # pytest-benchmark's format
        assert b["stats"]["min"] > 0 and b["stats"]["rounds"] >= 1
        assert b["extra_info"]["framework"] == "scratchnn"
    info = data["scratchnn_report"]
    assert info["gemm_peak_gflops"] > 0
    assert info["rss"][0]["peak_mb"] >= info["rss"][0]["before_fit_mb"] > 0
    md = (tmp_path / "micro.md").read_text()
    assert "## Operations" in md and "| train_step | 32 | 16 |" in md
    for png in ("micro_epoch_time.png", "micro_fraction_of_peak.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tables_ratios_and_targets():
    """Ratios and target verdicts from a hand-made result set."""
    def bench(fw, op, batch, seconds, n_flops=1e9):
        return {"stats": {"min": seconds}, "extra_info": {
            "framework": fw, "op": op, "batch": batch, "widths": [512], "flops": n_flops,
            "data": "random", "n_train": 60000}}
    merged = {"benchmarks": [bench("scratchnn", "epoch", 32, 2.0), bench("tf", "epoch", 32, 5.0),
                             bench("torch", "epoch", 32, 1.6),
                             bench("scratchnn", "epoch", 1024, 1.0, 160e9)],
              "scratchnn_report": {"gemm_peak_gflops": 200.0, "rss": [
                  {"framework": "scratchnn", "batch": 128, "peak_mb": 300, "before_fit_mb": 250,
                   "fit_mb": 50},
                  {"framework": "tf", "batch": 128, "peak_mb": 900, "before_fit_mb": 800,
                   "fit_mb": 100}]}}
    rows = {label: (measured, met) for label, measured, met in tables.targets(merged)}
    # 2.0 / 5.0 = 0.40, met; PyTorch's own ratio to Keras (1.6 / 5.0) is shown for context
    assert rows["epoch, batch 32: scratchnn / Keras fit <= 0.5"] == (
        "0.40 (the same ratio for PyTorch 0.32)", True)
    assert rows["epoch, batch 32: scratchnn / PyTorch eager <= 1.0"] == ("1.25", False)
    assert rows["epoch, batch 1024: scratchnn >= 75% of GEMM peak"] == ("80%", True)
    assert rows["epoch, batch 128: scratchnn / Keras fit <= 0.5"][1] is None
    assert rows["peak RSS of an epoch, batch 128: scratchnn <= Keras fit"][1] is True


def test_before_after_table_ratios():
    from benchmarks.before_after import table

    best = {("epoch", 32, "512"): {"before": 2.0, "after": 2.2, "plain": 3.3},
            ("adam", 32, "512"): {"before": 0.0005, "after": 0.0004},
            ("predict", 32, "512"): {"after": 0.07}}  # no before: left out
    lines = table(best).splitlines()
    assert lines[2] == "| adam | 32 | 512 | 0.50 ms | 0.40 ms | 0.80 | — | — |"
    assert lines[3] == "| epoch | 32 | 512 | 2.00 s | 2.20 s | 1.10 | 3.30 s | 1.50 |"
    assert len(lines) == 4


def test_scratchnn_on_torch_cpu_runs_a_micro_sweep(tmp_path):
    """The portable backend as a framework: rows for every op, and the torch / NumPy column."""
    pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    from scratchnn.backend import get_backend

    before = get_backend()
    merged = report.run(config.sweep("micro"), tmp_path, only=["scratchnn", "scratchnn-torch"],
                        rss=False)
    assert get_backend() == before  # building on torch restores the caller's backend
    rows = [b for b in merged["benchmarks"] if b["extra_info"]["framework"] == "scratchnn-torch"]
    assert {b["extra_info"]["op"] for b in rows} == set(config.OPS) | {"epoch"}
    assert all(b["stats"]["min"] > 0 for b in rows)
    t = tables.index(merged)[("train_step", 32, (16,))]
    md = (tmp_path / "micro.md").read_text()
    assert "torch / NumPy |" in md
    assert f"| {tables.torch_over_numpy(t)} |" in md
    assert tables.torch_over_numpy(t) == f"{t['scratchnn-torch'] / t['scratchnn']:.2f}"


def test_quick_sweep_lists_the_torch_backend_beside_numpy():
    assert config.sweep("quick").frameworks[:2] == ("scratchnn", "scratchnn-torch")


def test_gpu_without_cuda_exits_1_naming_what_is_missing(capsys, monkeypatch):
    from benchmarks import gpu

    if gpu.missing() is None:
        pytest.skip("this machine has a CUDA GPU")
    monkeypatch.setattr(report, "run", lambda *a, **k: pytest.fail("must not run"))
    assert report.main(["--device", "gpu"]) == 1
    err = capsys.readouterr().err
    assert "needs a CUDA GPU visible to PyTorch or CuPy" in err
    assert "torch" in err and "cupy" in err


def test_gpu_sweep_has_the_issue_sizes():
    sweep = config.sweep("gpu")
    steps = {(c.batch, c.widths) for c in sweep.cases if c.op == "train_step"}
    assert max(b for b, _ in steps) == 65536 and max(w[0] for _, w in steps) == 8192
    assert {(b, (w,)) for b in (8192, 65536) for w in (2048, 8192)} <= steps  # the targets
    assert min(b for b, _ in steps) <= 32  # a launch-bound corner
    assert 1024 in sweep.epoch_batches
    assert set(sweep.frameworks) == {"scratchnn-cupy", "scratchnn-torch-gpu", "tf-gpu",
                                     "torch-gpu"}


def test_gpu_ratio_and_regime_table_from_synthetic_rows():
    from benchmarks import gpu

    def bench(fw, op, batch, width, seconds, n_flops):
        return {"stats": {"min": seconds}, "extra_info": {
            "framework": fw, "op": op, "batch": batch, "widths": [width], "flops": n_flops}}
    big, epoch = 50e12, 3e12  # FLOPs; peak 50 TFLOP/s
    merged = {"benchmarks": [
        bench("torch-gpu", "train_step", 8192, 2048, 2.0, big),         # 25 TFLOP/s: 50%
        bench("scratchnn-cupy", "train_step", 8192, 2048, 2.5, big),    # 1.25x: met
        bench("scratchnn-torch-gpu", "train_step", 8192, 2048, 4.0, big),  # 2.00x: not met
        bench("torch-gpu", "train_step", 32, 512, 1e-4, 1e8),           # 1 TFLOP/s: 2%
        bench("scratchnn-cupy", "train_step", 32, 512, 5e-4, 1e8),      # small: no target
        bench("tf-gpu", "epoch", 1024, 512, 1.0, epoch),
        bench("scratchnn-cupy", "epoch", 1024, 512, 1.8, epoch)],       # 1.8x <= 2: met
        "scratchnn_report": {"gpu_peak_tflops": 50.0, "frameworks": [
            "scratchnn-cupy", "scratchnn-torch-gpu", "tf-gpu", "torch-gpu"],
            "gpu": "Test GPU", "gpu_peak_library": "torch", "gpu_peak_n": 8192, "wall_s": 1.0,
            "command": "python -m benchmarks.report --device gpu"}}
    rows = {r["key"]: r for r in gpu.rows(merged)}
    big_row = rows[("train_step", 8192, (2048,))]
    assert big_row["fastest"] == "torch-gpu" and big_row["regime"] == "compute-bound"
    assert big_row["ratios"] == {"scratchnn-cupy": 1.25, "scratchnn-torch-gpu": 2.0}
    assert big_row["tflops"]["torch-gpu"] == pytest.approx(25.0)
    assert rows[("train_step", 32, (512,))]["regime"] == "launch-bound"
    assert gpu.regime(0.3) == "compute-bound" and gpu.regime(0.29) == "launch-bound"
    assert gpu.targets(merged) == [
        ("train step, batch 8192, width 2048: scratchnn on CuPy / fastest (PyTorch (GPU)) "
         "<= 1.5", "1.25", True),
        ("train step, batch 8192, width 2048: scratchnn on torch CUDA / fastest "
         "(PyTorch (GPU)) <= 1.5", "2.00", False),
        ("tutorial network's epoch, batch 1024: scratchnn on CuPy / fastest (TF (GPU)) <= 2.0",
         "1.80", True)]
    md = gpu.markdown(merged)
    assert "| train_step | 8192 | 2048 |" in md and "compute-bound |" in md
    assert "25.00 (PyTorch (GPU)) | 50% | compute-bound |" in md
    assert "TensorFlow ran on CUDA" in md


def test_backend_device_names_and_the_gpu_peak_without_cuda():
    from benchmarks import frameworks, gpu, impl_scratchnn, peak

    assert impl_scratchnn.parse_device("cpu") == ("numpy", None)
    assert impl_scratchnn.parse_device("torch:cuda") == ("torch", "cuda")
    assert frameworks.REGISTRY["scratchnn-cupy"] == ("impl_scratchnn", "cupy:0")
    if gpu.missing() is None:
        pytest.skip("this machine has a CUDA GPU")
    assert not impl_scratchnn.available("torch:cuda")
    with pytest.raises(RuntimeError, match="no GPU GEMM peak"):
        peak.gpu_gemm(n=8, repeats=1)
