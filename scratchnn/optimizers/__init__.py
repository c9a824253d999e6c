r"""Optimizers with Keras 3's exact update algebra (``keras/src/optimizers/``), one per module.

* :mod:`~scratchnn.optimizers.base`: :class:`Optimizer` (slots, ``iterations``, the learning
  rate or schedule, and Keras's shared options ``clipnorm`` / ``clipvalue`` /
  ``global_clipnorm`` / ``weight_decay``);
* :mod:`.sgd`, :mod:`.adam` (Adam, AdamW, AMSGrad), :mod:`.rmsprop`, :mod:`.adagrad`,
  :mod:`.adadelta`, :mod:`.adamax`, :mod:`.nadam`: one optimizer family each, with its update
  rule as a plain NumPy function (one operation per Keras operation, in Keras's order, so float32
  rounds exactly as Keras does);
* :mod:`.schedules`: learning-rate schedules (``scratchnn.optimizers.schedules.CosineDecay``).

The engine registers faster drop-ins for :func:`sgd_update`, :func:`momentum_update`,
:func:`nesterov_update` and :func:`adam_update` (``scratchnn/engine/perf.py``: bitwise the same
results, see :mod:`scratchnn.fastpath`); ``scratchnn.config.set_fast_paths(False)`` runs the
plain ones.
"""

from __future__ import annotations

from scratchnn.optimizers import schedules
from scratchnn.optimizers.adadelta import Adadelta, adadelta_update
from scratchnn.optimizers.adagrad import Adagrad, adagrad_update
from scratchnn.optimizers.adam import Adam, AdamW, adam_update, amsgrad_update
from scratchnn.optimizers.adamax import Adamax, adamax_update
from scratchnn.optimizers.base import (
    Optimizer,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    weight_decay_update,
)
from scratchnn.optimizers.nadam import Nadam, nadam_update
from scratchnn.optimizers.rmsprop import RMSprop, rmsprop_update
from scratchnn.optimizers.schedules import LearningRateSchedule
from scratchnn.optimizers.sgd import SGD, momentum_update, nesterov_update, sgd_update
from scratchnn.registry import Registry

__all__ = [
    "OPTIMIZERS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LearningRateSchedule",
    "Nadam", "Optimizer", "RMSprop", "adadelta_update", "adagrad_update", "adam_update",
    "adamax_update", "amsgrad_update", "clip_by_global_norm", "clip_by_norm", "clip_by_value",
    "deserialize", "get", "momentum_update", "nadam_update", "nesterov_update", "rmsprop_update",
    "schedules", "serialize", "sgd_update", "weight_decay_update",
]

# The public path (as before the split; the registry's messages name it).
Optimizer.__module__ = __name__

OPTIMIZERS: Registry[Optimizer] = Registry("optimizer", base=Optimizer)
OPTIMIZERS.add(SGD, "sgd")
OPTIMIZERS.add(Adam, "adam")
OPTIMIZERS.add(AdamW, "adamw")
OPTIMIZERS.add(RMSprop, "rmsprop")
OPTIMIZERS.add(Adagrad, "adagrad")
OPTIMIZERS.add(Adadelta, "adadelta")
OPTIMIZERS.add(Adamax, "adamax")
OPTIMIZERS.add(Nadam, "nadam")


def get(identifier: str | dict | Optimizer) -> Optimizer:
    """Resolve a registered name ('sgd', 'adam', 'rmsprop', ...: Keras defaults) or a spec
    dict; pass an Optimizer through."""
    return OPTIMIZERS.get(identifier)


def serialize(opt: Optimizer) -> dict:
    """``{"name": ..., "config": ...}`` for saving (the slots are saved separately); a
    learning-rate schedule appears in the config as ``{"class_name": ..., "config": ...}``."""
    return OPTIMIZERS.serialize(opt)


def deserialize(spec: dict) -> Optimizer:
    """Inverse of :func:`serialize`."""
    return OPTIMIZERS.deserialize(spec)
