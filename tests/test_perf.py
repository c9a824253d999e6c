"""The speed tricks of ``scratchnn.engine.perf`` change no number: each is checked against the plain
NumPy expression it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import optimizers
from scratchnn.engine import perf

SIZES = [7, perf.CHUNK, 3 * perf.CHUNK + 5]  # whole-array path, exactly one chunk, chunked


def _state(size, dtype, seed=0):
    rng = np.random.default_rng(seed)
    g = (rng.standard_normal(size) * 1e-2).astype(dtype)
    g[::13] = 0  # zero gradients, as for dead pixels
    var = rng.standard_normal(size).astype(dtype)
    return g, var


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
def test_adam_kernel_matches_keras_expressions(dtype, size):
    g, var = _state(size, dtype)
    opt = optimizers.Adam(learning_rate=0.003)
    m, v, ref = np.zeros_like(var), np.zeros_like(var), var.copy()
    for step in range(3):
        opt.apply([g * (step + 1)], [var])
        # Keras 3's Adam.update_step, one NumPy operation per Keras operation
        dt = np.dtype(dtype).type
        t = dt(step + 1)
        alpha = (dt(0.003) * np.sqrt(1 - dt(np.float32(0.999)) ** t)
                 / (1 - dt(np.float32(0.9)) ** t))
        gs = g * (step + 1)
        m += (gs - m) * (1 - 0.9)
        v += (np.square(gs) - v) * (1 - 0.999)
        ref -= (m * alpha) / (np.sqrt(v) + 1e-7)
        assert var.dtype == dtype
        np.testing.assert_array_equal(var, ref)
    np.testing.assert_array_equal(opt.slots(0)["m"], m)
    np.testing.assert_array_equal(opt.slots(0)["v"], v)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("size", SIZES)
def test_sgd_kernels_match_plain_expressions(nesterov, size):
    g, var = _state(size, np.float32, seed=1)
    plain, ref = optimizers.SGD(0.1), var.copy()
    plain.apply([g], [ref])
    ref_plain = var - g * np.float32(0.1)
    np.testing.assert_array_equal(ref, ref_plain)
    opt = optimizers.SGD(0.1, momentum=0.9, nesterov=nesterov)
    mom, ref = np.zeros_like(var), var.copy()
    mu, lr = np.float32(np.float32(0.9)), np.float32(0.1)
    for _ in range(3):
        opt.apply([g], [var])
        mom = mom * mu - g * lr
        ref += (mom * mu - g * lr) if nesterov else mom
        np.testing.assert_array_equal(var, ref)


def test_elementwise_handles_non_contiguous_and_mismatched_arrays():
    def kernel(a, b, t, scale):
        np.multiply(a, scale, out=t)
        np.add(b, t, out=b)

    a = np.arange(2 * perf.CHUNK * 2, dtype=np.float32).reshape(-1, 2)
    b = np.ones_like(a)
    perf.elementwise(kernel, (a[:, 0], b[:, 1]), (np.float32(2),), n_scratch=1)  # strided views
    np.testing.assert_array_equal(b[:, 1], 1 + 2 * a[:, 0])
    np.testing.assert_array_equal(b[:, 0], 1)


def test_flush_denormals_flushes_and_restores():
    tiny = np.array(1e-39, dtype=np.float32)  # a float32 denormal
    assert tiny * np.float32(1) != 0
    with perf.flush_denormals(True) as on:
        if not on:
            pytest.skip("flush-to-zero is only supported on x86-64 Linux")
        assert tiny * np.float32(1) == 0
        assert np.float32(1e-38) * np.float32(0.5) == 0  # a denormal result is flushed
        assert np.float32(2e-38) * np.float32(1) == np.float32(2e-38)  # normal numbers stay
    assert tiny * np.float32(1) == tiny  # restored
    with perf.flush_denormals(False) as on:
        assert not on and tiny * np.float32(1) == tiny


def test_blas_thread_candidates_and_bad_override(monkeypatch):
    assert perf.blas_thread_candidates() == tuple(sorted({1, perf._cpu_count()}))
    monkeypatch.setenv("SCRATCHNN_BLAS_THREADS", "two")
    with pytest.raises(ValueError, match="SCRATCHNN_BLAS_THREADS"):
        perf.blas_threads_for(4, [(3, 2)], np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 5])
def test_weight_gradient_is_xt_dz(dtype, batch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((batch, 300)).astype(dtype)
    dz = rng.standard_normal((batch, 70)).astype(dtype)
    out = np.empty((300, 70), dtype=dtype)
    assert perf.weight_gradient(x, dz, out=out) is out
    np.testing.assert_array_equal(out, x.T @ dz)
    # for one sample each entry is the single product x_i * dz_j (computed in float64 exactly)
    if batch == 1:
        exact = (x.astype(np.float64).T * dz.astype(np.float64)).astype(dtype)
        np.testing.assert_array_equal(out, exact)


@pytest.mark.parametrize("shape", [(1024, 10), (300, 3), (10, 10), (600, 50), (7,)])
def test_row_max_is_max_over_last_axis(shape):
    rng = np.random.default_rng(4)
    z = rng.standard_normal(shape).astype(np.float32)
    if z.ndim == 2 and z.shape[0] > 8:
        z[3, 1], z[7, :], z[8, 2] = np.nan, -np.inf, np.inf
    got, want = perf.row_max(z), z.max(axis=-1, keepdims=True)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


class _FakeClock:
    """A timer under which a trial costs what ``cost[threads]`` says for the BLAS thread count
    in force (read back from the BLAS library itself)."""

    def __init__(self, cost: dict[int, float]):
        self.cost, self.now, self.trials = cost, 0.0, []

    def __call__(self) -> float:
        return self.now

    def trial(self) -> None:
        from threadpoolctl import threadpool_info

        threads = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"][0]
        self.trials.append(threads)
        self.now += self.cost.get(threads, 0.0)


@pytest.mark.parametrize("fast", [1, 2])
def test_choose_blas_threads_takes_the_fastest_and_remembers_it(monkeypatch, fast):
    monkeypatch.delenv("SCRATCHNN_BLAS_THREADS", raising=False)
    key = ("test-choose", fast)
    perf._TUNED.pop(key, None)
    clock = _FakeClock({1: 3.0, 2: 2.5} if fast == 2 else {1: 1.0, 2: 1.2})
    assert perf.choose_blas_threads(key, lambda: clock.trial, (1, 2), timer=clock) == fast
    assert clock.trials[1:] == [1, 2, 1, 2, 1, 2]  # one warm-up, then interleaved rounds
    other = _FakeClock({1: 9.0, 2: 0.0})
    assert perf.choose_blas_threads(key, lambda: other.trial, (1, 2), timer=other) == fast
    assert other.trials == []  # remembered: nothing timed again
    perf._TUNED.pop(key, None)


def test_choose_blas_threads_stops_early_on_a_clear_winner(monkeypatch):
    monkeypatch.delenv("SCRATCHNN_BLAS_THREADS", raising=False)
    perf._TUNED.pop("clear", None)
    clock = _FakeClock({1: 10.0, 2: 5.0})  # 2 threads twice as fast: one round decides
    assert perf.choose_blas_threads("clear", lambda: clock.trial, (1, 2), timer=clock) == 2
    assert clock.trials[1:] == [1, 2]
    perf._TUNED.pop("clear", None)


def test_choose_blas_threads_ties_go_to_one_thread_and_env_forces(monkeypatch):
    monkeypatch.delenv("SCRATCHNN_BLAS_THREADS", raising=False)
    perf._TUNED.pop("tie", None)
    clock = _FakeClock({1: 1.0, 2: 1.0})
    assert perf.choose_blas_threads("tie", lambda: clock.trial, (1, 2), timer=clock) == 1
    perf._TUNED.pop("tie", None)
    monkeypatch.setenv("SCRATCHNN_BLAS_THREADS", "2")
    clock = _FakeClock({1: 1.0, 2: 5.0})
    assert perf.choose_blas_threads("forced", lambda: clock.trial, (1, 2), timer=clock) == 2
    assert clock.trials == [] and "forced" not in perf._TUNED


def test_blas_threads_for_measures_once_per_shape(monkeypatch):
    monkeypatch.delenv("SCRATCHNN_BLAS_THREADS", raising=False)
    made = []

    def fake_trial(*args):
        made.append(args)
        return lambda: None

    monkeypatch.setattr(perf, "dense_step_trial", fake_trial)
    key = (7, ((5, 3), (3, 2)), "float64", 26)
    perf._TUNED.pop(key, None)
    first = perf.blas_threads_for(7, [(5, 3), (3, 2)], np.float64, 26)
    assert first in perf.blas_thread_candidates()
    assert perf.blas_threads_for(7, [(5, 3), (3, 2)], np.float64, 26) == first
    assert len(made) == (1 if len(perf.blas_thread_candidates()) > 1 else 0)
    perf._TUNED.pop(key, None)


def test_dense_step_trial_leaves_the_global_generator_alone():
    from scratchnn.seeding import global_rng

    before = global_rng().bit_generator.state
    perf.dense_step_trial(4, [(6, 5), (5, 3)], np.float32, 48)()
    assert global_rng().bit_generator.state == before


# -- the benchmark report's plain-formula mode -----------------------------------------------------

def test_benchmark_plain_sweep_keeps_the_tutorial_rows():
    config = pytest.importorskip("benchmarks.config")
    quick = config.sweep("quick")
    plain = config.plain_sweep(quick)
    assert plain.cases and set(plain.cases) < set(quick.cases)
    assert {c.widths for c in plain.cases} == {(config.TUTORIAL_WIDTH,)}
    assert {c.op for c in plain.cases} == set(config.OPS)
    assert plain.epoch_batches == quick.epoch_batches
    micro = config.sweep("micro")
    assert config.plain_sweep(micro).cases == micro.cases


def test_benchmark_report_relabels_and_tabulates_plain_runs(tmp_path):
    pytest.importorskip("pytest_benchmark")
    import json

    from benchmarks import config, report, tables

    def bench(op, batch, seconds):
        return {"stats": {"min": seconds}, "extra_info": {
            "framework": "scratchnn", "op": op, "batch": batch, "widths": [512],
            "flops": 1e9, "data": "random", "n_train": 60000}}

    fast, plain = tmp_path / ".quick-scratchnn.json", tmp_path / ".quick-scratchnn-plain.json"
    fast.write_text(json.dumps({"benchmarks": [bench("epoch", 32, 2.0), bench("adam", 32, 1e-3)]}))
    plain.write_text(json.dumps({"benchmarks": [bench("epoch", 32, 3.0),
                                                bench("adam", 32, 1.5e-3)]}))
    merged = report._merge([fast, plain])
    assert [b["extra_info"]["framework"] for b in merged["benchmarks"]] == [
        "scratchnn", "scratchnn", config.PLAIN, config.PLAIN]
    merged["scratchnn_report"] = {"sweep": "quick", "gemm_peak_gflops": 100.0, "cpu": "x",
                                  "cores": 2, "python": "3", "versions": {}, "wall_s": 1.0,
                                  "command": "c", "frameworks": ["scratchnn", config.PLAIN],
                                  "gemm_peak_one_core_gflops": 50.0,
                                  "gemm_peak_runs": [{"n": 64}]}
    md = tables.markdown(merged)
    # 3.0 s / 2.0 s and 1.5 ms / 1.0 ms: the plain formulas take 1.5x as long
    assert "| 32 | 512 | 2.00 s | 3.00 s | — | — | — | 0 | 0% | 1.50 |" in md
    assert "| adam | 32 | 512 | 1.00 ms | 1000.0 | 1000.0% | 1.50 ms | 1.50 |" in md
    assert "plain / fast" in md
