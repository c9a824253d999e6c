"""What the benchmark suite measures: the operations, the sweeps and their sizes.

Four sweeps:

* ``micro`` — a few tiny cases on random data, for the smoke test (seconds);
* ``quick`` — the headline comparisons plus one-axis-at-a-time sweeps (a few minutes);
* ``full``  — the same with the operations crossed with the whole batch x width grid and more
  rounds per timing;
* ``gpu``   -- ``python -m benchmarks.report --device gpu``: train steps over batch sizes up to
  65,536 and widths up to 8,192, and the tutorial network's epoch, for scratchnn on CuPy and
  on torch CUDA, TensorFlow on CUDA and PyTorch CUDA eager (:data:`GPU_SWEEP_FRAMEWORKS`).

On the CPU sweeps scratchnn also runs on the torch backend (``scratchnn-torch``, when torch is
installed), beside NumPy, so that the cost of the portable array-API path is visible.

The network is always ``784 -> hidden widths (ReLU) -> 10 (softmax)``, trained with Adam
(Keras defaults, epsilon 1e-7) on sparse categorical cross-entropy with an accuracy metric, in
float32 -- the classic MNIST tutorial network when the hidden widths are ``(512,)``.

scratchnn is timed twice: with its fast kernels (the default) and with only the plain formulas
(``SCRATCHNN_FAST_PATHS=0``, framework label ``scratchnn-plain``); the plain run covers the
tutorial network's rows only (:func:`plain_sweep`), to keep the report's run time down.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

#: Operations timed on their own (one call each) and the whole-run ones.
OPS = ("dense_forward", "dense_backward", "softmax_ce", "adam", "train_step", "predict")
#: Sweep axes from the issue.
BATCHES = (1, 32, 128, 1024, 8192)
WIDTHS = (128, 512, 2048)
DEPTHS = (1, 2, 3, 4)
#: The tutorial network's hidden layer, and the batch sizes the targets are stated for.
TUTORIAL_WIDTH = 512
TARGET_BATCHES = (32, 128, 1024)

FRAMEWORKS = ("scratchnn", "scratchnn-torch", "tf", "torch")
#: scratchnn with fast paths off: the plain formulas of the math modules.
PLAIN = "scratchnn-plain"
#: Accelerator variants, run only when the framework sees a CUDA device.
GPU_FRAMEWORKS = ("tf-gpu", "torch-gpu")
#: The GPU sweep's frameworks: scratchnn on CuPy and on torch CUDA, TF and PyTorch on CUDA.
GPU_SWEEP_FRAMEWORKS = ("scratchnn-cupy", "scratchnn-torch-gpu", "tf-gpu", "torch-gpu")
#: The GPU sweep's axes: small sizes (kernel-launch bound) up to large ones (compute bound).
GPU_BATCHES = (32, 1024, 8192, 65536)
GPU_WIDTHS = (512, 2048, 8192)

INPUT_DIM = 784
CLASSES = 10


@dataclass(frozen=True)
class Case:
    """One timed benchmark: ``op`` on a batch of ``batch`` through hidden ``widths``."""

    op: str
    batch: int
    widths: tuple[int, ...]

    @property
    def id(self) -> str:
        return f"{self.op}-b{self.batch}-w{'x'.join(map(str, self.widths))}"


@dataclass
class Sweep:
    name: str
    cases: list[Case]
    epoch_batches: tuple[int, ...]
    #: samples in the training set (an epoch) and the prediction set
    n_train: int = 60000
    n_test: int = 10000
    epoch_rounds: int = 1
    #: pytest-benchmark's --benchmark-max-time for the per-step operations (seconds)
    max_time: float = 0.5
    min_rounds: int = 5
    rss_batches: tuple[int, ...] = (128,)
    frameworks: tuple[str, ...] = field(default=FRAMEWORKS)
    real_data: bool = True


def _one_axis_cases() -> list[Case]:
    """Train steps along each sweep axis, the others held at the tutorial network."""
    w = (TUTORIAL_WIDTH,)
    cases = [Case("train_step", b, w) for b in BATCHES]
    cases += [Case("train_step", 128, (u,)) for u in WIDTHS if (u,) != w]
    cases += [Case("train_step", 128, w * d) for d in DEPTHS if d > 1]
    return cases


def sweep(name: str) -> Sweep:
    """The named sweep: 'micro', 'quick', 'full' or 'gpu'."""
    w = (TUTORIAL_WIDTH,)
    if name == "micro":
        cases = [Case(op, 32, (16,)) for op in OPS]
        return Sweep("micro", cases, epoch_batches=(32,), n_train=512, n_test=256,
                     max_time=0.02, min_rounds=2, rss_batches=(32,), frameworks=("scratchnn",),
                     real_data=False)
    if name == "quick":
        cases = [Case(op, b, w) for op in OPS if op != "train_step" for b in (32, 1024)]
        cases += _one_axis_cases()
        return Sweep("quick", cases, epoch_batches=TARGET_BATCHES, epoch_rounds=2)
    if name == "full":
        cases = [Case(op, b, (u,)) for op in OPS if op != "train_step"
                 for b in BATCHES for u in WIDTHS]
        cases += [Case("train_step", b, (u,) * d) for b in BATCHES for u in WIDTHS
                  for d in DEPTHS]
        return Sweep("full", cases, epoch_batches=TARGET_BATCHES, epoch_rounds=3, max_time=1.0,
                     rss_batches=TARGET_BATCHES)
    if name == "gpu":
        return gpu_sweep()
    raise ValueError(f"unknown sweep {name!r}; choose micro, quick, full or gpu")


def gpu_sweep() -> Sweep:
    """Train steps over :data:`GPU_BATCHES` x :data:`GPU_WIDTHS` (one hidden layer), and the
    tutorial network's epoch at batch 128 and 1024, for :data:`GPU_SWEEP_FRAMEWORKS`."""
    cases = [Case("train_step", b, (u,)) for b in GPU_BATCHES for u in GPU_WIDTHS]
    return Sweep("gpu", cases, epoch_batches=(128, 1024), epoch_rounds=3, max_time=1.0,
                 rss_batches=(), frameworks=GPU_SWEEP_FRAMEWORKS)


def plain_sweep(full: Sweep) -> Sweep:
    """The cases of ``full`` timed for scratchnn with plain formulas: those on the network its
    epochs train (the tutorial network; the micro sweep's tiny one), same sizes otherwise."""
    widths = (TUTORIAL_WIDTH,) if full.name != "micro" else full.cases[0].widths
    return dataclasses.replace(full, cases=[c for c in full.cases if c.widths == widths],
                               frameworks=("scratchnn",))


def current_sweep() -> Sweep:
    """The sweep named by ``$SCRATCHNN_BENCH_SWEEP`` (default 'quick'); its plain-formula
    subset (:func:`plain_sweep`) when ``$SCRATCHNN_BENCH_PLAIN`` is 1."""
    chosen = sweep(os.environ.get("SCRATCHNN_BENCH_SWEEP", "quick"))
    return plain_sweep(chosen) if os.environ.get("SCRATCHNN_BENCH_PLAIN") == "1" else chosen
