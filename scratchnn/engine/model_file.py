"""The model file format, and its validation *before* anything is allocated or built.

A model file is an ``.npz`` archive (a zip of ``.npy`` members, loadable with
``np.load(path, allow_pickle=False)``) holding:

====================================  ============================================================
``__scratchnn__``                     0-d unicode array: the JSON description (below)
``weight/{i}``                        ``i = 0 .. n-1``, ``get_weights()`` order, the model's dtype
``optimizer/iterations``              int scalar: optimizer steps taken (compiled models only)
``optimizer/0/{slot}``                shape ``(P,)``, ``P`` = parameter count: the optimizer's
                                      slots (``m``, ``v`` for Adam; ``momentum`` for SGD)
====================================  ============================================================

The description is a JSON object ``{"format": "scratchnn-model", "version": 1, "kind": ...}``
with, for ``kind == "model"``: ``model`` (``name``, ``dtype`` float32/float64, ``input_shape``
as positive ints, ``layers`` as ``[{"class_name", "config"}]``), optional ``metadata`` (an
object) and optional ``compile`` (``loss`` and ``optimizer`` as ``{"name", "config"}``,
``metrics`` as names); for ``kind == "weights"`` (``save_weights``): an optional ``dtype``.

Reading never trusts the file.  In order:

1. the zip directory: only ``.npy`` members with known names, no duplicates, stored or
   deflated, no encryption, sizes consistent with the archive's size;
2. the description: parsed and checked key by key (types, ranges, known names), and the shape
   of every weight computed from it alone (Dense: kernel ``(in, units)``, bias ``(units,)``);
3. every member's ``.npy`` header (shape, dtype, byte count) against those expectations;
4. only then is array data read, and layers are constructed and built.

So a description asking for ``Dense(10**9)`` in a 20 KB file fails at step 2 or 3 with no
allocation.  Every problem raises :class:`ModelFileError` (a ``ValueError``) naming the file
and what is wrong; a missing file raises ``FileNotFoundError``.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scratchnn import activations, initializers, losses, metrics, optimizers, regularizers
from scratchnn import layers as layers_module

__all__ = ["FORMAT", "VERSION", "ModelFileError", "ModelFile", "ModelSpec", "CompileSpec",
           "parse_model_spec", "weights_dtype"]

FORMAT = "scratchnn-model"
VERSION = 1

#: Real float dtypes a weight array may have (the model itself computes in float32/float64).
WEIGHT_DTYPES = ("float16", "float32", "float64")
MODEL_DTYPES = ("float32", "float64")
_MAX_DESCRIPTION_CHARS = 4 * 2**20
_MAX_DEFLATE_RATIO = 1032  # deflate cannot compress better than this
_MAX_NESTING = 8  # Sequential models inside Sequential models
_ENTRY = re.compile(r"__scratchnn__|weight/\d+|optimizer/iterations|optimizer/\d+/\w+")
_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}
# What a corrupt zip or .npy can raise from zipfile / numpy while being read.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error,
                RuntimeError, NotImplementedError, OverflowError)


class ModelFileError(ValueError):
    """The file is corrupt, not a scratchnn model, or describes an invalid model.

    The message names the file and what is wrong.  A ``ValueError``, so code catching
    ``ValueError`` for bad input catches it too.
    """


@dataclass
class _Member:
    info: zipfile.ZipInfo
    shape: tuple[int, ...] | None = None
    dtype: np.dtype | None = None


class ModelFile:
    """An open model archive whose directory and description have been checked.

    Use as a context manager: ``with ModelFile(path) as f: f.description; f.read(key)``.
    ``keys`` are the entry names without ``.npy``.
    """

    def __init__(self, path: str | os.PathLike):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"filepath must be a str or os.PathLike, got {type(path).__name__}")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"No model file at {self.path}")
        with open(self.path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                self.fail("is not a scratchnn model file (not an .npz archive)", sep=" ")
        self._size = self.path.stat().st_size
        try:
            self._zip = zipfile.ZipFile(self.path)
        except _READ_ERRORS as exc:
            self.fail(f"is corrupt or not a scratchnn model file: {exc}", sep=" ")
        try:
            self._members = self._check_directory()
            self.description = self._read_description()
        except BaseException:
            self._zip.close()
            raise

    # -- errors, context manager -------------------------------------------------------------
    def fail(self, message: str, sep: str = ": "):
        raise ModelFileError(f"{self.path}{sep}{message}")

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ModelFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def keys(self) -> list[str]:
        return list(self._members)

    # -- step 1: the zip directory -----------------------------------------------------------
    def _check_directory(self) -> dict[str, _Member]:
        members: dict[str, _Member] = {}
        for info in self._zip.infolist():
            name = info.filename
            key = name[:-4] if name.endswith(".npy") else None
            if key is None or not _ENTRY.fullmatch(key):
                self.fail(f"unexpected entry {name!r} (not a scratchnn model entry)")
            if key in members:
                self.fail(f"entry {name!r} appears twice")
            self._check_sizes(info)
            members[key] = _Member(info)
        if "__scratchnn__" not in members:
            self.fail("is an .npz file but not a scratchnn model (no __scratchnn__ entry)",
                      sep=" ")
        return members

    def _check_sizes(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        if info.flag_bits & 0x1:
            self.fail(f"entry {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            self.fail(f"entry {name!r} uses unsupported compression method "
                      f"{info.compress_type} (only stored or deflated)")
        if info.compress_size > self._size:
            self.fail(f"is corrupt: entry {name!r} claims {info.compress_size} bytes, the file "
                      f"has {self._size}")
        limit = (info.compress_size if info.compress_type == zipfile.ZIP_STORED
                 else info.compress_size * _MAX_DEFLATE_RATIO + 1024)
        if info.file_size > limit:
            self.fail(f"is corrupt: entry {name!r} claims {info.file_size} bytes of data "
                      f"stored in {info.compress_size}")

    # -- .npy headers and data ---------------------------------------------------------------
    def header(self, key: str) -> tuple[tuple[int, ...], np.dtype]:
        """``(shape, dtype)`` of entry ``key`` from its ``.npy`` header (no data read).

        Also checks that the entry holds exactly the bytes the header announces.
        """
        member = self._members[key]
        if member.shape is None:
            member.shape, member.dtype = self._read_header(key, member.info)
        return member.shape, member.dtype

    def _read_header(self, key: str, info: zipfile.ZipInfo):
        try:
            with self._zip.open(info) as fp:
                version = np.lib.format.read_magic(fp)
                reader = _NPY_HEADER_READERS.get(version)
                if reader is None:
                    self.fail(f"entry {key!r}: unsupported .npy format version {version}")
                shape, fortran_order, dtype = reader(fp)
                header_bytes = fp.tell()
        except ModelFileError:
            raise
        except _READ_ERRORS as exc:
            self.fail(f"entry {key!r} is corrupt: {exc}")
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            self.fail(f"entry {key!r} has dtype {dtype}: object and structured arrays are not "
                      "allowed")
        data_bytes = math.prod(shape) * dtype.itemsize
        if info.file_size != header_bytes + data_bytes:
            self.fail(f"entry {key!r} is truncated or padded: shape {shape} of {dtype} needs "
                      f"{data_bytes} data bytes, the entry has {info.file_size - header_bytes}")
        return tuple(shape), dtype

    def read(self, key: str) -> np.ndarray:
        """The array stored under ``key`` (call :meth:`header` checks first)."""
        self.header(key)
        try:
            with self._zip.open(self._members[key].info) as fp:
                return np.lib.format.read_array(fp, allow_pickle=False)
        except _READ_ERRORS as exc:
            self.fail(f"entry {key!r} is corrupt: {exc}")

    # -- step 2a: the description's envelope -------------------------------------------------
    def _read_description(self) -> dict:
        shape, dtype = self.header("__scratchnn__")
        if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * _MAX_DESCRIPTION_CHARS:
            self.fail(f"the description entry must be a JSON string of at most "
                      f"{_MAX_DESCRIPTION_CHARS} characters, got shape {shape} dtype {dtype}")
        try:
            description = json.loads(str(self.read("__scratchnn__")))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            self.fail(f"model description is corrupt: {exc}")
        if not isinstance(description, dict) or description.get("format") != FORMAT:
            self.fail("is not a scratchnn model file (the description has no "
                      f"\"format\": \"{FORMAT}\")", sep=" ")
        version = description.get("version")
        if not _is_int(version) or version < 1:
            self.fail(f"model description: version must be a positive integer, got "
                      f"{version!r}")
        if version > VERSION:
            self.fail(f"was written by a newer scratchnn (format version {version}); this one "
                      f"reads up to {VERSION}", sep=" ")
        if description.get("kind") not in ("model", "weights"):
            self.fail(f"model description: kind must be \"model\" or \"weights\", got "
                      f"{description.get('kind')!r}")
        return description

    # -- step 3: headers against expectations --------------------------------------------------
    def data_sizes(self) -> dict[str, int]:
        """Uncompressed bytes of every array entry (not the description), from the directory."""
        return {k: m.info.file_size for k, m in self._members.items() if k != "__scratchnn__"}

    def check_entries(self, expected: dict[str, tuple[tuple[int, ...], np.dtype | None]],
                      optional: set[str] = frozenset(), ignore_prefix: str | None = None,
                      target: str = "the architecture") -> None:
        """Require exactly the entries ``expected`` (``key -> (shape, dtype)``) besides
        ``__scratchnn__`` and keys starting with ``ignore_prefix``, with those shapes and
        dtypes (None: any real float).  Keys in ``optional`` may be absent, all together."""
        present = {k for k in self._members if k != "__scratchnn__"
                   and not (ignore_prefix and k.startswith(ignore_prefix))}
        required = set(expected) - set(optional)
        missing = sorted(required - present, key=_natural)
        if missing:
            self.fail(f"entries do not match {target}: missing {missing} (expected "
                      f"{_count(required, 'weight/')} weight arrays)")
        extra = sorted(present - set(expected), key=_natural)
        if extra:
            self.fail(f"entries do not match {target}: unexpected {extra} (expected "
                      f"{_count(required, 'weight/')} weight arrays)")
        given_optional = set(optional) & present
        if given_optional and given_optional != set(optional):
            self.fail(f"optimizer state is invalid: {sorted(given_optional)} without "
                      f"{sorted(set(optional) - given_optional)}")
        for key in sorted(present, key=lambda k: (not k.startswith("weight/"), _natural(k))):
            shape, dtype = expected[key]
            what = (f"weights do not match {target}" if key.startswith("weight/")
                    else "optimizer state is invalid")
            self.check_array(key, shape, dtype, what)

    def check_array(self, key: str, shape: tuple[int, ...], dtype: np.dtype | None,
                    what: str = "invalid entry") -> None:
        """Compare entry ``key``'s header with ``shape`` and ``dtype`` (None: any real float;
        an integer dtype: any integer)."""
        got_shape, got_dtype = self.header(key)
        if dtype is not None and dtype.kind in "iu":
            if got_dtype.kind not in "iu":
                self.fail(f"{what}: entry {key!r} has dtype {got_dtype}; expected an integer")
        elif got_dtype.kind != "f" or got_dtype.name not in WEIGHT_DTYPES:
            wanted = dtype.name if dtype is not None else ", ".join(WEIGHT_DTYPES)
            self.fail(f"{what}: entry {key!r} has dtype {got_dtype}; expected real floats "
                      f"({wanted})")
        elif dtype is not None and got_dtype.name != dtype.name:
            self.fail(f"{what}: entry {key!r} has dtype {got_dtype.name}, but the file's "
                      f"dtype is {dtype.name}")
        if got_shape != tuple(shape):
            self.fail(f"{what}: entry {key!r} has shape {got_shape}, expected {tuple(shape)}")


def _count(keys, prefix: str) -> int:
    return sum(1 for k in keys if k.startswith(prefix))


# -- step 2b: the model description ------------------------------------------------------------
@dataclass
class CompileSpec:
    """Validated compile settings, as constructed objects and as the checked ``config``
    (the description's ``compile`` object, for ``model.compile_from_config``)."""

    loss: losses.Loss
    optimizer: optimizers.Optimizer
    metrics: list[str]
    config: dict


@dataclass
class ModelSpec:
    """A validated ``kind == "model"`` description and the weight shapes it implies."""

    name: str
    dtype: np.dtype
    input_shape: tuple[int, ...]
    layers: list[tuple[str, dict]]  # (class name, constructor kwargs), checked
    weight_shapes: list[tuple[int, ...]]  # get_weights() order
    trainable_shapes: list[tuple[int, ...]]  # the optimizer's variables, per variable
    compile: CompileSpec | None
    metadata: dict = field(default_factory=dict)

    def model_config(self) -> dict:
        """The checked architecture in ``Sequential.get_config()`` form (for ``from_config``)."""
        return {"name": self.name, "dtype": self.dtype.name, "input_shape": list(self.input_shape),
                "layers": [{"class_name": c, "config": config} for c, config in self.layers]}

    @property
    def param_count(self) -> int:
        return sum(math.prod(s) for s in self.weight_shapes)

    def optimizer_shapes(self) -> list[tuple[int, ...]]:
        """The shapes of the optimizer's variables: the one flat buffer of every trainable
        weight, or each trainable weight when its steps are per variable (see
        ``Sequential.apply_gradients``)."""
        if self.compile.optimizer.needs_per_variable_gradients:
            return list(self.trainable_shapes)
        return [(sum(math.prod(s) for s in self.trainable_shapes),)]

    def expected_entries(self) -> tuple[dict, set[str]]:
        """``(key -> (shape, dtype), optional keys)`` for :meth:`ModelFile.check_entries`."""
        expected = {f"weight/{i}": (s, self.dtype) for i, s in enumerate(self.weight_shapes)}
        optional: set[str] = set()
        if self.compile is not None:
            state = {"optimizer/iterations": ((), np.dtype(np.int64))}
            for i, shape in enumerate(self.optimizer_shapes()):
                for slot in self.compile.optimizer.slot_names:
                    state[f"optimizer/{i}/{slot}"] = (shape, self.dtype)
            expected.update(state)
            optional = set(state)
        return expected, optional


_TOP_KEYS = {"model": {"format", "version", "kind", "model", "metadata", "compile"},
             "weights": {"format", "version", "kind", "dtype"}}



def _natural(key: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _keyword_params(cls: type) -> dict:
    """Named parameters of ``cls.__init__``, and of its bases' when it passes ``**kwargs`` on."""
    params: dict = {}
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            signature = inspect.signature(klass.__init__).parameters
            params.update({name: p for name, p in signature.items() if name not in params
                           and name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD})
            if all(p.kind is not p.VAR_KEYWORD for p in signature.values()):
                break
    return params


class _Checker:
    """Raises :class:`ModelFileError` prefixed by the file and the JSON path of the value."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, message: str):
        raise ModelFileError(f"{self.path}: model description: {where} {message}")

    def dict(self, value, where: str, allowed: set[str], required: set[str] = frozenset()):
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, got {type(value).__name__}")
        unknown = sorted(set(value) - allowed)
        if unknown:
            self.fail(where, f"has unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        missing = sorted(required - set(value))
        if missing:
            self.fail(where, f"is missing key(s) {missing}")
        return value

    def str(self, value, where: str):
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {value!r:.80}")
        return value

    def choice(self, value, where: str, known) -> str:
        self.str(value, where)
        if value.lower() not in known:
            self.fail(where, f"is unknown: {value!r:.80}; known: {sorted(known)}")
        return value

    def kwargs(self, value, where: str, cls: type) -> dict:
        """Check ``value`` as keyword arguments of ``cls(...)`` against its type hints."""
        params = _keyword_params(cls)
        self.dict(value, where, set(params))
        for key, item in value.items():
            self.typed(item, f"{where}.{key}", _hint(params[key].annotation))
        return value

    def typed(self, value, where: str, hint: str) -> None:
        """Check ``value`` against the type hint ``hint`` of the argument it will be given to
        (JSON has lists for tuples; an optional hint also takes null)."""
        optional = hint.endswith(" | None")
        base = hint.removesuffix(" | None")
        if optional and value is None:
            return
        checks = {"bool": (lambda v: isinstance(v, bool), "true or false"),
                  "float": (_is_real, "a finite number"),
                  "int": (lambda v: _is_int(v) and abs(v) < 2**31, "an integer"),
                  "str": (lambda v: isinstance(v, str), "a string"),
                  "tuple[int, ...]": (lambda v: isinstance(v, list) and len(v) <= 32 and all(
                      _is_int(d) and 0 <= d < 2**31 for d in v), "a list of integers"),
                  # an optimizer's learning_rate: a number or a schedule's {class_name, config}
                  "LearningRate": (lambda v: _is_real(v) or isinstance(v, dict),
                                   "a finite number or a schedule object")}
        if hint == "int | None":  # a count or a seed
            checks["int"] = (lambda v: _is_int(v) and 0 <= v < 2**63, "a non-negative integer")
        if base not in checks:
            self.fail(where, "cannot be given in a model file")
        ok, wanted = checks[base]
        if not ok(value):
            self.fail(where, f"must be {wanted}{' or null' if optional else ''}, got "
                      f"{value!r:.80}")


def weights_dtype(description: dict, path: Path) -> np.dtype | None:
    """The dtype a ``kind == "weights"`` description declares (None for old files)."""
    check = _Checker(path)
    check.dict(description, "the description", _TOP_KEYS["weights"])
    name = description.get("dtype")
    if name is None:
        return None
    return np.dtype(check.choice(name, "dtype", WEIGHT_DTYPES))


def parse_model_spec(description: dict, path: Path) -> ModelSpec:
    """Validate a ``kind == "model"`` description; compute every weight's shape from it."""
    check = _Checker(path)
    check.dict(description, "the description", _TOP_KEYS["model"], {"model"})
    model = check.dict(description["model"], "model", {"name", "dtype", "input_shape",
                                                           "layers"},
                       {"dtype", "input_shape", "layers"})
    name = check.str(model.get("name", "sequential"), "model.name")
    dtype = np.dtype(check.choice(model["dtype"], "model.dtype", MODEL_DTYPES).lower())
    input_shape = _input_shape(check, model["input_shape"])
    layers = _layers(check, model["layers"])
    weight_shapes, trainable_shapes, _ = _weight_shapes(check, layers, input_shape)
    metadata = description.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        check.fail("metadata", f"must be an object, got {type(metadata).__name__}")
    compile_spec = None
    if description.get("compile") is not None:
        compile_spec = _compile_spec(check, description["compile"])
    return ModelSpec(name, dtype, input_shape, layers, weight_shapes, trainable_shapes,
                     compile_spec, metadata)


def _input_shape(check: _Checker, value) -> tuple[int, ...]:
    where = "model.input_shape"
    if not isinstance(value, list) or not 1 <= len(value) <= 32:
        check.fail(where, f"must be a list of 1 to 32 positive integers, got {value!r:.80}")
    if not all(_is_int(d) and d >= 1 for d in value):
        check.fail(where, f"must hold positive integers, got {value!r:.80}")
    return tuple(value)


def _layers(check: _Checker, value, where: str = "model.layers",
            depth: int = 0) -> list[tuple[str, dict]]:
    """Each entry ``{"class_name", "config"}`` checked: a registered layer class (or a nested
    ``Sequential``, whose own ``layers`` are checked the same way) and its constructor
    arguments, key by key."""
    if not isinstance(value, list) or not value:
        check.fail(where, f"must be a non-empty list, got {value!r:.80}")
    if depth > _MAX_NESTING:
        check.fail(where, f"nests models more than {_MAX_NESTING} deep")
    layers = []
    for i, entry in enumerate(value):
        here = f"{where}[{i}]"
        check.dict(entry, here, {"class_name", "config"}, {"class_name", "config"})
        class_name = check.str(entry["class_name"], f"{here}.class_name")
        if class_name == "Sequential":
            config = check.dict(entry["config"], f"{here}.config",
                                {"name", "dtype", "input_shape", "layers"}, {"layers"})
            _layers(check, config["layers"], f"{here}.config.layers", depth + 1)
        elif class_name not in layers_module.LAYERS.names() or class_name == "InputLayer":
            known = sorted(set(layers_module.LAYERS.names()) - {"InputLayer"}) + ["Sequential"]
            check.fail(f"{here}.class_name", f"is unknown: {class_name!r:.80}; known: {known}")
        else:
            config = entry["config"]
            _layer_config(check, layers_module.LAYERS.lookup(class_name), config,
                          f"{here}.config")
        layers.append((class_name, config))
    return layers


def _layer_config(check: _Checker, cls: type, config, where: str) -> None:
    """``config`` as keyword arguments of layer class ``cls``: the name, activations,
    initializers and regularizers by their registries, everything else by its type hint."""
    params = _init_params(cls)
    check.dict(config, where, set(params) - {"input_shape", "input_dim"})
    for key, value in config.items():
        here = f"{where}.{key}"
        if key == "name":
            check.str(value, here)
        elif key == "activation":
            if value is not None:
                check.choice(value, here, activations.ACTIVATIONS)
        elif key.endswith("_initializer"):
            _initializer(check, value, here)
        elif key.endswith("_regularizer"):
            _registered(check, value, here, regularizers.REGULARIZERS)
        elif key == "units" and not (_is_int(value) and value >= 1):
            check.fail(here, f"must be a positive integer, got {value!r:.80}")
        else:
            check.typed(value, here, params[key])


def _init_params(cls: type) -> dict[str, str]:
    """``name -> type hint`` (as written) of ``cls``'s keyword arguments."""
    return {name: _hint(p.annotation) for name, p in _keyword_params(cls).items()}


def _hint(annotation) -> str:
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__",
                                                                  str(annotation))


def _registered(check: _Checker, value, where: str, registry) -> None:
    """None, a registered name, or ``{"name"/"class_name", "config"}`` of ``registry``."""
    if value is None:
        return
    try:
        registry.get(value)
    except (TypeError, ValueError, KeyError) as exc:
        check.fail(where, f"is invalid: {exc}")


def _initializer(check: _Checker, value, where: str) -> None:
    if isinstance(value, str):
        check.choice(value, where, initializers.INITIALIZERS)
        return
    check.dict(value, where, {"name", "config"}, {"name"})
    name = check.choice(value["name"], f"{where}.name", initializers.INITIALIZERS)
    if name not in initializers.INITIALIZERS.names():  # the format writes the names as such
        check.fail(f"{where}.name", f"must be lower case, got {name!r}")
    config = check.kwargs(value.get("config", {}), f"{where}.config",
                          initializers.INITIALIZERS.lookup(name))
    if config.get("stddev", 0.0) < 0:
        check.fail(f"{where}.config.stddev", f"must be >= 0, got {config['stddev']}")
    low, high = config.get("minval", -0.05), config.get("maxval", 0.05)
    if low > high:
        check.fail(f"{where}.config", "has minval > maxval")
    if not math.isfinite(high - low):
        check.fail(f"{where}.config", "maxval - minval must be finite")


def _weight_shapes(check: _Checker, layers, input_shape, where: str = "model.layers"
                   ) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]], tuple[int, ...]]:
    """``(weight shapes in get_weights() order, trainable shapes in order, output shape)``,
    walking the per-sample shape through the layers (nested models included).  Each layer
    is constructed from its checked config, which allocates nothing, and asked for
    :meth:`scratchnn.layers.Layer.weight_shapes`."""
    weights: list[tuple[int, ...]] = []
    trainable: list[tuple[int, ...]] = []
    shape = tuple(input_shape)
    for i, (class_name, config) in enumerate(layers):
        here = f"{where}[{i}]"
        if class_name == "Sequential":
            inner = _layers(check, config["layers"], f"{here}.config.layers")
            w, t, shape = _weight_shapes(check, inner, shape, f"{here}.config.layers")
            weights += w
            trainable += t
            continue
        try:
            layer = layers_module.LAYERS.lookup(class_name)(**config)
            params, state = layer.weight_shapes(shape)
            shape = tuple(layer.compute_output_shape(shape))
        except (TypeError, ValueError) as exc:
            check.fail(here, f"cannot take per-sample input shape {shape}: {exc}")
        weights += list(params) + list(state)
        trainable += list(params)
    return weights, trainable, shape


def _compile_spec(check: _Checker, value) -> CompileSpec:
    check.dict(value, "compile", {"loss", "optimizer", "metrics", "weighted_metrics"},
               {"loss", "optimizer"})
    built = {}
    for key, registry in (("loss", losses.LOSSES), ("optimizer", optimizers.OPTIMIZERS)):
        where = f"compile.{key}"
        spec = check.dict(value[key], where, {"name", "config"}, {"name"})
        name = check.str(spec["name"], f"{where}.name")
        if name not in registry.known():  # as written: the names are lower case
            check.fail(f"{where}.name", f"is unknown: {name!r:.80}; known: {registry.known()}")
        config = check.kwargs(spec.get("config", {}), f"{where}.config", registry.lookup(name))
        try:
            built[key] = registry.lookup(name)(**config)
        except (TypeError, ValueError) as exc:
            check.fail(f"{where}.config", f"is invalid: {exc}")
    metric_names = _metric_names(check, value.get("metrics", []), "compile.metrics")
    _metric_names(check, value.get("weighted_metrics", []), "compile.weighted_metrics")
    return CompileSpec(built["loss"], built["optimizer"], metric_names, value)


def _metric_names(check: _Checker, names, where: str) -> list[str]:
    if not isinstance(names, list):
        check.fail(where, f"must be a list of names, got {names!r:.80}")
    for i, metric in enumerate(names):
        check.str(metric, f"{where}[{i}]")
        if metric not in metrics.METRICS:  # any case, as compile(metrics=[...]) takes them
            check.fail(f"{where}[{i}]", f"is an unknown metric {metric!r:.80}; known: "
                       f"{metrics.METRICS.known()}")
    return list(names)
