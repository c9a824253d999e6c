"""The GPU report: ``python -m benchmarks.report --device gpu`` (sweep ``gpu``, see
:mod:`benchmarks.config`).

What it adds to the CPU report's machinery:

* :func:`missing` -- why the GPU report cannot run here (no CUDA device visible to PyTorch or
  CuPy), or None;
* the sweep table: per case the time of each framework, its achieved TFLOP/s
  (``flops / seconds / 1e12``, the FLOP counts of :mod:`benchmarks.flops`) and fraction of the
  device's measured float32 GEMM peak (:func:`benchmarks.peak.gpu_gemm`), each scratchnn
  backend's ratio to the fastest framework, and the case's regime (:func:`regime`);
* :func:`with_keras_fallback` -- the Keras row: TensorFlow on CUDA when TensorFlow sees a
  GPU, else Keras 3 on JAX with CUDA (``keras-jax-gpu``, :mod:`benchmarks.impl_keras_jax`);
  the report's header says which ran;
* the targets of issue 12, as ratios ``scratchnn time / fastest framework's time`` from one
  run on one GPU: a train step at batch >= 8192 and width >= 2048 within
  :data:`STEP_LIMIT`, the tutorial network's epoch at batch 1024 within :data:`EPOCH_LIMIT`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from . import config
from .tables import flops_of, fmt_time, index

#: scratchnn's GPU backends, as framework names.
SCRATCHNN_GPU = ("scratchnn-cupy", "scratchnn-torch-gpu")
#: The GPU report's Keras row: TensorFlow on CUDA, else Keras 3 on JAX with CUDA.
TF_GPU, KERAS_JAX_GPU = "tf-gpu", "keras-jax-gpu"
#: Target ratios (scratchnn / fastest framework) from the issue.
STEP_LIMIT = 1.5
EPOCH_LIMIT = 2.0
#: A case is compute-bound when its fastest framework reaches this fraction of the GEMM peak;
#: below it the time goes to kernel launches and Python dispatch (launch-bound).
COMPUTE_BOUND = 0.3

_STATUS_CODE = """
import json
out = {}
try:
    import torch
    out["torch"] = f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}"
    out["ok_torch"] = torch.cuda.is_available()
except ImportError:
    out["torch"], out["ok_torch"] = "torch not installed", False
try:
    import cupy
    n = cupy.cuda.runtime.getDeviceCount()
    out["cupy"], out["ok_cupy"] = f"cupy {cupy.__version__}, {n} CUDA device(s)", n > 0
except ImportError:
    out["cupy"], out["ok_cupy"] = "cupy not installed", False
except Exception as exc:
    out["cupy"], out["ok_cupy"] = f"cupy without a usable CUDA device ({exc})", False
print(json.dumps(out))
"""


def missing() -> str | None:
    """None when PyTorch or CuPy sees a CUDA device; else the message saying what is missing.

    Asked in a subprocess, so that this process never imports torch or CuPy."""
    proc = subprocess.run([sys.executable, "-c", _STATUS_CODE], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    try:
        status = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        status = {"torch": "could not be asked", "cupy": proc.stderr.strip()[-300:]}
    if status.get("ok_torch") or status.get("ok_cupy"):
        return None
    return ("benchmarks.report --device gpu needs a CUDA GPU visible to PyTorch or CuPy, and "
            f"none is here ({status['torch']}; {status['cupy']}). Run it on a machine with an "
            "NVIDIA GPU and torch built with CUDA and/or cupy-cuda12x installed.")


def with_keras_fallback(names: list[str], available: Callable[[str], bool]) -> list[str]:
    """The GPU sweep's frameworks with its Keras row: ``tf-gpu`` when it is in ``names``
    (TensorFlow sees a GPU), else ``keras-jax-gpu`` (Keras 3 on JAX with CUDA, in
    ``tf-gpu``'s place) when ``available("keras-jax-gpu")``, else none."""
    if TF_GPU in names or not available(KERAS_JAX_GPU):
        return list(names)
    at = len([f for f in names if f in SCRATCHNN_GPU])  # after scratchnn's, as tf-gpu would be
    return names[:at] + [KERAS_JAX_GPU] + names[at:]


def regime(fraction_of_peak: float) -> str:
    """``"compute-bound"`` when the fastest framework reaches :data:`COMPUTE_BOUND` of the
    peak, else ``"launch-bound"`` (small batch or width: fixed per-kernel costs dominate)."""
    return "compute-bound" if fraction_of_peak >= COMPUTE_BOUND else "launch-bound"


def rows(merged: dict) -> list[dict]:
    """One dict per timed case: ``key`` (op, batch, widths), ``times`` {framework: s},
    ``fastest`` framework, ``tflops`` {framework: TFLOP/s}, ``ratios`` {scratchnn backend:
    its time / the fastest time}, ``regime``."""
    peak = merged["scratchnn_report"]["gpu_peak_tflops"]
    t, fl = index(merged), flops_of(merged)
    out = []
    for key in sorted(t, key=lambda k: (k[0] == "epoch", k[1], k[2])):
        times = t[key]
        fastest = min(times, key=times.get)
        tflops = {f: fl[key] / s / 1e12 for f, s in times.items()}
        ratios = {f: times[f] / times[fastest] for f in SCRATCHNN_GPU if f in times}
        out.append({"key": key, "times": times, "fastest": fastest, "tflops": tflops,
                    "ratios": ratios, "regime": regime(tflops[fastest] / peak)})
    return out


def targets(merged: dict) -> list[tuple[str, str, bool]]:
    """[(target, measured, met)] per scratchnn GPU backend and qualifying case."""
    out = []
    for row in rows(merged):
        op, batch, widths = row["key"]
        if op == "train_step" and batch >= 8192 and max(widths) >= 2048:
            limit, what = STEP_LIMIT, f"train step, batch {batch}, width {max(widths)}"
        elif op == "epoch" and batch == 1024 and widths == (config.TUTORIAL_WIDTH,):
            limit, what = EPOCH_LIMIT, "tutorial network's epoch, batch 1024"
        else:
            continue
        for fw, ratio in row["ratios"].items():
            out.append((f"{what}: {_label(fw)} / fastest ({_label(row['fastest'])}) <= {limit}",
                        f"{ratio:.2f}", ratio <= limit))
    return out


def markdown(merged: dict) -> str:
    """The GPU report: header, targets, the sweep table with regimes."""
    info = merged["scratchnn_report"]
    ran = {f for r in rows(merged) for f in r["times"]}
    fws = [f for f in info["frameworks"] if f in ran] + sorted(ran - set(info["frameworks"]))
    lines = [f"# scratchnn benchmarks — `gpu` sweep on {info['gpu']}", "",
             f"- float32 GEMM peak ({info['gpu_peak_library']}, {info['gpu_peak_n']}³, TF32 "
             f"off): **{info['gpu_peak_tflops']:.1f} TFLOP/s**",
             f"- Ran: {', '.join(_label(f) for f in fws)}. {_tf_note(info)}",
             "- Times are the minimum over rounds, each call ending with the device "
             "synchronized; ratio = scratchnn time / fastest framework's time. Regime: "
             f"compute-bound when the fastest framework reaches {COMPUTE_BOUND:.0%} of the "
             f"peak, else launch-bound. Run took {info['wall_s']:.0f} s: `{info['command']}`",
             "", "## Targets", "", "| target | ratio | met |", "|---|---|---|"]
    lines += [f"| {label} | {m} | {'yes' if ok else '**no**'} |"
              for label, m, ok in targets(merged)]
    lines += ["", "## Sweep", "", "| op | batch | hidden | "
              + "".join(f"{_label(f)} | " for f in fws)
              + "".join(f"{_label(f)} / fastest | " for f in SCRATCHNN_GPU if f in fws)
              + "fastest TFLOP/s | % of peak | regime |",
              "|" + "---|" * (3 + len(fws) + sum(f in fws for f in SCRATCHNN_GPU) + 3)]
    lines += [_sweep_line(r, fws, info["gpu_peak_tflops"]) for r in rows(merged)]
    return "\n".join(lines) + "\n"


def _sweep_line(row: dict, fws: list[str], peak: float) -> str:
    op, batch, widths = row["key"]
    times, best = row["times"], row["tflops"][row["fastest"]]
    return (f"| {op} | {batch} | {'x'.join(map(str, widths))} | "
            + "".join((fmt_time(times[f]) if f in times else "—") + " | " for f in fws)
            + "".join((f"{row['ratios'][f]:.2f}" if f in row["ratios"] else "—") + " | "
                      for f in SCRATCHNN_GPU if f in fws)
            + f"{best:.2f} ({_label(row['fastest'])}) | {best / peak:.0%} | {row['regime']} |")


def _tf_note(info: dict) -> str:
    """Which Keras row ran: TensorFlow on CUDA, Keras 3 on JAX with CUDA, or none."""
    if TF_GPU in info["frameworks"]:
        return "TensorFlow ran on CUDA (TF32 off)."
    if KERAS_JAX_GPU in info["frameworks"]:
        jax = info.get("versions", {}).get("jax", "?")
        return ("TensorFlow sees no CUDA GPU here, so the Keras row is Keras 3 on JAX with "
                f"CUDA (jax {jax}, jit-compiled stateless train step, TF32 off).")
    return ("Neither TensorFlow nor JAX sees a CUDA GPU here, so there is no Keras row "
            "(install tensorflow[and-cuda], or jax[cuda12] for Keras 3 on JAX).")


def _label(framework: str) -> str:
    from .frameworks import LABELS

    return LABELS.get(framework, framework)
