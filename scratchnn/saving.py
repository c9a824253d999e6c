"""Saving and loading models: one ``.npz`` file, readable with ``allow_pickle=False``.

The file holds ``__scratchnn__`` (a JSON string: format version, architecture, dtype, compile
settings), ``weight/{i}`` (in ``get_weights()`` order) and ``optimizer/{key}`` (step counter
and slots).  Writes are atomic: the data goes to a temporary file in the same folder, is
flushed to disk, and only then replaces the target, so a failed save leaves the previous file
intact and nothing half-written.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "scratchnn-model"
VERSION = 1


class ModelFileError(ValueError):
    """The file is missing, corrupt, or not a scratchnn model."""


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _config_array(config: dict) -> np.ndarray:
    return np.array(json.dumps(config))


def save_model(model, filepath) -> None:
    """Write ``model`` (architecture, weights, compile settings, optimizer state) atomically."""
    from . import losses, optimizers

    model._require_built()
    config = {"format": FORMAT, "version": VERSION, "kind": "model", "model": model.get_config(),
              "metadata": model.metadata}
    if model.compiled:
        config["compile"] = {
            "loss": losses.serialize(model.loss),
            "optimizer": optimizers.serialize(model.optimizer),
            "metrics": [m if isinstance(m, str) else name
                        for m, (name, _) in zip(model._metric_specs, model._metrics)],
        }
    arrays = {"__scratchnn__": _config_array(config)}
    for i, w in enumerate(model.get_weights()):
        arrays[f"weight/{i}"] = w
    if model.compiled and model.optimizer.built:
        for key, value in model.optimizer.get_state().items():
            arrays[f"optimizer/{key}"] = value
    _atomic_savez(Path(filepath), arrays)


def _read(filepath) -> tuple[dict, dict[str, np.ndarray]]:
    path = Path(filepath)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise ModelFileError(f"{path} is not a scratchnn model file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{path} is corrupt or not a scratchnn model file: {exc}") from exc
    if "__scratchnn__" not in arrays:
        raise ModelFileError(f"{path} is an .npz file but not a scratchnn model "
                             "(no __scratchnn__ entry)")
    try:
        config = json.loads(str(arrays.pop("__scratchnn__")))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: model description is corrupt: {exc}") from exc
    if config.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a scratchnn model file")
    if config.get("version", 0) > VERSION:
        raise ModelFileError(f"{path} was written by a newer scratchnn (format version "
                             f"{config.get('version')}); this one reads up to {VERSION}")
    return config, arrays


def _weights_from(arrays: dict, path) -> list[np.ndarray]:
    count = sum(1 for k in arrays if k.startswith("weight/"))
    try:
        return [arrays[f"weight/{i}"] for i in range(count)]
    except KeyError as exc:
        raise ModelFileError(f"{path}: weight entries are incomplete ({exc})") from exc


def load_model(filepath, compile: bool = True):
    """Rebuild a model saved by :func:`save_model` (compiled, with optimizer state)."""
    from . import losses, optimizers
    from .layers import deserialize
    from .model import Sequential

    config, arrays = _read(filepath)
    try:
        spec = config["model"]
        model = Sequential([deserialize(s) for s in spec["layers"]], name=spec["name"],
                           dtype=spec["dtype"])
        model.build(tuple(spec["input_shape"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{filepath}: invalid model description: {exc}") from exc
    model.metadata = dict(config.get("metadata") or {})
    weights = _weights_from(arrays, filepath)
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise ModelFileError(f"{filepath}: weights do not match the architecture: {exc}") from exc
    if compile and "compile" in config:
        c = config["compile"]
        model.compile(optimizer=optimizers.deserialize(c["optimizer"]),
                      loss=losses.deserialize(c["loss"]), metrics=c["metrics"])
        state = {k[len("optimizer/"):]: v for k, v in arrays.items()
                 if k.startswith("optimizer/")}
        if state:
            try:
                model.optimizer.set_state(state, [model._flat_params])
            except (KeyError, ValueError) as exc:
                raise ModelFileError(f"{filepath}: optimizer state is invalid: {exc}") from exc
    return model


def save_weights(model, filepath) -> None:
    """Write only the weights (atomic ``.npz``)."""
    config = {"format": FORMAT, "version": VERSION, "kind": "weights"}
    arrays = {"__scratchnn__": _config_array(config)}
    for i, w in enumerate(model.get_weights()):
        arrays[f"weight/{i}"] = w
    _atomic_savez(Path(filepath), arrays)


def load_weights(model, filepath) -> None:
    """Load weights saved by :func:`save_weights` or :func:`save_model` into ``model``."""
    _, arrays = _read(filepath)
    weights = _weights_from(arrays, filepath)
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise ModelFileError(f"{filepath}: weights do not match the model: {exc}") from exc
