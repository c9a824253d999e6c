"""ReduceLROnPlateau, CSVLogger and LambdaCallback: hand-traced sequences, files read back
with the csv module, hook counts, and Keras 3's own callbacks as the reference."""

from __future__ import annotations

import csv
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import callbacks
from scratchnn.engine import callbacks as engine_callbacks
from scratchnn.layers import Dense, Input


def _model(lr=0.05):
    model = snn.Sequential([Input((4,)), Dense(8, activation="tanh"),
                            Dense(3, activation="softmax")])
    model.compile(snn.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _drive(cb, model, values, monitor="val_loss"):
    """Run ``cb`` standalone over epochs whose ``monitor`` takes ``values``; return the logged
    learning rates and the rate after the last epoch."""
    cb.set_model(model)
    cb.on_train_begin({})
    logged = []
    for epoch, value in enumerate(values):
        logs = {"loss": 1.0, monitor: value}
        cb.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return logged, float(model.optimizer.learning_rate)


def _sgd_holder(lr):
    return SimpleNamespace(optimizer=snn.optimizers.SGD(lr))


# --------------------------------------------------------------------------- ReduceLROnPlateau
# Each trace below is worked out by hand from the rules in ReduceLROnPlateau's docstring.

def test_reduce_lr_patience_hand_traced():
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0)
    # e0 best 5; e1 best 4; e2 wait 1; e3 wait 2 -> lr 0.5; e4 wait 1; e5 best 3;
    # e6 wait 1; e7 wait 2 -> lr 0.25
    logged, final = _drive(cb, _sgd_holder(1.0), [5, 4, 4, 4, 4, 3, 3, 3])
    assert logged == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    assert final == 0.25


def test_reduce_lr_cooldown_and_min_lr_hand_traced():
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.2,
                                     min_delta=0.0)
    # e1 -> 0.5 (cooldown 2); e2 counter 1; e3 counter 0, wait 1 -> 0.25 (cooldown 2);
    # e4 counter 1; e5 counter 0 -> max(0.125, 0.2) = 0.2; e6 counter 1;
    # e7, e8: wait >= patience but lr is at min_lr: no change, no cooldown
    logged, final = _drive(cb, _sgd_holder(1.0), [1.0] * 9)
    assert logged == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]
    assert final == 0.2
    assert (cb.cooldown_counter, cb.wait) == (0, 2)


def test_reduce_lr_mode_max_with_min_delta_hand_traced():
    cb = callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=1,
                                     min_delta=0.1)
    assert cb.mode == "max"  # "auto" for an accuracy
    # e0 best .5; e1 .55 <= .6 -> lr 0.1; e2 .7 > .6 best; e3 .75 <= .8 -> lr 0.1*0.1;
    # e4 .9 > .8 best
    logged, final = _drive(cb, _sgd_holder(1.0), [0.5, 0.55, 0.7, 0.75, 0.9],
                           monitor="val_accuracy")
    assert logged == [1.0, 1.0, 0.1, 0.1, 0.1 * 0.1]
    assert final == 0.1 * 0.1
    assert cb.best == 0.9


def test_reduce_lr_inside_fit_follows_the_scripted_val_loss(blobs, capsys):
    x, y = blobs
    script = [5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0]
    used, logged = [], []
    force = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.update(val_loss=script[epoch]))
    spy = callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: batch == 0 and used.append(
            model.optimizer.learning_rate),
        on_epoch_end=lambda epoch, logs: logged.append(logs["learning_rate"]))
    model = _model(lr=1.0)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0, verbose=1)
    history = model.fit(x, y, epochs=8, batch_size=30, validation_split=0.2, verbose=0,
                        callbacks=[force, reduce, spy])
    assert logged == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    assert used == logged  # the rate logged is the one each epoch trained with
    assert history.history["learning_rate"] == logged
    assert model.optimizer.learning_rate == 0.25
    out = capsys.readouterr().out
    assert out == ("\nEpoch 4: ReduceLROnPlateau reducing learning rate to 0.5.\n"
                   "\nEpoch 8: ReduceLROnPlateau reducing learning rate to 0.25.\n")


def test_reduce_lr_warns_when_the_monitor_is_not_logged(blobs):
    x, y = blobs
    with pytest.warns(UserWarning) as record:
        _model().fit(x, y, epochs=1, batch_size=45, verbose=0,
                     callbacks=[callbacks.ReduceLROnPlateau()])
    messages = [str(w.message) for w in record]
    assert any("ReduceLROnPlateau: monitor 'val_loss' will not be in the epoch logs" in m
               and "validation_split" in m for m in messages)
    assert any("Learning rate reduction is conditioned on metric `val_loss` which is not "
               "available. Available metrics are: loss,accuracy,learning_rate." == m
               for m in messages)


def test_reduce_lr_quiet_when_monitor_logged(blobs):
    x, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _model().fit(x, y, epochs=1, batch_size=45, verbose=0, validation_split=0.2,
                     callbacks=[callbacks.ReduceLROnPlateau()])


@pytest.mark.parametrize(("kwargs", "error", "text"), [
    ({"factor": 1.0}, ValueError,
     "ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1.0"),
    ({"factor": 2}, ValueError, "Received factor=2"),
    ({"factor": -0.5}, ValueError, "factor"),
    ({"factor": "0.5"}, TypeError, "factor"),
    ({"patience": -1}, ValueError, "patience"),
    ({"cooldown": 1.5}, TypeError, "cooldown"),
    ({"min_lr": -1.0}, ValueError, "min_lr"),
    ({"mode": "up"}, ValueError, "mode"),
    ({"monitor": ""}, TypeError, "monitor"),
])
def test_reduce_lr_rejects_bad_arguments(kwargs, error, text):
    with pytest.raises(error, match=text.replace("(", r"\(").replace(".", r"\.")):
        callbacks.ReduceLROnPlateau(**kwargs)


def test_reduce_lr_resets_on_train_begin():
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=3)
    _drive(cb, _sgd_holder(1.0), [1.0, 1.0])
    assert (cb.best, cb.cooldown_counter) == (1.0, 3)
    cb.on_train_begin({})
    assert (cb.best, cb.cooldown_counter, cb.wait) == (None, 0, 0)


# --------------------------------------------------------------------------- CSVLogger


def _read(path, delimiter=","):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f, delimiter=delimiter))


def test_csv_logger_in_fit_writes_sorted_keys_and_history(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "log.csv"
    history = _model().fit(x, y, epochs=3, batch_size=30, validation_split=0.2, verbose=0,
                           callbacks=[callbacks.CSVLogger(path)])
    rows = _read(path)
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert rows[0] == ["epoch", *keys]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for column, key in enumerate(keys, start=1):
        assert [float(r[column]) for r in rows[1:]] == history.history[key]
    assert path.read_bytes().count(b"\r\n") == 4


def test_csv_logger_without_validation_adds_na_val_columns_as_keras(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "log.csv"
    _model().fit(x, y, epochs=2, batch_size=45, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    rows = _read(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[3:] for r in rows[1:]] == [["NA", "NA"], ["NA", "NA"]]


def test_csv_logger_append_writes_the_header_once(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "log.csv"
    path.write_text("")  # an empty file still gets the header
    model = _model()
    for _ in range(2):
        model.fit(x, y, epochs=2, batch_size=45, verbose=0,
                  callbacks=[callbacks.CSVLogger(path, separator=";", append=True)])
    rows = _read(path, ";")
    assert rows[0][0] == "epoch" and len(rows) == 5
    assert [r[0] for r in rows[1:]] == ["0", "1", "0", "1"]
    # without append the file starts over
    model.fit(x, y, epochs=1, batch_size=45, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    assert len(_read(path)) == 2


def test_csv_logger_flushes_every_epoch(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "log.csv"
    seen = []
    spy = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(len(_read(path))))
    _model().fit(x, y, epochs=2, batch_size=45, verbose=0,
                 callbacks=[callbacks.CSVLogger(path), spy])
    assert seen == [2, 3]


@pytest.mark.parametrize("where", ["missing_folder", "folder"])
def test_csv_logger_bad_destination_fails_before_training(blobs, tmp_path, where):
    x, y = blobs
    path = tmp_path / "nope" / "log.csv" if where == "missing_folder" else tmp_path
    before = sorted(tmp_path.rglob("*"))
    epochs = []
    spy = callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))
    with pytest.raises(OSError, match="CSVLogger"):
        _model().fit(x, y, epochs=1, batch_size=45, verbose=0,
                     callbacks=[spy, callbacks.CSVLogger(path)])
    assert epochs == []
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"filename": 3}, TypeError), ({"filename": "x", "separator": ";;"}, ValueError),
    ({"filename": "x", "append": 1}, TypeError),
])
def test_csv_logger_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        callbacks.CSVLogger(**kwargs)


def test_csv_value_formats_as_keras():
    assert engine_callbacks._csv_value(np.array([1.5, 2.0])) == '"[1.5, 2.0]"'
    assert engine_callbacks._csv_value(np.float64(0.5)) == 0.5  # 0-d: written as a number
    assert engine_callbacks._csv_value("x") == "x"


# --------------------------------------------------------------------------- LambdaCallback


def test_lambda_callback_hooks_counted(blobs):
    x, y = blobs
    counts: dict[str, int] = {}

    def count(name):
        return lambda *args: counts.__setitem__(name, counts.get(name, 0) + 1)

    hooks = ["on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
             "on_train_batch_begin", "on_train_batch_end", "check_log_keys"]
    cb = callbacks.LambdaCallback(**{h: count(h) for h in hooks})
    _model().fit(x, y, epochs=3, batch_size=30, verbose=0, callbacks=[cb])
    assert counts == {"on_epoch_begin": 3, "on_epoch_end": 3, "on_train_begin": 1,
                      "on_train_end": 1, "on_train_batch_begin": 9, "on_train_batch_end": 9,
                      "check_log_keys": 1}


def test_lambda_callback_gets_keras_arguments(blobs):
    x, y = blobs
    calls = []
    cb = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: calls.append((epoch, sorted(logs))),
        on_train_batch_end=lambda batch, logs: calls.append(batch))
    _model().fit(x, y, epochs=1, batch_size=45, verbose=0, callbacks=[cb])
    assert calls == [0, 1, (0, ["accuracy", "loss"])]


def test_lambda_callback_rejects_non_callables_and_unknown_hooks():
    with pytest.raises(TypeError, match="on_epoch_end must be callable"):
        callbacks.LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="fit never calls on_test_begin"):
        callbacks.LambdaCallback(on_test_begin=lambda logs: None)


# --------------------------------------------------------------------------- Keras reference


@pytest.mark.parametrize("kwargs", [
    {"factor": 0.5, "patience": 2, "min_delta": 0.0},
    {"factor": 0.5, "patience": 1, "cooldown": 2, "min_lr": 0.125, "min_delta": 0.0},
    {"factor": 0.25, "patience": 0, "cooldown": 1, "min_delta": 0.25},
    {"factor": 0.5, "patience": 3, "cooldown": 3, "mode": "max", "min_delta": 0.5},
])
def test_reduce_lr_matches_keras(kwargs):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(7)
    for _ in range(20):  # dyadic values: the comparisons are exact in both
        values = [float(v) for v in rng.integers(0, 6, size=25) / 4]
        ours = _drive(callbacks.ReduceLROnPlateau(**kwargs), _sgd_holder(1.0), values)
        holder = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=1.0))
        theirs = _drive(keras.callbacks.ReduceLROnPlateau(**kwargs), holder, values)
        assert ours == theirs


def test_csv_logger_file_matches_keras_byte_for_byte(tmp_path):
    keras = pytest.importorskip("keras")
    epochs = [{"loss": 0.5, "accuracy": 0.75, "learning_rate": 0.001},
              {"loss": 0.25, "accuracy": 1.0, "learning_rate": 0.0005},
              {"loss": 0.1, "accuracy": np.array([0.5, 1.0])}]
    for append in (False, True):
        for name, cls in (("ours", callbacks.CSVLogger), ("keras", keras.callbacks.CSVLogger)):
            cb = cls(str(tmp_path / f"{name}.csv"), separator=";", append=append)
            cb.on_train_begin({})
            for epoch, logs in enumerate(epochs):
                cb.on_epoch_end(epoch, dict(logs))
            cb.on_train_end({})
        assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()
