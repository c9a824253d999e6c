"""Which frameworks the suite knows, how to reach each, and whether it can run here."""

from __future__ import annotations

import importlib
from types import ModuleType

#: framework name -> (implementation module, device)
REGISTRY: dict[str, tuple[str, str]] = {
    "scratchnn": ("impl_scratchnn", "cpu"),
    "scratchnn-torch": ("impl_scratchnn", "torch:cpu"),
    "scratchnn-torch-gpu": ("impl_scratchnn", "torch:cuda"),
    "scratchnn-cupy": ("impl_scratchnn", "cupy:0"),
    "tf": ("impl_tf", "cpu"),
    "torch": ("impl_torch", "cpu"),
    "tf-gpu": ("impl_tf", "cuda"),
    "torch-gpu": ("impl_torch", "cuda"),
    # Keras 3 on JAX: the GPU report's Keras row when TensorFlow has no CUDA (a process of its
    # own: Keras's backend is fixed at its first import)
    "keras-jax": ("impl_keras_jax", "cpu"),
    "keras-jax-gpu": ("impl_keras_jax", "cuda"),
}

#: Display names in tables and plots.
LABELS = {"scratchnn": "scratchnn", "scratchnn-torch": "scratchnn on torch CPU",
          "scratchnn-torch-gpu": "scratchnn on torch CUDA", "scratchnn-cupy": "scratchnn on CuPy",
          "tf": "Keras fit / TF graph ops", "tf-function":
          "TF tf.function loop", "torch": "PyTorch eager", "tf-gpu": "TF (GPU)",
          "torch-gpu": "PyTorch (GPU)", "tf-function-gpu": "TF tf.function loop (GPU)",
          "keras-jax": "Keras on JAX", "keras-jax-gpu": "Keras on JAX (GPU)"}


def impl(framework: str) -> tuple[ModuleType, str]:
    """The implementation module and device of ``framework``."""
    try:
        module, device = REGISTRY[framework]
    except KeyError:
        raise ValueError(f"unknown framework {framework!r}; known: {sorted(REGISTRY)}") from None
    return importlib.import_module(f"benchmarks.{module}"), device


def available(framework: str) -> bool:
    """True when ``framework`` is installed (and, for the GPU variants, sees a CUDA device)."""
    module, device = impl(framework)
    if framework == "scratchnn":
        return True
    return module.available(device)  # scratchnn-*: its backend installed, the device there


def probe(framework: str) -> bool:
    """:func:`available`, asked in a subprocess, so that the asking process never imports
    TensorFlow or PyTorch (their memory and threads would distort what it measures next)."""
    import subprocess
    import sys

    code = f"from benchmarks.frameworks import available; print(available({framework!r}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=__import__("pathlib").Path(__file__).resolve().parent.parent)
    return proc.stdout.strip().endswith("True")


def make(framework: str, op: str, batch: int, widths: tuple[int, ...], data):
    """A zero-argument callable doing one ``op`` in ``framework``."""
    module, device = impl(framework)
    return module.make(op, batch, widths, data, device=device)
