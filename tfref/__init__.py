"""tfref: the TensorFlow/Keras reference that scratchnn is checked against.

Importing :mod:`tfref` does not import TensorFlow; every function that needs it imports it on
first use (:func:`tfref.backend.require_tf`) and raises a readable ``ImportError`` when it is
missing.  Modules:

* :mod:`tfref.backend` — importing TF, thread/determinism settings, ``keras_floatx``;
* :mod:`tfref.convert` — :func:`to_keras`, :func:`from_keras`, :func:`keras_loss`;
* :mod:`tfref.keras_model` — a user's Keras model's loss, optimizer, state and metrics in
  scratchnn's terms (used by :func:`from_keras`), and the data of the ``--keras-model`` report;
* :mod:`tfref.forward` — every intermediate of a forward pass on both sides;
* :mod:`tfref.gradients` — :func:`gradients` (``tf.GradientTape`` as in ``fit``) and
  :func:`loss_and_grad` (plain and fused loss paths);
* :mod:`tfref.optim` — :func:`optimizer` and a same-gradients harness;
* :mod:`tfref.training` — :func:`fit_like`: both ``fit`` loops in lockstep;
* :mod:`tfref.compare` — :func:`compare`, :func:`assert_close` (the error measures);
* :mod:`tfref.report` — tolerances and the ``scratchnn parity`` reports (:func:`run_report`,
  :func:`run_keras_report`).

The places where an exact match is impossible, and why, are documented in those modules and
collected in ``docs/parity.md``.
"""

from .backend import configure, keras_floatx, require_tf
from .compare import Diff, ParityError, assert_close, compare
from .convert import from_keras, keras_loss, to_keras
from .forward import keras_trace, scratchnn_trace
from .gradients import gradients, loss_and_grad
from .optim import from_keras_optimizer, optimizer, run_optimizers
from .report import TOLERANCES, Report, run_keras_report, run_report, tolerance
from .training import FitComparison, fit_like, weight_diff

__all__ = [
    "TOLERANCES",
    "Diff",
    "FitComparison",
    "ParityError",
    "Report",
    "assert_close",
    "compare",
    "configure",
    "fit_like",
    "from_keras",
    "from_keras_optimizer",
    "gradients",
    "keras_floatx",
    "keras_loss",
    "keras_trace",
    "loss_and_grad",
    "optimizer",
    "require_tf",
    "run_keras_report",
    "run_optimizers",
    "run_report",
    "scratchnn_trace",
    "to_keras",
    "tolerance",
    "weight_diff",
]
