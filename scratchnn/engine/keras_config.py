"""Keras 3 ``config.json`` <-> scratchnn configs: pure dict translation, no TensorFlow.

A Keras object is serialized as ``{"module", "class_name", "config", "registered_name"}``
(layers add ``build_config``; the model adds ``compile_config``).  :func:`model_from_keras`
turns such a description of a ``Sequential`` into the ``{"name", "dtype", "input_shape",
"layers"}`` dict that ``Sequential.from_config`` takes, and :func:`compile_from_keras` the
``compile_config`` into ``Sequential.compile_from_config``'s; :func:`model_to_keras` and
:func:`compile_to_keras` go the other way, in the installed Keras's exact schema.

Untrusted input: every key is checked.  A Keras option that scratchnn does not implement is
accepted only at its default value (``kernel_constraint: null``, ``renorm: false``, ...);
anything else raises :class:`KerasConfigError` naming the JSON path
(``config.layers[2].config.renorm``) and the value.  Names: Keras writes classes in CamelCase
(``GlorotUniform``), scratchnn registers snake_case names (``glorot_uniform``).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from scratchnn import initializers, layers, losses, optimizers
from scratchnn.registry import Registry

__all__ = ["KerasConfigError", "compile_from_keras", "compile_to_keras", "model_from_keras",
           "model_to_keras", "snake_case"]

#: Keras options scratchnn lacks, accepted at these (Keras's default) values only.
IGNORED_AT_DEFAULT: dict[str, Any] = {
    "trainable": True, "kernel_constraint": None, "bias_constraint": None,
    "beta_constraint": None, "gamma_constraint": None, "beta_regularizer": None,
    "gamma_regularizer": None, "quantization_config": None, "lora_rank": None,
    "data_format": "channels_last", "synchronized": False, "renorm": False,
    "renorm_clipping": None, "rms_scaling": False, "activity_regularizer": None,
    "sparse": False, "ragged": False, "optional": False, "input_axes": None,
    "output_axes": None, "use_ema": False, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
    "reduction": "sum_over_batch_size", "jit_compile": False, "run_eagerly": False,
    "steps_per_execution": 1, "loss_weights": None, "label_smoothing": 0.0, "axis": -1,
    "ignore_class": None, "seed": None,
}
#: Keras options whose value does not matter when the option above is at its default.
IGNORED_ANY = {"renorm_momentum", "ema_momentum", "lora_alpha", "name", "dtype"}
INITIALIZER_KEYS = ("kernel_initializer", "bias_initializer", "beta_initializer",
                    "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer")
REGULARIZER_KEYS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
SUPPORTED_DTYPES = ("float32", "float64")
LOSS_CLASSES = {"categorical_crossentropy": "CategoricalCrossentropy",
                "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
                "binary_crossentropy": "BinaryCrossentropy", "mean_squared_error":
                "MeanSquaredError", "mean_absolute_error": "MeanAbsoluteError",
                "huber": "Huber", "kl_divergence": "KLDivergence"}
OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
                     "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax",
                     "nadam": "Nadam"}


class KerasConfigError(ValueError):
    """A Keras description scratchnn cannot represent; the message names the JSON path."""


def snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case``: ``"LeakyReLU"`` -> ``"leaky_re_lu"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _fail(where: str, message: str):
    raise KerasConfigError(f"{where}: {message}")


def _obj(spec: Any, where: str) -> tuple[str, dict]:
    """``(class_name, config)`` of a serialized Keras object, checked."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        _fail(where, f"expected a Keras object {{'class_name', 'config'}}, got {spec!r:.80}")
    config = spec.get("config", {})
    if not isinstance(config, dict):
        _fail(f"{where}.config", f"expected an object, got {config!r:.80}")
    return spec["class_name"], config


def policy_dtype(value: Any, where: str) -> str | None:
    """The dtype name of a Keras ``dtype`` entry (a string or a ``DTypePolicy``)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = _obj(value, where)[1].get("name")
    if value not in SUPPORTED_DTYPES:
        _fail(where, f"unsupported dtype {value!r} (supported: {', '.join(SUPPORTED_DTYPES)})")
    return value


def _accepted(registry: Registry, name: str, where: str) -> set[str]:
    """The keyword arguments of the class ``registry`` holds under ``name`` (its bases' too
    while it passes ``**options`` on); an unknown name fails, naming it."""
    if name not in registry:
        _fail(where, f"unsupported {registry.kind} {name!r} (supported: "
              f"{', '.join(registry.names())})")
    entry, keys = registry.lookup(name), set()
    for cls in (entry.__mro__ if isinstance(entry, type) else ()):
        if "__init__" not in vars(cls):
            continue
        params = inspect.signature(cls.__init__).parameters.values()
        keys |= {p.name for p in params if p.kind is p.KEYWORD_ONLY
                 or p.kind is p.POSITIONAL_OR_KEYWORD} - {"self"}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return keys


def _check_ignored(config: dict, accepted: set[str], where: str) -> dict:
    """The entries of ``config`` scratchnn accepts; every other one must be an option
    scratchnn lacks at its Keras default, else it fails, naming it."""
    kept = {}
    for key, value in config.items():
        if key in accepted:
            kept[key] = value
        elif key in IGNORED_ANY:
            continue
        elif key not in IGNORED_AT_DEFAULT:
            _fail(f"{where}.{key}", f"unsupported option {key}={value!r:.80}")
        elif value != IGNORED_AT_DEFAULT[key]:
            _fail(f"{where}.{key}", f"unsupported option {key}={value!r:.80} (scratchnn "
                  f"supports only {IGNORED_AT_DEFAULT[key]!r})")
    return kept


def _initializer(spec: Any, where: str) -> Any:
    if isinstance(spec, str) or spec is None:
        return spec
    class_name, config = _obj(spec, where)
    name = snake_case(class_name)
    accepted = _accepted(initializers.INITIALIZERS, name, f"{where}.class_name")
    return {"name": name, "config": _check_ignored(config, accepted, f"{where}.config")}


def _regularizer(spec: Any, where: str) -> Any:
    if spec is None or isinstance(spec, str):
        return spec
    class_name, config = _obj(spec, where)
    return {"class_name": class_name, "config": config}


def _activation(spec: Any, where: str) -> Any:
    if isinstance(spec, dict):  # {"class_name": "function", "config": "relu"} and the like
        config = spec.get("config")
        if isinstance(config, str):
            return config
        _fail(where, f"unsupported activation {spec!r:.80}")
    return spec


def _layer_from_keras(spec: Any, where: str, dtype: str | None) -> dict:
    """scratchnn's ``{"class_name", "config"}`` of one Keras layer (nested Sequential too)."""
    class_name, config = _obj(spec, where)
    if class_name == "Sequential":
        return {"class_name": "Sequential", "config": _sequential(config, f"{where}.config",
                                                                   dtype)}
    layer_dtype = policy_dtype(config.get("dtype"), f"{where}.config.dtype")
    if dtype is not None and layer_dtype not in (None, dtype):
        _fail(f"{where}.config.dtype", f"layer dtype {layer_dtype} differs from the model's "
              f"{dtype} (mixed dtypes are not supported)")
    accepted = _accepted(layers.LAYERS, class_name, f"{where}.class_name")
    out = _check_ignored(config, accepted, f"{where}.config")
    for key in INITIALIZER_KEYS:
        if key in out:
            out[key] = _initializer(out[key], f"{where}.config.{key}")
    for key in REGULARIZER_KEYS:
        if key in out:
            out[key] = _regularizer(out[key], f"{where}.config.{key}")
    if "activation" in out:
        out["activation"] = _activation(out["activation"], f"{where}.config.activation")
    if class_name in ("LayerNormalization",) and isinstance(out.get("axis"), list):
        if len(out["axis"]) != 1:
            _fail(f"{where}.config.axis", f"unsupported axis {out['axis']!r}")
        out["axis"] = out["axis"][0]
    return {"class_name": class_name, "config": out}


def _input_shape(shape: Any, where: str) -> list[int]:
    if not isinstance(shape, list) or not shape or shape[0] is not None or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape[1:]):
        _fail(where, f"expected a batch shape [null, d1, ...] of positive ints, got "
              f"{shape!r:.80}")
    return shape[1:]


def _sequential(config: dict, where: str, dtype: str | None) -> dict:
    """scratchnn's Sequential config of a Keras Sequential ``config``; ``dtype`` is the
    layers' (a Keras Sequential's own policy is that of its creation, not its layers')."""
    own = dtype or policy_dtype(config.get("dtype"), f"{where}.dtype")
    policy_dtype(config.get("dtype"), f"{where}.dtype")
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        _fail(f"{where}.layers", "expected a non-empty list of layers")
    input_shape, entries = None, []
    for i, spec in enumerate(layers):
        if isinstance(spec, dict) and spec.get("class_name") == "InputLayer":
            if i != 0:
                _fail(f"{where}.layers[{i}]", "InputLayer must be the first layer")
            input_config = _obj(spec, f"{where}.layers[{i}]")[1]
            shape = input_config.get("batch_shape", input_config.get("batch_input_shape"))
            input_shape = _input_shape(shape, f"{where}.layers[{i}].config.batch_shape")
            continue
        entries.append(_layer_from_keras(spec, f"{where}.layers[{i}]", own))
    if input_shape is None and config.get("build_input_shape") is not None:
        input_shape = _input_shape(config["build_input_shape"], f"{where}.build_input_shape")
    return {"name": config.get("name"), "dtype": own, "input_shape": input_shape,
            "layers": entries}


def _first_layer_dtype(config: dict, where: str) -> str | None:
    """The dtype of the first layer (nested models searched) that names one."""
    for i, spec in enumerate(config.get("layers") or []):
        if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
            continue
        inner = spec["config"]
        found = (_first_layer_dtype(inner, f"{where}.layers[{i}].config")
                 if spec.get("class_name") == "Sequential"
                 else policy_dtype(inner.get("dtype"), f"{where}.layers[{i}].config.dtype"))
        if found is not None:
            return found
    return None


def model_from_keras(description: Any) -> dict:
    """scratchnn's ``Sequential.from_config`` dict of a Keras ``config.json`` document."""
    class_name, config = _obj(description, "config")
    if class_name != "Sequential":
        _fail("config.class_name", f"unsupported model class {class_name!r} (only "
              f"Sequential models are supported)")
    model = _sequential(config, "config.config", _first_layer_dtype(config, "config.config"))
    if model["dtype"] is None:
        model["dtype"] = "float32"
    if model["input_shape"] is None:
        build = description.get("build_config") or {}
        if build.get("input_shape") is not None:
            model["input_shape"] = _input_shape(build["input_shape"],
                                                "config.build_config.input_shape")
    return model


# -- compile settings ---------------------------------------------------------------------------
def _schedule(spec: Any, where: str) -> Any:
    if not isinstance(spec, dict):
        return spec
    class_name, config = _obj(spec, where)
    return {"class_name": class_name, "config": dict(config)}


def _optimizer(spec: Any, where: str) -> Any:
    if isinstance(spec, str):
        return spec
    class_name, config = _obj(spec, where)
    accepted = _accepted(optimizers.OPTIMIZERS, class_name.lower(), f"{where}.class_name")
    out = _check_ignored(config, accepted, f"{where}.config")
    if "learning_rate" in out:
        out["learning_rate"] = _schedule(out["learning_rate"], f"{where}.config.learning_rate")
    return {"name": class_name.lower(), "config": out}


def _loss(spec: Any, where: str) -> Any:
    if isinstance(spec, str) or spec is None:
        return spec
    if isinstance(spec, (list, dict)) and not (isinstance(spec, dict) and "class_name" in spec):
        _fail(where, f"unsupported loss {spec!r:.80} (one loss for one output)")
    class_name, config = _obj(spec, where)
    name = snake_case(class_name)
    accepted = _accepted(losses.LOSSES, name, f"{where}.class_name")
    return {"name": name, "config": _check_ignored(config, accepted, f"{where}.config")}


def _metrics(spec: Any, where: str) -> list:
    if spec is None:
        return []
    if not isinstance(spec, list) or not all(isinstance(m, str) for m in spec):
        _fail(where, f"unsupported metrics {spec!r:.80} (a list of metric names)")
    return list(spec)


def compile_from_keras(compile_config: Any) -> dict | None:
    """``Sequential.compile_from_config``'s dict of a Keras ``compile_config`` (None: none)."""
    if not compile_config:
        return None
    where = "config.compile_config"
    if not isinstance(compile_config, dict):
        _fail(where, f"expected an object, got {compile_config!r:.80}")
    config = _check_ignored(compile_config, {"optimizer", "loss", "metrics",
                                             "weighted_metrics"}, where)
    if config.get("loss") is None:
        _fail(f"{where}.loss", "the model was compiled without a loss")
    return {"optimizer": _optimizer(config.get("optimizer", "rmsprop"), f"{where}.optimizer"),
            "loss": _loss(config["loss"], f"{where}.loss"),
            "metrics": _metrics(config.get("metrics"), f"{where}.metrics"),
            "weighted_metrics": _metrics(config.get("weighted_metrics"),
                                         f"{where}.weighted_metrics")}


# -- scratchnn -> Keras -------------------------------------------------------------------------
def _keras_obj(module: str, class_name: str, config: Any, **extra) -> dict:
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": None, **extra}


def _policy(dtype: str) -> dict:
    return _keras_obj("keras", "DTypePolicy", {"name": dtype})


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _initializer_to_keras(spec: Any) -> Any:
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = {"name": spec, "config": {}}
    return _keras_obj("keras.initializers", _camel(spec["name"]), dict(spec["config"]))


def _layer_to_keras(spec: dict, dtype: str, shape: tuple[int, ...], out_shape) -> dict:
    config = {"name": spec["config"]["name"], "trainable": True, "dtype": _policy(dtype)}
    for key, value in spec["config"].items():
        if key in INITIALIZER_KEYS:
            value = _initializer_to_keras(value)
        elif key in REGULARIZER_KEYS and isinstance(value, dict):
            value = _keras_obj("keras.regularizers", value["class_name"], value["config"])
        config.setdefault(key, value)
    if spec["class_name"] == "LayerNormalization":
        config["axis"] = [config["axis"]] if isinstance(config["axis"], int) else config["axis"]
    return _keras_obj("keras.layers", spec["class_name"], config,
                      build_config={"input_shape": [None, *shape]})


def model_to_keras(model) -> dict:
    """The Keras 3 ``config.json`` document of a built scratchnn ``Sequential``: its config
    plus every entry's output shape, via ``compute_output_shape``."""
    return _sequential_to_keras(model, model.get_config(), model.dtype.name,
                                tuple(model.declared_input_shape), top=True)


def _sequential_to_keras(model, config: dict, dtype: str, shape: tuple[int, ...],
                         top: bool = False) -> dict:
    layers = [_keras_obj("keras.layers", "InputLayer", {
        "batch_shape": [None, *shape], "dtype": dtype, "sparse": False, "ragged": False,
        "name": "input_layer" if top else f"input_layer_{config['name']}", "optional": False})]
    for entry, spec in zip(model.layers, config["layers"]):
        out_shape = tuple(entry.compute_output_shape(shape))
        if spec["class_name"] == "Sequential":
            layers.append(_sequential_to_keras(entry, spec["config"], dtype, shape))
        else:
            layers.append(_layer_to_keras(spec, dtype, shape, out_shape))
        shape = out_shape
    first = layers[0]["config"]["batch_shape"]
    inner = {"name": config["name"], "trainable": True, "dtype": _policy(dtype),
             "layers": layers, "build_input_shape": first}
    return _keras_obj("keras", "Sequential", inner, build_config={"input_shape": first})


def compile_to_keras(compile_config: dict) -> dict:
    """Keras's ``compile_config`` of scratchnn's ``get_compile_config()``."""
    opt = compile_config["optimizer"]
    opt_config = {"name": opt["name"], **opt["config"]}
    lr = opt_config.get("learning_rate")
    if isinstance(lr, dict):
        opt_config["learning_rate"] = _keras_obj("keras.optimizers.schedules",
                                                 lr["class_name"], lr["config"])
    loss = compile_config["loss"]
    if loss["name"] not in LOSS_CLASSES:
        raise KerasConfigError(f"loss {loss['name']!r} has no Keras class")
    return {"optimizer": _keras_obj("keras.optimizers", OPTIMIZER_CLASSES[opt["name"]],
                                    opt_config),
            "loss": _keras_obj("keras.losses", LOSS_CLASSES[loss["name"]], loss["config"]),
            "loss_weights": None, "metrics": list(compile_config.get("metrics", [])),
            "weighted_metrics": compile_config.get("weighted_metrics") or None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
