"""Keras 3 files (``.keras``, ``.weights.h5``) without TensorFlow: a fixture written by hand
with zipfile/h5py against the plain formula, round trips through our own writer (weights,
compile settings, optimizer state in both slot layouts), a loader run with TensorFlow and Keras
blocked, and crafted bad files.  Round trips against real Keras: tests/parity/."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pytest

import scratchnn as snn
from scratchnn.engine import keras_file
from scratchnn.engine.model_file import ModelFileError
from scratchnn.layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Input,
    LayerNormalization,
    LeakyReLU,
    ReLU,
    Softmax,
)

REPO = __file__.rsplit("/tests/", 1)[0]


def _keras_layer(class_name: str, config: dict, shape) -> dict:
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float64"},
              "registered_name": None}
    return {"module": "keras.layers", "class_name": class_name,
            "config": {"trainable": True, "dtype": policy, **config}, "registered_name": None,
            "build_config": {"input_shape": [None, *shape]}}


def _dense(name: str, units: int, activation: str, shape) -> dict:
    init = {"module": "keras.initializers", "class_name": "GlorotUniform",
            "config": {"seed": None}, "registered_name": None}
    return _keras_layer("Dense", {"name": name, "units": units, "activation": activation,
                                  "use_bias": True, "kernel_initializer": init,
                                  "bias_initializer": "zeros", "kernel_regularizer": None,
                                  "bias_regularizer": None, "kernel_constraint": None,
                                  "bias_constraint": None, "quantization_config": None}, shape)


def _hand_config(layers: list, compile_config: dict | None = None) -> dict:
    first = {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 3], "dtype": "float64", "sparse": False,
                        "ragged": False, "name": "input_layer", "optional": False},
             "registered_name": None}
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": "hand", "trainable": True, "dtype": "float64",
                         "layers": [first, *layers], "build_input_shape": [None, 3]},
              "build_config": {"input_shape": [None, 3]}}
    if compile_config is not None:
        config["compile_config"] = compile_config
    return config


def _write_archive(path, config: dict, arrays: dict[str, np.ndarray]) -> None:
    """A ``.keras`` archive made with zipfile and h5py only: ``arrays`` is HDF5 path -> data."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        for key, value in arrays.items():
            h5.create_dataset(key, data=value)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", buffer.getvalue())


RNG = np.random.default_rng(7)
W0, B0 = RNG.normal(size=(3, 4)), RNG.normal(size=4)
W1, B1 = RNG.normal(size=(4, 2)), RNG.normal(size=2)
HAND_ARRAYS = {"layers/dense/vars/0": W0, "layers/dense/vars/1": B0,
               "layers/dense_1/vars/0": W1, "layers/dense_1/vars/1": B1}
HAND_LAYERS = [_dense("hidden", 4, "relu", [3]), _dense("out", 2, "linear", [4])]


def _hand_predictions(x: np.ndarray) -> np.ndarray:
    """The plain formula of Dense(relu) -> Dense: max(x W0 + b0, 0) W1 + b1."""
    return np.maximum(x @ W0 + B0, 0.0) @ W1 + B1


def test_a_hand_written_archive_loads_with_its_names_dtype_and_weights(tmp_path):
    path = tmp_path / "hand.keras"
    _write_archive(path, _hand_config(HAND_LAYERS), HAND_ARRAYS)
    model = snn.models.load_model(path)
    assert model.name == "hand" and model.dtype == np.float64 and not model.compiled
    assert [layer.name for layer in model.layers] == ["hidden", "out"]
    x = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(model.predict(x), _hand_predictions(x), rtol=1e-13)


_BLOCKED = """
import sys
sys.modules["tensorflow"] = None
sys.modules["keras"] = None
import numpy as np
import scratchnn as snn
model = snn.models.load_model(sys.argv[1])
np.save(sys.argv[2], model.predict(np.load(sys.argv[3])))
assert "tensorflow" not in [m for m in sys.modules if sys.modules[m] is not None]
"""


def test_loading_needs_neither_tensorflow_nor_keras(tmp_path):
    path = tmp_path / "hand.keras"
    _write_archive(path, _hand_config(HAND_LAYERS), HAND_ARRAYS)
    x = RNG.normal(size=(6, 3))
    np.save(tmp_path / "x.npy", x)
    subprocess.run([sys.executable, "-c", _BLOCKED, str(path), str(tmp_path / "out.npy"),
                    str(tmp_path / "x.npy")], check=True, cwd=REPO,
                   env={"PYTHONPATH": REPO, "PATH": "/usr/bin:/bin"})
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), _hand_predictions(x),
                               rtol=1e-13)


def _every_layer_model(dtype: str, optimizer) -> snn.Sequential:
    inner = snn.Sequential([Dense(4, activation="tanh", kernel_regularizer="l2"),
                            Dropout(0.0)], name="inner")
    model = snn.Sequential([Input((3, 2)), Flatten(), Dense(5, activation="relu"),
                            BatchNormalization(), LayerNormalization(), Activation("sigmoid"),
                            inner, ReLU(), LeakyReLU(0.2), Dense(3), Softmax()],
                           name="outer", dtype=dtype)
    model.compile(optimizer, "categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(dtype):
    rng = np.random.default_rng(3)
    return rng.random((16, 3, 2)).astype(dtype), np.eye(3)[np.arange(16) % 3].astype(dtype)


OPTIMIZERS = [lambda: snn.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
              lambda: snn.optimizers.Adam(0.01, amsgrad=True),
              lambda: snn.optimizers.AdamW(0.01, clipnorm=1.0),
              lambda: snn.optimizers.RMSprop(0.01, momentum=0.5, centered=False),
              lambda: snn.optimizers.Adagrad(0.1), lambda: snn.optimizers.Adadelta(1.0),
              lambda: snn.optimizers.Adamax(0.01), lambda: snn.optimizers.Nadam(0.01),
              lambda: snn.optimizers.Adam(snn.optimizers.schedules.ExponentialDecay(
                  0.01, 3, 0.5)),
              lambda: snn.optimizers.SGD(0.1, global_clipnorm=0.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
def test_round_trip_keeps_weights_compile_settings_and_optimizer_state(tmp_path, dtype,
                                                                       make_optimizer):
    model = _every_layer_model(dtype, make_optimizer())
    x, y = _data(dtype)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    model.save(tmp_path / "m.keras")
    loaded = snn.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config()["layers"][5]["config"]["name"] == "inner"
    assert loaded.get_compile_config() == model.get_compile_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.dtype(dtype)
    ours, theirs = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert ours.keys() == theirs.keys() and int(theirs["iterations"]) == 4
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key])
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_untrained_compiled_model_saves_without_optimizer_state(tmp_path):
    model = _every_layer_model("float64", "adam")
    model.build()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as h5:
            assert "optimizer" not in h5 and "layers/sequential/layers/dense/vars/0" in h5
    assert not snn.models.load_model(tmp_path / "m.keras").optimizer.built


def test_weights_h5_round_trip_and_load_weights_from_an_archive(tmp_path):
    model = _every_layer_model("float32", "sgd")
    x, y = _data("float32")
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    model.save(tmp_path / "m.keras")
    for name in ("w.weights.h5", "m.keras"):
        other = _every_layer_model("float32", "sgd")
        other.build()
        other.load_weights(tmp_path / name)
        for a, b in zip(other.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_keras_paths_follow_class_names_not_layer_names():
    inner = snn.Sequential([Dense(2, name="a"), Dense(2, name="b")])
    model = snn.Sequential([Input((2,)), Dense(2, name="x"), inner, Dense(2, name="y"), ReLU()])
    assert [p for p, _ in keras_file.layer_paths(model)] == [
        "layers/dense", "layers/sequential/layers/dense", "layers/sequential/layers/dense_1",
        "layers/dense_1", "layers/re_lu"]


def test_nadam_product_is_the_running_product_of_its_momentum_schedule():
    mu = [0.9 * (1 - 0.5 * 0.96 ** k) for k in (1, 2, 3)]
    assert keras_file.nadam_product(0.9, 3, np.float64) == pytest.approx(
        mu[0] * mu[1] * mu[2], rel=1e-15)
    assert keras_file.nadam_product(0.9, 0, np.float32) == 1.0


# -- bad files ------------------------------------------------------------------------------------
def _bad(tmp_path, layers=None, arrays=None, compile_config=None) -> str:
    path = tmp_path / "bad.keras"
    _write_archive(path, _hand_config(HAND_LAYERS if layers is None else layers,
                                      compile_config),
                   HAND_ARRAYS if arrays is None else arrays)
    return path


def test_an_unknown_layer_is_named_with_its_json_path(tmp_path):
    conv = _keras_layer("Conv2D", {"name": "c", "filters": 2}, [3])
    with pytest.raises(ModelFileError, match=r"bad.keras: config.config.layers\[3\]"
                                             r".class_name: unsupported layer 'Conv2D'"):
        snn.models.load_model(_bad(tmp_path, HAND_LAYERS + [conv]))


def test_an_unsupported_option_is_named(tmp_path):
    layers = [_dense("hidden", 4, "relu", [3]), _dense("out", 2, "linear", [4])]
    layers[1]["config"]["kernel_constraint"] = {"class_name": "MaxNorm", "config": {}}
    with pytest.raises(ModelFileError, match=r"layers\[2\].config.kernel_constraint: "
                                             r"unsupported option"):
        snn.models.load_model(_bad(tmp_path, layers))


def test_an_unknown_optimizer_loss_or_mixed_dtype_is_named(tmp_path):
    lion = {"optimizer": {"class_name": "Lion", "config": {}}, "loss": "mse"}
    with pytest.raises(ModelFileError, match="compile_config.optimizer.class_name: "
                                             "unsupported optimizer 'lion'"):
        snn.models.load_model(_bad(tmp_path, compile_config=lion))
    loss = {"optimizer": "adam", "loss": {"class_name": "CosineSimilarity", "config": {}}}
    with pytest.raises(ModelFileError, match="unsupported loss 'cosine_similarity'"):
        snn.models.load_model(_bad(tmp_path, compile_config=loss))
    layers = [_dense("hidden", 4, "relu", [3]), _dense("out", 2, "linear", [4])]
    layers[1]["config"]["dtype"] = "float16"
    with pytest.raises(ModelFileError, match="unsupported dtype 'float16'"):
        snn.models.load_model(_bad(tmp_path, layers))


def test_wrong_or_missing_weights_are_named(tmp_path):
    arrays = dict(HAND_ARRAYS, **{"layers/dense_1/vars/0": np.zeros((4, 3))})
    with pytest.raises(ModelFileError, match=r"layers/dense_1/vars/0 has shape \(4, 3\).*"
                                             r"expected \(4, 2\)"):
        snn.models.load_model(_bad(tmp_path, arrays=arrays))
    arrays = {k: v for k, v in HAND_ARRAYS.items() if k != "layers/dense_1/vars/1"}
    with pytest.raises(ModelFileError, match="layers/dense_1/vars holds 1 weights, layer "
                                             "'out' has 2"):
        snn.models.load_model(_bad(tmp_path, arrays=arrays))


def test_not_a_zip_or_a_damaged_archive_is_named(tmp_path):
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(ModelFileError, match="text.keras: not a .keras file"):
        snn.models.load_model(tmp_path / "text.keras")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("model.weights.h5", b"not hdf5")
    with pytest.raises(ModelFileError, match="config.json is not valid JSON"):
        snn.models.load_model(tmp_path / "empty.keras")
    with pytest.raises(FileNotFoundError):
        snn.models.load_model(tmp_path / "absent.keras")


def test_a_wrong_optimizer_state_is_named(tmp_path):
    compile_config = {"optimizer": {"class_name": "SGD", "config": {"momentum": 0.9}},
                      "loss": "mse"}
    arrays = dict(HAND_ARRAYS, **{"optimizer/vars/0": np.array(3), "optimizer/vars/1":
                                  np.float32(0.01), "optimizer/vars/2": np.zeros((3, 4))})
    with pytest.raises(ModelFileError, match="optimizer/vars holds 3 variables, a SGD for "
                                             "these weights has 6"):
        snn.models.load_model(_bad(tmp_path, arrays=arrays, compile_config=compile_config))


def test_an_npz_saved_under_an_h5_name_still_round_trips(tmp_path):
    model = _every_layer_model("float64", "adam")
    model.build()
    model.save(tmp_path / "old.h5")
    assert zipfile.is_zipfile(tmp_path / "old.h5")  # the native npz, as before
    loaded = snn.models.load_model(tmp_path / "old.h5")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_hand_written_legacy_h5_loads(tmp_path):
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as h5:
        h5.attrs["model_config"] = json.dumps(_hand_config(HAND_LAYERS))
        h5.attrs["training_config"] = json.dumps({"loss": "mse", "metrics": ["accuracy"],
                                                  "optimizer_config": {"class_name": "SGD",
                                                                       "config": {}}})
        for layer, (w, b) in (("hidden", (W0, B0)), ("out", (W1, B1))):
            group = h5.create_group(f"model_weights/{layer}")
            group.attrs["weight_names"] = [f"hand/{layer}/kernel", f"hand/{layer}/bias"]
            group[f"hand/{layer}/kernel"], group[f"hand/{layer}/bias"] = w, b
    model = snn.models.load_model(path)
    x = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(model.predict(x), _hand_predictions(x), rtol=1e-13)
    assert model.optimizer.name == "sgd" and model.metrics_names == ["loss", "accuracy"]
    with h5py.File(path, "a") as h5:
        h5.attrs["training_config"] = json.dumps({"loss": "mse", "metrics": ["auc"]})
    with pytest.raises(ModelFileError, match="legacy.h5: training_config: Unknown metric"):
        snn.models.load_model(path)
    with h5py.File(path, "a") as h5:
        del h5["model_weights/out/hand/out/bias"]
    with pytest.raises(ModelFileError, match="model_weights/out/hand/out/bias: missing"):
        snn.models.load_model(path)
