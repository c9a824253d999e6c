"""Saving and loading models: one ``.npz`` file, readable with ``allow_pickle=False``.

The file holds ``__scratchnn__`` (a JSON string: format version, architecture, dtype, compile
settings), ``weight/{i}`` (in ``get_weights()`` order) and ``optimizer/{key}`` (step counter
and slots); :mod:`scratchnn.engine.model_file` describes it exactly.

Writes go through :func:`scratchnn.atomic.atomic_write`: the data goes to a temporary file
``.<name>.<pid>.<hex>.scratchnn-tmp`` in the same folder, is flushed to disk, and only then
replaces the target, so a failed save leaves the previous file intact and nothing
half-written.  A new file gets the umask's permissions (0644 under the usual umask 022, like
``np.savez``); a replaced file keeps its permissions; saving through a symlink replaces the
file it points to (the link stays a link); temporary files left by a killed process are
removed by the next save to the same path.

The file's name picks the format: ``.keras`` is a Keras 3 archive and ``.weights.h5`` Keras's
weights file (:mod:`scratchnn.engine.keras_file`, read and written with h5py, never
TensorFlow); every other name is the native ``.npz`` format described here.

Reads validate the whole description and every array's shape and dtype before allocating
anything (:mod:`scratchnn.engine.model_file`); every damaged or crafted file raises
:class:`ModelFileError` naming the file and the problem.

This module is the file format only: it talks to a model through its public methods
(``get_config`` / ``from_config``, ``get_compile_config`` / ``compile_from_config``,
``get_weights`` / ``set_weights``, ``optimizer.get_state`` / ``set_optimizer_state``) and never
imports the model class: ``Sequential`` registers itself with :func:`register_model_class`.
"""

from __future__ import annotations

import json
import os

import numpy as np

from scratchnn.atomic import atomic_write
from scratchnn.engine import keras_file
from scratchnn.engine.model_file import (
    FORMAT,
    VERSION,
    ModelFile,
    ModelFileError,
    ModelSpec,
    parse_model_spec,
    weights_dtype,
)
from scratchnn.initializers import Zeros

__all__ = ["FORMAT", "VERSION", "ModelFileError", "build_zeroed", "file_format", "load_model",
           "load_weights", "register_model_class", "save_model", "save_weights"]

_model_class: type | None = None  # what load_model builds (set by scratchnn.engine.model)


def register_model_class(cls: type) -> type:
    """Make ``load_model`` build ``cls`` models (through ``cls.from_config``); returns ``cls``,
    so it works as a class decorator."""
    global _model_class
    _model_class = cls
    return cls


def _description_array(description: dict) -> np.ndarray:
    try:
        text = json.dumps(description, allow_nan=True)
    except (TypeError, ValueError) as exc:  # only metadata is free-form
        raise ValueError(f"model.metadata must be JSON-serializable (str keys; str, number, "
                         f"bool, None, list, dict values): {exc}") from exc
    return np.array(text)


def _write_npz(filepath, arrays: dict[str, np.ndarray]) -> None:
    atomic_write(filepath, lambda f: np.savez(f, **arrays))


def file_format(filepath: str | os.PathLike) -> str:
    """``"keras"`` (``*.keras``), ``"keras_weights"`` (``*.weights.h5``), ``"h5"`` (other
    ``*.h5`` / ``*.hdf5``: read as a legacy Keras file when it is HDF5, written as ``.npz``)
    or ``"npz"`` (any other name: the native format), from the name, case-insensitively."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"filepath must be a str or os.PathLike, got {type(filepath).__name__}")
    name = os.fspath(filepath)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    name = name.lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(".weights.h5"):
        return "keras_weights"
    if name.endswith((".h5", ".hdf5")):
        return "h5"
    return "npz"


def save_model(model, filepath: str | os.PathLike) -> None:
    """Write ``model`` (architecture, weights, compile settings, optimizer state) atomically.

    ``model.metadata`` must be a JSON-serializable dict.  See the module docstring for
    permissions, symlinks and temporary files.  A ``.keras`` name writes a Keras 3 archive
    (:func:`scratchnn.engine.keras_file.save_keras`; ``metadata`` is not kept there).
    """
    if file_format(filepath) == "keras":
        keras_file.save_keras(model, filepath)
        return
    model.require_built()
    if not isinstance(model.metadata, dict):
        raise TypeError(f"model.metadata must be a dict, got {type(model.metadata).__name__}")
    description = {"format": FORMAT, "version": VERSION, "kind": "model",
                   "model": model.get_config(), "metadata": model.metadata}
    compile_config = model.get_compile_config()
    if compile_config is not None:
        description["compile"] = compile_config
    arrays = {"__scratchnn__": _description_array(description)}
    for i, w in enumerate(model.get_weights()):
        arrays[f"weight/{i}"] = w
    if model.compiled and model.optimizer.built:
        for key, value in model.optimizer_state().items():  # NumPy, any backend
            arrays[f"optimizer/{key}"] = value
    _write_npz(filepath, arrays)


def _check_capacity(file: ModelFile, spec: ModelSpec) -> None:
    """Fail early, with the sizes, when the description asks for more data than the file has."""
    needed = spec.param_count * spec.dtype.itemsize
    held = sum(file.data_sizes().values())
    if needed > held:
        file.fail(f"the description needs {spec.param_count:,} {spec.dtype.name} weights "
                  f"({needed:,} bytes) but the file holds only {held:,} bytes of arrays")


def _read_optimizer_state(file: ModelFile, spec: ModelSpec) -> dict[str, np.ndarray]:
    state = {key[len("optimizer/"):]: file.read(key) for key in file.keys
             if key.startswith("optimizer/")}
    if state and int(state["iterations"]) < 0:
        file.fail(f"optimizer state is invalid: iterations = {int(state['iterations'])} < 0")
    return state


def _build(spec: ModelSpec, path) -> object:
    """The model ``spec`` describes, built with zero weights (the file's are set next)."""
    try:
        model = build_zeroed(spec.model_config(), spec.input_shape)
    except (TypeError, ValueError) as exc:  # the checks should have caught it already
        raise ModelFileError(f"{path}: invalid model description: {exc}") from exc
    model.metadata = dict(spec.metadata)
    return model


def build_zeroed(config: dict, input_shape=None) -> object:
    """``from_config(config)``, built with zero weights (the file's are set next).

    The layers' initializers are only swapped for zeros during ``build``: loading neither
    spends time on random numbers it would overwrite nor advances the global generator.
    """
    if _model_class is None:
        raise RuntimeError("no model class registered: import scratchnn first")
    model = _model_class.from_config(config)
    saved = [(layer, key, value) for layer in model.leaf_layers()
             for key, value in vars(layer).items() if key.endswith("_initializer")]
    for layer, key, _ in saved:
        setattr(layer, key, Zeros())
    try:
        model.build(input_shape)
    finally:
        for layer, key, value in saved:
            setattr(layer, key, value)
    return model


def load_model(filepath: str | os.PathLike, compile: bool = True):
    """Rebuild a model saved by :func:`save_model` (compiled, with optimizer state).

    Raises ``FileNotFoundError`` when there is no file at ``filepath`` and
    :class:`ModelFileError` (naming the file and the problem) for anything wrong inside it;
    nothing is allocated for the weights until the whole file has been checked.  A ``.keras``
    name reads a Keras 3 archive (:func:`scratchnn.engine.keras_file.load_keras`), an HDF5 file
    named ``.h5``/``.hdf5`` a legacy Keras file
    (:func:`scratchnn.engine.keras_file.load_legacy_h5`).
    """
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {compile!r}")
    if file_format(filepath) == "keras":
        return keras_file.load_keras(filepath, build_zeroed, compile)
    if file_format(filepath) == "h5" and keras_file.is_hdf5(filepath):
        return keras_file.load_legacy_h5(filepath, build_zeroed, compile)
    with ModelFile(filepath) as file:
        if file.description["kind"] != "model":
            file.fail("holds only weights (written by save_weights): build the model and call "
                      "model.load_weights(path)")
        spec = parse_model_spec(file.description, file.path)
        _check_capacity(file, spec)
        expected, optional = spec.expected_entries()
        file.check_entries(expected, optional)
        weights = [file.read(f"weight/{i}") for i in range(len(spec.weight_shapes))]
        state = _read_optimizer_state(file, spec)
    model = _build(spec, file.path)
    model.set_weights(weights)
    if compile and spec.compile is not None:
        model.compile_from_config(spec.compile.config)
        if state:
            model.set_optimizer_state(state)
    return model


def save_weights(model, filepath: str | os.PathLike) -> None:
    """Write only the weights (atomic ``.npz``, same rules as :func:`save_model`; a
    ``.weights.h5`` name writes Keras's weights file)."""
    if file_format(filepath) == "keras_weights":
        keras_file.save_keras_weights(model, filepath)
        return
    weights = model.get_weights()
    description = {"format": FORMAT, "version": VERSION, "kind": "weights",
                   "dtype": model.dtype.name}
    arrays = {"__scratchnn__": _description_array(description)}
    for i, w in enumerate(weights):
        arrays[f"weight/{i}"] = w
    _write_npz(filepath, arrays)


def load_weights(model, filepath: str | os.PathLike) -> None:
    """Load weights saved by :func:`save_weights` or :func:`save_model` into ``model``.

    The stored arrays must match the model's weights in number and shape and be real floats
    (float16/32/64, cast to the model's dtype).  Everything is checked before any weight is
    written, so on error the model is unchanged.  A ``.weights.h5`` or ``.keras`` name reads
    Keras's files (:func:`scratchnn.engine.keras_file.load_keras_weights`).
    """
    if file_format(filepath) in ("keras", "keras_weights"):
        keras_file.load_keras_weights(model, filepath)
        return
    own = model.weights
    with ModelFile(filepath) as file:
        if file.description["kind"] == "weights":
            dtype = weights_dtype(file.description, file.path)
        else:
            dtype = parse_model_spec(file.description, file.path).dtype
        expected = {f"weight/{i}": (w.shape, dtype) for i, w in enumerate(own)}
        file.check_entries(expected, ignore_prefix="optimizer/", target="the model")
        weights = [file.read(key) for key in expected]
    model.set_weights(weights)
