"""The report's plots (matplotlib, Agg backend).

* time per epoch vs batch size, one line per framework: measured epochs as markers with solid
  lines, and epochs extrapolated from the train-step sweep (step time x steps per epoch) as
  dashed lines, which reach the batch sizes too slow to run a whole epoch of (batch 1);
* scratchnn's achieved fraction of the GEMM peak per operation and batch size.
"""

from __future__ import annotations

from pathlib import Path

from . import config
from .tables import _label, flops_of, index

COLORS = {"scratchnn": "C3", "tf": "C0", "tf-function": "C9", "torch": "C1", "tf-gpu": "C2",
          "tf-function-gpu": "C8", "torch-gpu": "C4"}


def _batch_axis(ax) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(config.BATCHES, [str(b) for b in config.BATCHES])
    ax.minorticks_off()


def write(merged: dict, epoch_png: Path, peak_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, fl = index(merged), flops_of(merged)
    info = merged["scratchnn_report"]
    n_train = next((b["extra_info"]["n_train"] for b in merged["benchmarks"]), 60000)
    w = (config.TUTORIAL_WIDTH,)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    frameworks = sorted({f for times in t.values() for f in times},
                        key=lambda f: list(COLORS).index(f) if f in COLORS else 99)
    for fw in frameworks:
        color = COLORS.get(fw)
        measured = sorted((k[1], v[fw]) for k, v in t.items()
                          if k[0] == "epoch" and fw in v)
        if measured:
            ax.plot(*zip(*measured), "o-", color=color, label=f"{_label(fw)} (epoch)")
        steps = sorted((k[1], v[fw] * -(-n_train // k[1])) for k, v in t.items()
                       if k[0] == "train_step" and k[2] == w and fw in v)
        if steps:
            ax.plot(*zip(*steps), "s--", color=color, alpha=0.6,
                    label=f"{_label(fw)} (steps x {n_train}/batch)")
    _batch_axis(ax)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("seconds per epoch")
    ax.set_title(f"784-{config.TUTORIAL_WIDTH}-10, Adam, float32: time per epoch of "
                 f"{n_train:,} samples")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(epoch_png, dpi=110)
    plt.close(fig)

    peak = info["gemm_peak_gflops"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ops = ["epoch", "train_step", "dense_forward", "dense_backward", "predict"]
    for i, op in enumerate(ops):
        pts = sorted((k[1], fl[k] / v["scratchnn"] / 1e9 / peak) for k, v in t.items()
                     if k[0] == op and k[2] == w and "scratchnn" in v)
        if pts:
            ax.plot(*zip(*pts), "o-", color=f"C{i}", label=op)
    for fw, style in (("torch", "C1"), ("tf", "C0")):
        pts = sorted((k[1], fl[k] / v[fw] / 1e9 / peak) for k, v in t.items()
                     if k[0] == "train_step" and k[2] == w and fw in v)
        if pts:
            ax.plot(*zip(*pts), "x--", color=style, alpha=0.5,
                    label=f"{_label(fw)} train_step (for comparison)")
    ax.axhline(0.75, color="gray", ls=":", label="75% target")
    _batch_axis(ax)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("batch size")
    ax.set_ylabel(f"fraction of GEMM peak ({peak:.0f} GFLOP/s)")
    ax.set_title(f"scratchnn achieved FLOP rate, 784-{config.TUTORIAL_WIDTH}-10")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(peak_png, dpi=110)
    plt.close(fig)
