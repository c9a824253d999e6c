"""Keras 3 ``.keras`` archives and ``.weights.h5`` files, read and written without TensorFlow.

A ``.keras`` file is a zip archive of three members (Keras's ``saving_lib``):

* ``config.json``: the model as Keras serializes it (translated by
  :mod:`scratchnn.engine.keras_config`), with its ``compile_config``;
* ``metadata.json``: ``{"keras_version", "date_saved"}``;
* ``model.weights.h5``: an HDF5 file holding every variable under the path of its owner.
  The path of an entry of a ``Sequential`` is ``layers/<snake_case class name>``, with
  ``_1``, ``_2``, ... for the second, third, ... entry of the same class (never the layer's
  name), nested models continuing the path (``layers/sequential/layers/dense``); the
  variables of an owner are the datasets ``<path>/vars/0``, ``1``, ... in the owner's
  order (Dense: kernel, bias; BatchNormalization: gamma, beta, moving_mean,
  moving_variance).  The optimizer's variables are ``optimizer/vars/<i>``: the step counter
  ``iterations`` (int64), the ``learning_rate`` (absent under a schedule), then the
  slots, group by group, variable by variable (:data:`SLOT_GROUPS`: Adam's are
  ``m_0, v_0, m_1, v_1, ...``, then with amsgrad ``v_hat_0, v_hat_1, ...``), and Nadam's
  running product :math:`\\Pi_t` last.

scratchnn keeps one flat slot array per slot name (unless the optimizer needs per-variable
gradients): a Keras slot list maps to it by concatenating the flattened per-variable slots in
the order of the trainable weights, and back by splitting.

``.weights.h5`` (``save_weights``/``load_weights``) is ``model.weights.h5`` on its own.
Everything read is checked (member names, JSON, every dataset's presence, shape and dtype)
before the model is built; a problem raises :class:`ModelFileError` naming the file and the
JSON or HDF5 path.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import os
import zipfile
from collections.abc import Callable

import h5py
import numpy as np

from scratchnn.atomic import atomic_write
from scratchnn.backend import to_numpy
from scratchnn.engine import keras_config
from scratchnn.engine.model_file import ModelFileError

__all__ = ["KERAS_VERSION", "SLOT_GROUPS", "is_hdf5", "load_keras", "load_keras_weights",
           "load_legacy_h5", "save_keras", "save_keras_weights"]

#: The Keras version written to ``metadata.json`` (the schema these files follow).
KERAS_VERSION = "3.15.1"
#: Keras's slot variables per optimizer: groups of scratchnn slot names, interleaved per
#: variable inside a group (a group whose slots the optimizer lacks is left out).
SLOT_GROUPS: dict[str, list[tuple[str, ...]]] = {
    "sgd": [("momentum",)], "adam": [("m", "v"), ("v_hat",)],
    "adamw": [("m", "v"), ("v_hat",)], "rmsprop": [("velocity",), ("momentum",)],
    "adagrad": [("accumulator",)], "adadelta": [("accumulated_grad", "accumulated_delta_var")],
    "adamax": [("m", "u")], "nadam": [("m", "v")]}
MAX_CONFIG_BYTES = 64 * 2**20
WEIGHTS_MEMBER = "model.weights.h5"


# -- paths ---------------------------------------------------------------------------------------
def layer_paths(model, prefix: str = "layers") -> list[tuple[str, object]]:
    """``(HDF5 path, layer)`` of every computing layer of ``model``, as Keras names them."""
    used: dict[str, int] = {}
    paths = []
    for entry in model.layers:
        name = keras_config.snake_case(type(entry).__name__)
        used[name] = used.get(name, -1) + 1
        path = f"{prefix}/{name}" + (f"_{used[name]}" if used[name] else "")
        if hasattr(entry, "leaf_layers"):
            paths += layer_paths(entry, f"{path}/layers")
        else:
            paths.append((path, entry))
    return paths


def _groups(optimizer) -> list[tuple[str, ...]]:
    return [group for group in SLOT_GROUPS.get(optimizer.name, [])
            if all(s in optimizer.slot_names for s in group)]


def nadam_product(beta_1: float, iterations: int, dtype) -> np.generic:
    r"""Nadam's :math:`\Pi_t = \prod_{k=1}^{t}\beta_1(1 - 0.5\cdot0.96^{k})`, in ``dtype``
    and in the order the optimizer accumulates it (what Keras saves as its last variable)."""
    dt = np.dtype(dtype).type
    product = dt(1.0)
    for step in range(iterations):
        mu = dt(1.0) - dt(0.5) * dt(0.96) ** dt(step + 1)
        product = product * dt(beta_1) * mu
    return product


# -- reading -------------------------------------------------------------------------------------
class _Reader:
    """The members of a ``.keras`` archive (or a lone ``.weights.h5``), checked on access."""

    def __init__(self, path: str | os.PathLike, weights_only: bool = False):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"No such file: {self.path!r}")
        self.config = None
        if weights_only:
            data = self._read_bytes()
        else:
            data = self._unzip()
        try:
            self.h5 = h5py.File(io.BytesIO(data), "r")
        except OSError as exc:
            self.fail(f"{'' if weights_only else WEIGHTS_MEMBER + ': '}not an HDF5 file ({exc})")

    def fail(self, message: str):
        raise ModelFileError(f"{self.path}: {message}")

    def _read_bytes(self) -> bytes:
        with open(self.path, "rb") as f:
            return f.read()

    def _unzip(self) -> bytes:
        if not zipfile.is_zipfile(self.path):
            self.fail("not a .keras file (not a zip archive)")
        with zipfile.ZipFile(self.path) as archive:
            names = set(archive.namelist())
            for member in ("config.json", WEIGHTS_MEMBER):
                if member not in names:
                    self.fail(f"the archive has no {member}")
            if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                self.fail("config.json is too large")
            try:
                self.config = json.loads(archive.read("config.json"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                self.fail(f"config.json is not valid JSON: {exc}")
            return archive.read(WEIGHTS_MEMBER)

    def array(self, path: str, shape: tuple[int, ...], kinds: str = "f") -> np.ndarray:
        """The dataset at ``path``, checked to have ``shape`` and a dtype of ``kinds``."""
        item = self.h5.get(path)
        if not isinstance(item, h5py.Dataset):
            self.fail(f"{WEIGHTS_MEMBER}: missing weight {path}")
        if item.shape != tuple(shape) or item.dtype.kind not in kinds:
            self.fail(f"{WEIGHTS_MEMBER}: {path} has shape {item.shape} {item.dtype}, "
                      f"expected {tuple(shape)}")
        return item[()]

    def count(self, group: str) -> int:
        item = self.h5.get(group)
        return len(item) if isinstance(item, h5py.Group) else 0

    def close(self) -> None:
        self.h5.close()


def _read_weights(reader: _Reader, model) -> list[np.ndarray]:
    """Every weight of ``model`` from the file, in ``model.weights`` order, checked."""
    weights = []
    for path, layer in layer_paths(model):
        own = layer.weights
        if reader.count(f"{path}/vars") != len(own):
            reader.fail(f"{WEIGHTS_MEMBER}: {path}/vars holds {reader.count(f'{path}/vars')} "
                        f"weights, layer {layer.name!r} has {len(own)}")
        weights += [reader.array(f"{path}/vars/{i}", w.shape) for i, w in enumerate(own)]
    return weights


def _read_optimizer_state(reader: _Reader, model) -> dict[str, np.ndarray] | None:
    """scratchnn's optimizer state from ``optimizer/vars`` (None when Keras saved none)."""
    optimizer, trainable = model.optimizer, model.trainable_weights
    head = 1 if optimizer.schedule is not None else 2
    groups = _groups(optimizer)
    slots = [(name, i) for group in groups for i in range(len(trainable)) for name in group]
    extra = 1 if optimizer.name == "nadam" else 0
    held, expected = reader.count("optimizer/vars"), head + len(slots) + extra
    if held < expected and held <= head:  # the optimizer was never built: no state
        return None
    if held != expected:
        reader.fail(f"{WEIGHTS_MEMBER}: optimizer/vars holds {held} variables, a "
                    f"{type(optimizer).__name__} for these weights has {expected}")
    iterations = reader.array("optimizer/vars/0", (), "iu")
    if int(iterations) < 0:
        reader.fail(f"{WEIGHTS_MEMBER}: optimizer iterations = {int(iterations)} < 0")
    values = {(name, i): reader.array(f"optimizer/vars/{head + k}", trainable[i].shape)
              for k, (name, i) in enumerate(slots)}
    state = {"iterations": np.array(int(iterations), dtype=np.int64)}
    names = [name for group in groups for name in group]
    for name in names:
        if optimizer.needs_per_variable_gradients:
            state.update({f"{i}/{name}": values[name, i] for i in range(len(trainable))})
        else:
            state[f"0/{name}"] = np.concatenate([values[name, i].ravel()
                                                 for i in range(len(trainable))])
    return state


def load_keras(filepath: str | os.PathLike, build: Callable[[dict], object],
               compile: bool = True):
    """The scratchnn ``Sequential`` a Keras 3 ``.keras`` archive describes.

    ``build(config)`` makes the built model from a ``Sequential.from_config`` dict (the
    caller, :mod:`scratchnn.engine.saving`, owns the model class).  Weights are set, the
    model compiled from the file's ``compile_config`` and the optimizer state restored when
    the file holds them; every part is checked before the model is touched.
    """
    reader = _Reader(filepath)
    try:
        try:
            config = keras_config.model_from_keras(reader.config)
            compile_config = keras_config.compile_from_keras(reader.config.get("compile_config"))
        except keras_config.KerasConfigError as exc:
            reader.fail(str(exc))
        try:
            model = build(config)
        except (TypeError, ValueError) as exc:
            reader.fail(f"config.json: invalid model: {exc}")
        model.set_weights(_read_weights(reader, model))
        if compile and compile_config is not None:
            try:
                model.compile_from_config(compile_config)
            except (TypeError, ValueError) as exc:
                reader.fail(f"config.json: config.compile_config: {exc}")
            state = _read_optimizer_state(reader, model)
            if state is not None:
                model.set_optimizer_state(state)
        return model
    finally:
        reader.close()


def load_keras_weights(model, filepath: str | os.PathLike) -> None:
    """Load a Keras ``.weights.h5`` (or a ``.keras`` archive's weights) into ``model``;
    everything is checked first, so on error the model is unchanged."""
    model.require_built()
    reader = _Reader(filepath, weights_only=not zipfile.is_zipfile(filepath))
    try:
        model.set_weights(_read_weights(reader, model))
    finally:
        reader.close()


# -- legacy full-model .h5 (Keras's legacy_h5_format) -------------------------------------------
def _legacy_json(path: str, h5: h5py.File, key: str):
    value = h5.attrs.get(key)
    if value is None:
        return None
    try:
        return json.loads(value.decode() if isinstance(value, bytes) else value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: attribute {key} is not valid JSON: {exc}") from exc


def _legacy_weights(path: str, h5: h5py.File, model) -> list[np.ndarray]:
    """``model_weights/<entry name>``: each top-level entry's weights (a nested model's
    leaves together), listed by the group's ``weight_names`` attribute."""
    weights = []
    for entry in model.layers:
        own = [w for leaf in (entry.leaf_layers() if hasattr(entry, "leaf_layers") else [entry])
               for w in leaf.weights]
        group = h5.get(f"model_weights/{entry.name}")
        names = [] if group is None else list(group.attrs.get("weight_names", []))
        if len(names) != len(own):
            raise ModelFileError(f"{path}: model_weights/{entry.name} lists {len(names)} "
                                 f"weights, layer {entry.name!r} has {len(own)}")
        for name, w in zip(names, own):
            name = name.decode() if isinstance(name, bytes) else str(name)
            item = group.get(name)
            if not isinstance(item, h5py.Dataset) or item.shape != w.shape \
                    or item.dtype.kind != "f":
                found = "missing" if not isinstance(item, h5py.Dataset) else item.shape
                raise ModelFileError(f"{path}: model_weights/{entry.name}/{name}: {found}, "
                                     f"expected {w.shape}")
            weights.append(item[()])
    return weights


def load_legacy_h5(filepath: str | os.PathLike, build: Callable[[dict], object],
                   compile: bool = True):
    """The model in a legacy full-model Keras ``.h5`` file (``model.save("m.h5")``): the
    ``model_config`` and ``training_config`` attributes (the same schema as ``config.json``)
    and ``model_weights``; the optimizer's weights in such a file are not read (a fresh
    optimizer)."""
    path = os.fspath(filepath)
    with h5py.File(path, "r") as h5:
        try:
            config = keras_config.model_from_keras(_legacy_json(path, h5, "model_config"))
            training = _legacy_json(path, h5, "training_config") or {}
            if not isinstance(training, dict):
                raise keras_config.KerasConfigError(f"training_config: {training!r:.80}")
            training = dict(training)
            if "optimizer_config" in training:
                training["optimizer"] = training.pop("optimizer_config")
            compile_config = keras_config.compile_from_keras(training)
        except keras_config.KerasConfigError as exc:
            raise ModelFileError(f"{path}: {exc}") from exc
        try:
            model = build(config)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: invalid model: {exc}") from exc
        model.set_weights(_legacy_weights(path, h5, model))
    if compile and compile_config is not None:
        try:
            model.compile_from_config(compile_config)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: training_config: {exc}") from exc
    return model


# -- writing -------------------------------------------------------------------------------------
def _write_weights(h5: h5py.File, model) -> None:
    for path, layer in layer_paths(model):
        group = h5.create_group(f"{path}/vars")
        group.attrs["name"] = layer.name
        for i, w in enumerate(layer.weights):
            group.create_dataset(str(i), data=to_numpy(w))
    _write_model_groups(h5, model, "")


def _write_model_groups(h5: h5py.File, model, prefix: str) -> None:
    """The (empty) ``vars`` groups Keras writes for the models themselves."""
    h5.require_group(f"{prefix}vars").attrs["name"] = model.name
    used: dict[str, int] = {}
    for entry in model.layers:
        name = keras_config.snake_case(type(entry).__name__)
        used[name] = used.get(name, -1) + 1
        if hasattr(entry, "leaf_layers"):
            path = f"{prefix}layers/{name}" + (f"_{used[name]}" if used[name] else "")
            _write_model_groups(h5, entry, f"{path}/")


def _slot_pieces(model, state: dict[str, np.ndarray], name: str) -> list[np.ndarray]:
    """The per-variable arrays of slot ``name`` of ``model.optimizer_state()`` (NumPy, in the
    NumPy backend's layout on every backend), split from the flat one when flat."""
    trainable = model.trainable_weights
    if model.optimizer.needs_per_variable_gradients:
        return [state[f"{i}/{name}"] for i in range(len(trainable))]
    flat, pieces, offset = state[f"0/{name}"], [], 0
    for w in trainable:
        size = math.prod(w.shape)
        pieces.append(flat[offset:offset + size].reshape(tuple(w.shape)))
        offset += size
    return pieces


def _write_optimizer(h5: h5py.File, model) -> None:
    optimizer = model.optimizer
    group = h5.create_group("optimizer/vars")
    group.attrs["name"] = optimizer.name
    state = model.optimizer_state()
    values = [np.array(int(state["iterations"]), dtype=np.int64)]
    if optimizer.schedule is None:
        values.append(np.array(optimizer.learning_rate, dtype=model.dtype))
    for names in _groups(optimizer):
        pieces = {name: _slot_pieces(model, state, name) for name in names}
        for i in range(len(model.trainable_weights)):
            values += [pieces[name][i] for name in names]
    if optimizer.name == "nadam":
        values.append(np.array(nadam_product(optimizer.beta_1, optimizer.iterations,
                                             model.dtype)))
    for i, value in enumerate(values):
        group.create_dataset(str(i), data=value)


def _weights_bytes(model, with_optimizer: bool) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        _write_weights(h5, model)
        if with_optimizer and model.compiled and model.optimizer.built:
            _write_optimizer(h5, model)
    return buffer.getvalue()


def save_keras(model, filepath: str | os.PathLike) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` archive, atomically: architecture, weights,
    compile settings and (when compiled and trained) the optimizer state."""
    model.require_built()
    description = keras_config.model_to_keras(model)
    compile_config = model.get_compile_config()
    if compile_config is not None:
        description["compile_config"] = keras_config.compile_to_keras(compile_config)
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = _weights_bytes(model, with_optimizer=True)

    def write(f) -> None:
        with zipfile.ZipFile(f, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(description))
            archive.writestr(WEIGHTS_MEMBER, weights)

    atomic_write(filepath, write)


def save_keras_weights(model, filepath: str | os.PathLike) -> None:
    """Write the weights as Keras's ``.weights.h5``, atomically (with the optimizer state when
    compiled and trained, as Keras writes it)."""
    model.require_built()
    data = _weights_bytes(model, with_optimizer=True)
    atomic_write(filepath, lambda f: f.write(data))


def is_hdf5(filepath: str | os.PathLike) -> bool:
    """True when ``filepath`` is an existing HDF5 file (its signature; nothing else read)."""
    return os.path.isfile(filepath) and h5py.is_hdf5(filepath)
