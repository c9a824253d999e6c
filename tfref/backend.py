"""Importing TensorFlow/Keras once, with a clear error, and the Keras settings parity needs.

Everything in :mod:`tfref` reaches TensorFlow through :func:`require_tf`, so that a missing
installation produces one readable message instead of a traceback from deep inside an import.

:func:`keras_floatx` is the one Keras setting that decides whether a float64 comparison is
meaningful.  Keras reads ``keras.config.floatx()`` (default ``"float32"``) in several places
that a float64 *layer* dtype does not reach:

* ``fit``/``evaluate``/``predict`` cast floating input arrays to ``floatx`` before batching
  (``trainers/data_adapters/array_slicing.py``), so float64 inputs are rounded to float32;
* a loss built without ``dtype=`` converts ``y_pred`` to ``floatx``; the cast also drops the
  softmax's cached logits, so a float64 softmax model then trains on the *clipped*
  cross-entropy in float32 instead of the fused one;
* an optimizer stores its learning rate in a ``floatx`` variable (0.001 becomes
  0.0010000000474974513 before being cast to the parameters' dtype);
* metrics such as the loss tracker accumulate in ``floatx``.

tfref therefore runs the Keras side of a float64 comparison with ``floatx = "float64"``, the
configuration in which Keras computes wholly in float64.  Float32 comparisons use Keras's
defaults unchanged.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType

import numpy as np

_INSTALL_HINT = (
    "tfref needs TensorFlow and Keras 3 (the reference implementation scratchnn is checked "
    "against). Install them with: pip install 'scratchnn[tf]'  (or: pip install tensorflow-cpu)"
)


def require_tf() -> tuple[ModuleType, ModuleType]:
    """Import and return ``(tensorflow, keras)``; raise ``ImportError`` with install advice.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless already set) to silence TensorFlow's start-up
    chatter, and refuses Keras 2, whose semantics differ from the Keras 3 that scratchnn follows.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - exercised only without TensorFlow
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    if int(keras.__version__.split(".")[0]) < 3:  # pragma: no cover
        raise ImportError(f"tfref needs Keras 3, found Keras {keras.__version__}")
    if keras.backend.backend() != "tensorflow":  # pragma: no cover
        raise ImportError(
            f"tfref needs the TensorFlow backend of Keras, got {keras.backend.backend()!r} "
            "(unset KERAS_BACKEND)"
        )
    return tf, keras


def configure(threads: int | None = None, deterministic: bool = False,
              cpu_only: bool = True) -> None:
    """Limit TensorFlow's thread pools, hide GPUs, optionally turn on op determinism.

    Must run before TensorFlow executes its first operation (TensorFlow ignores later changes;
    this function then leaves the settings as they are).

    Parameters
    ----------
    threads : intra-op threads (default: all cores); inter-op parallelism is set to 1, which is
        what a sequential model can use anyway.
    deterministic : call ``tf.config.experimental.enable_op_determinism()``.  Off by default,
        because it changes *what* TensorFlow computes, not only its reproducibility: it
        replaces the fused ``softmax_cross_entropy_with_logits`` kernels by a ``log_softmax``
        composite (``tensorflow/python/ops/nn_ops.py``), which rounds differently and, for
        target rows that do not sum to 1, has a different gradient.  The parity suite compares
        against TensorFlow as users normally run it.  (On CPU the kernels used here give the
        same numbers run after run anyway.)
    cpu_only : hide GPUs from TensorFlow.  On a GPU, TensorFlow may run float32 matrix products
        in TF32 (10-bit mantissas) and Keras turns on XLA, so the reference would no longer be
        float32 arithmetic; the tolerances in :mod:`tfref.report` are for the CPU.
    """
    tf, _ = require_tf()
    settings = [lambda: tf.config.threading.set_inter_op_parallelism_threads(1)]
    if threads is not None:
        settings.append(lambda: tf.config.threading.set_intra_op_parallelism_threads(threads))
    if cpu_only:
        settings.append(lambda: tf.config.set_visible_devices([], "GPU"))
    for apply in settings:
        try:
            apply()
        except RuntimeError:
            pass  # TensorFlow is already initialized; it keeps this setting
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def dtype_name(dtype) -> str:
    """``'float32'`` or ``'float64'`` for a NumPy/TF/Keras dtype or its name."""
    name = getattr(dtype, "name", dtype)
    name = np.dtype(str(name)).name
    if name not in ("float32", "float64"):
        raise ValueError(f"parity is defined for float32 and float64, got {dtype!r}")
    return name


@contextlib.contextmanager
def keras_floatx(dtype) -> Iterator[None]:
    """Run the block with ``keras.config.floatx()`` set to ``dtype``, restoring it afterwards.

    See the module docstring for why float64 comparisons need this.
    """
    _, keras = require_tf()
    old = keras.config.floatx()
    keras.config.set_floatx(dtype_name(dtype))
    try:
        yield
    finally:
        keras.config.set_floatx(old)
