"""Converting models, losses and metrics between scratchnn and Keras.

* :func:`to_keras` — the Keras ``Sequential`` equivalent of a scratchnn model: same layers in
  the same order, same activations, same dtype, and a copy of the current weights (so the two
  never depend on matching random number generators).  If the scratchnn model is compiled,
  the Keras model is compiled with the equivalent loss, optimizer and metrics.
* :func:`from_keras` — the reverse, for any Keras Sequential of the supported layers (nested
  Sequential models included), with its compile settings and trained optimizer state (see
  :mod:`tfref.keras_model`).
* :func:`keras_loss` — the Keras loss object with the same semantics (and options) as a
  scratchnn loss, built with ``dtype=`` the model's dtype (see :mod:`tfref.backend` for why
  that matters).

Weights are copied, not shared: later training of one model does not affect the other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import scratchnn
from scratchnn import layers as snn_layers
from scratchnn import losses as snn_losses
from scratchnn import regularizers as snn_regularizers

from .backend import dtype_name, keras_floatx, require_tf
from .keras_model import (
    LOSS_NAMES,
    copy_optimizer_state,
    metric_names,
    scratchnn_loss,
    scratchnn_optimizer,
)
from .optim import optimizer

_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "softplus",
                "softsign", "silu", "leaky_relu", "relu6", "hard_sigmoid", "hard_silu",
                "exponential", "mish", "log_softmax")


def keras_loss(loss, dtype="float32"):
    """The Keras loss with the semantics of scratchnn ``loss`` (an instance or a name).

    Parameters
    ----------
    loss : scratchnn ``Loss``, a loss name ('categorical_crossentropy', 'mse', ...), or a Keras
        loss (returned unchanged).
    dtype : dtype in which Keras evaluates the loss; pass the model's dtype.  (A Keras loss
        built without it converts predictions to ``floatx``, which for a float64 model both
        rounds them and disables the fused softmax path.)
    """
    _, keras = require_tf()
    if isinstance(loss, keras.losses.Loss):
        return loss
    ours = snn_losses.get(loss)
    keras_name = LOSS_NAMES.get(ours.name)
    if keras_name is None or type(ours) is not type(snn_losses.get(ours.name)):
        raise ValueError(f"no Keras equivalent known for loss {ours!r}")
    return getattr(keras.losses, keras_name)(**ours.get_config(), dtype=dtype_name(dtype))


def _activation_name(activation) -> str:
    """Keras's name for a built-in scratchnn activation; custom ones have no equivalent."""
    name = getattr(activation, "name", None)
    if name in _ACTIVATIONS and type(activation) is type(scratchnn.activations.get(name)):
        return scratchnn.activations.serialize(activation)  # refuses non-default parameters
    raise ValueError(f"custom activation {activation!r} has no Keras equivalent")


_REGULARIZER_KEYS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer")


def _keras_regularizers(layer) -> dict:
    """A scratchnn Dense's regularizers as Keras objects (same class and factors)."""
    _, keras = require_tf()
    specs = {key: snn_regularizers.serialize(getattr(layer, key)) for key in _REGULARIZER_KEYS}
    return {key: None if spec is None else keras.regularizers.get(spec)
            for key, spec in specs.items()}


def _scratchnn_regularizers(layer) -> dict:
    """A Keras Dense's L1/L2/L1L2 regularizers as scratchnn ones; others are refused."""
    _, keras = require_tf()
    result = {}
    for key in _REGULARIZER_KEYS:
        reg = getattr(layer, key)
        if reg is not None and type(reg) not in (keras.regularizers.L1, keras.regularizers.L2,
                                                 keras.regularizers.L1L2):
            raise ValueError(f"{layer.name}.{key} {reg!r} has no scratchnn equivalent")
        result[key] = None if reg is None else snn_regularizers.get(
            keras.regularizers.serialize(reg))
    return result


def to_keras(model: scratchnn.Sequential, compile: bool | None = None):
    """Build the Keras model equivalent to scratchnn ``model``, with a copy of its weights.

    Parameters
    ----------
    model : a built scratchnn ``Sequential`` of ``Flatten``/``Dense``/``Activation`` layers.
    compile : compile the Keras model with the equivalent loss, optimizer and (string) metrics.
        Default: when ``model`` is compiled.  The Keras optimizer starts fresh (iteration 0,
        zero moments) whatever the state of ``model.optimizer``.

    Returns
    -------
    keras.Sequential
        Input shape ``model.input_shape``, every layer's dtype ``model.dtype``, the same layer
        names, ``get_weights()`` equal to ``model.get_weights()``.
    """
    _, keras = require_tf()
    model.require_built()
    dtype = dtype_name(model.dtype)
    if compile is None:
        compile = model.compiled
    with keras_floatx(dtype):
        kl = [keras.Input(shape=tuple(model.input_shape[1:]), dtype=dtype)]
        for layer in model.layers:
            if type(layer) is snn_layers.Dense:
                kl.append(keras.layers.Dense(
                    layer.units, activation=_activation_name(layer.activation),
                    use_bias=layer.use_bias, name=layer.name, dtype=dtype,
                    **_keras_regularizers(layer)))
            elif type(layer) is snn_layers.Flatten:
                kl.append(keras.layers.Flatten(name=layer.name, dtype=dtype))
            elif type(layer) is snn_layers.Activation:
                kl.append(keras.layers.Activation(_activation_name(layer.activation),
                                                  name=layer.name, dtype=dtype))
            else:
                kl.append(_toolbox_to_keras(layer, keras, dtype))
        keras_model = keras.Sequential(kl, name=model.name)
        keras_model.set_weights(model.get_weights())
        if compile:
            if not model.compiled:
                raise ValueError("compile=True needs a compiled scratchnn model")
            metrics = model.metric_specs
            if any(not isinstance(m, str) for m in metrics):
                raise ValueError("only metrics given by name can be carried over to Keras")
            keras_model.compile(optimizer=optimizer(model.optimizer, dtype),
                                loss=keras_loss(model.loss, dtype), metrics=metrics)
    return keras_model


def from_keras(keras_model, metrics: Sequence[str] | None = None,
               optimizer_state: bool = True) -> scratchnn.Sequential:
    """Build the scratchnn model equivalent to a Keras ``Sequential``, with a copy of its weights.

    Parameters
    ----------
    keras_model : a built ``keras.Sequential`` (any, e.g. from ``keras.models.load_model``) of
        ``InputLayer``, ``Dense`` (any scratchnn activation, ``use_bias``, L1/L2/L1L2 kernel,
        bias and activity regularizers), ``Flatten``, ``Dropout``, ``BatchNormalization``,
        ``LayerNormalization``, ``Activation``, ``Softmax``, ``ReLU``, ``LeakyReLU`` and nested
        ``Sequential`` models of these (nested in scratchnn too).
    metrics : metric names for ``compile``; default: the names Keras was compiled with.
    optimizer_state : when Keras's optimizer has taken steps, copy its step count and slots
        (:func:`tfref.keras_model.copy_optimizer_state`).

    Returns
    -------
    scratchnn.Sequential
        Same layer names and order, dtype of the Keras weights, ``get_weights()`` equal to
        Keras's.  When ``keras_model`` is compiled, compiled with the equivalent loss
        (:func:`tfref.keras_model.scratchnn_loss`) and optimizer
        (:func:`tfref.keras_model.scratchnn_optimizer`).

    Raises
    ------
    ValueError
        naming the layer, loss, optimizer or option that scratchnn does not have.
    """
    _, keras = require_tf()
    if not isinstance(keras_model, keras.Sequential):
        raise TypeError(f"from_keras expects a keras.Sequential, got {type(keras_model).__name__}")
    dtypes = {dtype_name(v.dtype) for v in keras_model.weights} or {"float32"}
    if len(dtypes) != 1:
        raise ValueError(f"the Keras model mixes dtypes {sorted(dtypes)}")
    model = _sequential_from_keras(keras_model, keras, dtypes.pop())
    model.set_weights([np.asarray(w) for w in keras_model.get_weights()])
    if getattr(keras_model, "compiled", False) and keras_model.optimizer is not None:
        model.compile(optimizer=scratchnn_optimizer(keras_model.optimizer),
                      loss=scratchnn_loss(keras_model.loss),
                      metrics=list(metric_names(keras_model) if metrics is None else metrics))
        if optimizer_state:
            copy_optimizer_state(keras_model.optimizer, keras_model, model)
    return model


def _sequential_from_keras(keras_model, keras, dtype: str) -> scratchnn.Sequential:
    """The (built) scratchnn Sequential of a Keras Sequential's layers, nested ones included."""
    if not keras_model.built or not keras_model.inputs:
        raise ValueError(f"the Keras model {keras_model.name!r} must be built with a known input "
                         "shape (start it with keras.Input(shape))")
    in_shape = tuple(int(s) for s in keras_model.inputs[0].shape[1:])
    ours: list = [snn_layers.Input(in_shape)]
    for layer in keras_model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if type(layer) is keras.Sequential:
            ours.append(_sequential_from_keras(layer, keras, dtype))
        else:
            ours.append(_layer_from_keras(layer, keras))
    model = scratchnn.Sequential(ours, name=keras_model.name, dtype=dtype)
    model.build()
    return model


def _keras_activation(layer, keras) -> str:
    act = keras.activations.serialize(layer.activation)
    if act not in _ACTIVATIONS:
        raise ValueError(f"{type(layer).__name__} layer {layer.name!r} has unsupported "
                         f"activation {act!r}")
    return act


def _layer_from_keras(layer, keras):
    """The scratchnn layer for one (non-Sequential) Keras layer."""
    if type(layer) is keras.layers.Dense:
        for key in ("kernel_constraint", "bias_constraint"):
            if getattr(layer, key, None) is not None:
                raise ValueError(f"Dense layer {layer.name!r}: {key} has no scratchnn equivalent")
        return snn_layers.Dense(layer.units, activation=_keras_activation(layer, keras),
                                use_bias=layer.use_bias, name=layer.name,
                                **_scratchnn_regularizers(layer))
    if type(layer) is keras.layers.Flatten:
        return snn_layers.Flatten(name=layer.name)
    if type(layer) is keras.layers.Activation:
        return snn_layers.Activation(_keras_activation(layer, keras), name=layer.name)
    return _toolbox_from_keras(layer, keras)


# -- the dropout, normalization and activation layers -------------------------------------------
#: scratchnn layer class -> (Keras class name, the config keys both take alike).
_TOOLBOX = {
    snn_layers.BatchNormalization: ("BatchNormalization", (
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer")),
    snn_layers.LayerNormalization: ("LayerNormalization", (
        "axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer")),
    snn_layers.Dropout: ("Dropout", ("rate", "noise_shape", "seed")),
    snn_layers.Softmax: ("Softmax", ("axis",)),
    snn_layers.ReLU: ("ReLU", ("max_value", "negative_slope", "threshold")),
    snn_layers.LeakyReLU: ("LeakyReLU", ("negative_slope",)),
}
_FIXED_MASK_DROPOUT: dict = {}


def fixed_mask_dropout(rate: float, mask, name: str | None = None, dtype=None):
    """A Keras layer applying the given keep ``mask`` (boolean, broadcastable to its input) with
    TF's dropout formula, ``where(mask, x * (1/(1-rate)), 0)`` (``tf.nn.experimental.
    stateless_dropout``'s op order), in training mode; the identity in inference.  Lets a
    Keras model use exactly the mask a scratchnn ``Dropout`` drew (its ``fixed_mask``)."""
    tf, keras = require_tf()
    if "cls" not in _FIXED_MASK_DROPOUT:
        class FixedMaskDropout(keras.layers.Layer):
            def __init__(self, rate, mask, **kwargs):
                super().__init__(**kwargs)
                self.rate, self.keep = float(rate), np.asarray(mask, dtype=bool)

            def call(self, inputs, training=None):
                if not training or self.rate == 0.0:
                    return inputs
                scale = tf.constant(1 / (1 - self.rate), dtype=inputs.dtype)
                return tf.where(tf.constant(self.keep), inputs * scale,
                                tf.zeros((), dtype=inputs.dtype))

        _FIXED_MASK_DROPOUT["cls"] = FixedMaskDropout
    return _FIXED_MASK_DROPOUT["cls"](rate, mask, name=name, dtype=dtype)


def _toolbox_to_keras(layer, keras, dtype: str):
    """The Keras layer for a scratchnn Dropout/normalization/activation layer (a Dropout with
    ``fixed_mask`` set becomes :func:`fixed_mask_dropout`)."""
    if type(layer) not in _TOOLBOX:
        raise ValueError(f"layer {layer!r} has no Keras equivalent in tfref")
    if type(layer) is snn_layers.Dropout and layer.fixed_mask is not None:
        return fixed_mask_dropout(layer.rate, layer.fixed_mask, name=layer.name, dtype=dtype)
    keras_name, keys = _TOOLBOX[type(layer)]
    config = layer.get_config()
    return getattr(keras.layers, keras_name)(**{k: config[k] for k in keys}, name=layer.name,
                                             dtype=dtype)


def _toolbox_from_keras(layer, keras):
    """The scratchnn layer for a Keras Dropout/normalization/activation layer."""
    for ours, (keras_name, keys) in _TOOLBOX.items():
        if type(layer) is getattr(keras.layers, keras_name):
            config = layer.get_config()
            args = {k: config[k] for k in keys if not k.endswith("initializer")}
            if isinstance(args.get("axis"), (list, tuple)):
                if len(args["axis"]) != 1:
                    raise ValueError(f"{keras_name} {layer.name!r}: only one axis is supported")
                args["axis"] = args["axis"][0]
            if isinstance(args.get("noise_shape"), list):
                args["noise_shape"] = tuple(args["noise_shape"])
            if config.get("rms_scaling") or config.get("renorm") or config.get("synchronized"):
                raise ValueError(f"{keras_name} {layer.name!r}: options without a scratchnn "
                                 "equivalent")
            return ours(**args, name=layer.name)
    raise ValueError(f"Keras layer {layer.name!r} ({type(layer).__name__}) has no "
                     "scratchnn equivalent in tfref")
