"""The benchmarks, as pytest-benchmark tests (not part of the default test run).

Run through ``python -m benchmarks.report`` (which runs each framework in its own process and
writes the report), or directly::

    SCRATCHNN_BENCH_SWEEP=quick SCRATCHNN_BENCH_FRAMEWORK=scratchnn \\
        python -m pytest benchmarks/test_bench.py --benchmark-json=out.json

``SCRATCHNN_BENCH_FRAMEWORK`` picks one framework (default: every one of the sweep that is
installed, plus the GPU variants when CUDA is present).  Every result carries ``extra_info``:
framework, op, batch, widths, flops (see :mod:`benchmarks.flops`) and the data source.
"""

from __future__ import annotations

import os

import pytest

from . import config, flops, frameworks
from . import data as data_module

SWEEP = config.current_sweep()
_ONLY = os.environ.get("SCRATCHNN_BENCH_FRAMEWORK")
FRAMEWORKS = [_ONLY] if _ONLY else list(dict.fromkeys(SWEEP.frameworks + config.GPU_FRAMEWORKS))


@pytest.fixture(scope="session")
def data():
    return data_module.load(SWEEP.n_train, SWEEP.n_test, real=SWEEP.real_data)


def _require(framework: str) -> None:
    if not frameworks.available(framework):
        pytest.skip(f"{framework} is not available here")


def _label(benchmark, framework, op, batch, widths, data, n_flops) -> None:
    benchmark.group = f"{op}-b{batch}-w{'x'.join(map(str, widths))}"
    benchmark.extra_info.update(framework=framework, op=op, batch=batch, widths=list(widths),
                                flops=n_flops, data=data.source, sweep=SWEEP.name,
                                n_train=len(data.x_train), n_test=len(data.x_test))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("case", SWEEP.cases, ids=lambda c: c.id)
def test_op(benchmark, framework, case, data):
    """One operation (a forward, a backward, an Adam update, a train step, a prediction)."""
    _require(framework)
    fn = frameworks.make(framework, case.op, case.batch, case.widths, data)
    n_flops = flops.for_case(case.op, case.batch, case.widths, len(data.x_train),
                             len(data.x_test))
    _label(benchmark, framework, case.op, case.batch, case.widths, data, n_flops)
    if case.op == "predict":
        benchmark.pedantic(fn, rounds=max(2, SWEEP.min_rounds // 2), iterations=1,
                           warmup_rounds=1)
    else:
        benchmark(fn)


EPOCH_FRAMEWORKS = [f for f in FRAMEWORKS if f != "scratchnn"] if _ONLY else FRAMEWORKS
EPOCH_VARIANTS = [(f, "epoch") for f in FRAMEWORKS]
EPOCH_VARIANTS += [(f.replace("tf", "tf-function"), "epoch_function") for f in FRAMEWORKS
                   if f in ("tf", "tf-gpu")]


@pytest.mark.parametrize("framework,op", EPOCH_VARIANTS, ids=lambda v: v)
@pytest.mark.parametrize("batch", SWEEP.epoch_batches)
def test_epoch(benchmark, framework, op, batch, data):
    """One full epoch of training on the whole training set (Keras ``fit`` semantics)."""
    base = framework.replace("tf-function", "tf")
    _require(base)
    widths = (config.TUTORIAL_WIDTH,) if SWEEP.name != "micro" else SWEEP.cases[0].widths
    fn = frameworks.make(base, op, batch, widths, data)
    _label(benchmark, framework, "epoch", batch, widths, data,
           flops.epoch(len(data.x_train), batch, widths))
    benchmark.pedantic(fn, rounds=SWEEP.epoch_rounds, iterations=1, warmup_rounds=0)
