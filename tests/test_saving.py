"""save / load_model: round trips, no pickle, atomic writes, clear errors on bad files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import scratchnn as snn
from scratchnn.engine.saving import ModelFileError
from scratchnn.layers import Activation, Dense, Flatten, Input


def _trained(blobs, optimizer="adam"):
    x, y = blobs
    model = snn.Sequential([Input((2, 2)), Flatten(), Dense(6, activation="sigmoid"),
                            Dense(3), Activation("softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x.reshape(-1, 2, 2), y, epochs=2, verbose=0)
    return model, x.reshape(-1, 2, 2), y


@pytest.mark.parametrize("optimizer", ["adam", "sgd",
                                       snn.optimizers.SGD(0.05, momentum=0.9, nesterov=True)])
def test_roundtrip_predictions_and_continued_training(blobs, tmp_path, optimizer):
    model, x, y = _trained(blobs, optimizer)
    model.metadata = {"preprocess": {"kind": "scale"}}
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = snn.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in loaded.layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert loaded.metadata == model.metadata
    # identical optimizer state => identical continued training
    for m in (model, loaded):
        snn.utils.set_random_seed(5)
        m.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_file_loads_without_pickle(blobs, tmp_path):
    model, _, _ = _trained(blobs)
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        config = json.loads(str(data["__scratchnn__"]))
        assert config["format"] == "scratchnn-model"
        assert data["weight/0"].shape == (4, 6)


def test_float64_model_roundtrip(tmp_path):
    model = snn.Sequential([Input((3,)), Dense(2)], dtype="float64")
    model.save(tmp_path / "m.npz")
    loaded = snn.load_model(tmp_path / "m.npz")
    assert loaded.dtype == np.float64 and not loaded.compiled


def test_failed_save_leaves_previous_file_intact(blobs, tmp_path, monkeypatch):
    model, x, _ = _trained(blobs)
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    model.set_weights([w + 1 for w in model.get_weights()])
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left behind


def test_save_into_missing_folder(blobs, tmp_path):
    model, _, _ = _trained(blobs)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "nope" / "m.npz")


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        snn.load_model(tmp_path / "missing.npz")
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a scratchnn model file"):
        snn.load_model(text)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a scratchnn model"):
        snn.load_model(other)
    truncated = tmp_path / "trunc.npz"
    model = snn.Sequential([Input((3,)), Dense(2)])
    model.save(tmp_path / "good.npz")
    truncated.write_bytes((tmp_path / "good.npz").read_bytes()[:200])
    with pytest.raises(ModelFileError, match="corrupt"):
        snn.load_model(truncated)


def test_weights_not_matching_architecture(tmp_path):
    model = snn.Sequential([Input((3,)), Dense(2)])
    path = tmp_path / "m.npz"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    np.save(tmp_path / "w.npy", np.zeros((5, 5), np.float32))
    entries["weight/0.npy"] = (tmp_path / "w.npy").read_bytes()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    with pytest.raises(ModelFileError, match="weights do not match"):
        snn.load_model(path)


def test_save_and_load_weights(blobs, tmp_path):
    model, x, _ = _trained(blobs)
    model.save_weights(tmp_path / "w.npz")
    other, _, _ = _trained(blobs)
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_the_file_holds_get_config_and_get_compile_config(blobs, tmp_path):
    model, _, _ = _trained(blobs)
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        description = json.loads(str(data["__scratchnn__"]))
    assert description["model"] == model.get_config()
    assert description["compile"] == model.get_compile_config()


def test_load_model_builds_the_registered_model_class(blobs, tmp_path):
    from scratchnn.engine import saving

    class Tagged(snn.Sequential):
        pass

    model, x, _ = _trained(blobs)
    path = tmp_path / "model.npz"
    model.save(path)
    assert saving.register_model_class(Tagged) is Tagged
    try:
        loaded = saving.load_model(path)
    finally:
        saving.register_model_class(snn.Sequential)
    assert type(loaded) is Tagged
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(saving.load_model(path)) is snn.Sequential
