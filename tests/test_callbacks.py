"""Callbacks: hooks order, LearningRateScheduler, EarlyStopping, ModelCheckpoint, TerminateOnNaN."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn.engine import callbacks
from scratchnn.layers import Dense, Input


def _model(lr=0.05, hidden="tanh"):
    model = snn.Sequential([Input((4,)), Dense(8, activation=hidden),
                            Dense(3, activation="softmax")])
    model.compile(snn.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin{epoch}")

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(f"batch{batch}")
        assert set(logs) == {"loss", "accuracy"}

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end{epoch}")

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_hook_order(blobs):
    x, y = blobs
    rec = Recorder()
    _model().fit(x, y, epochs=2, batch_size=45, callbacks=[rec], verbose=0)
    assert rec.model is not None
    assert rec.events == ["train_begin", "epoch_begin0", "batch0", "batch1", "epoch_end0",
                          "epoch_begin1", "batch0", "batch1", "epoch_end1", "train_end"]


def test_lr_scheduler_two_argument_form_sets_rate_before_each_epoch(blobs):
    x, y = blobs
    model = _model(lr=0.1)
    seen = []

    class Spy(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                seen.append(self.model.optimizer.learning_rate)

    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.1 if epoch else lr)
    hist = model.fit(x, y, epochs=3, callbacks=[sched, Spy()], verbose=0)
    assert seen == pytest.approx([0.1, 0.01, 0.001])
    assert hist.history["learning_rate"] == pytest.approx(seen)


def test_lr_scheduler_rejects_bad_values(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match="not a number"):
        _model().fit(x, y, callbacks=[callbacks.LearningRateScheduler(lambda e: "fast")],
                     verbose=0)


def test_early_stopping_patience_and_restore(blobs):
    x, y = blobs
    model = _model()
    losses = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    snapshots = []

    class FakeVal(callbacks.Callback):
        adds_log_keys = ("val_loss",)  # so EarlyStopping knows val_loss will be logged

        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            snapshots.append(self.model.get_weights())

    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    hist = model.fit(x, y, epochs=6, callbacks=[FakeVal(), stop], verbose=0)
    assert hist.epoch == [0, 1, 2, 3]  # best at epoch 1, two epochs without improvement
    assert stop.stopped_epoch == 3
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_max_mode_for_accuracy():
    assert callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert callbacks.EarlyStopping(monitor="val_loss").mode == "min"
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="sideways")


def test_model_checkpoint_every_epoch_and_best_only(blobs, tmp_path):
    x, y = blobs
    model = _model()
    every = callbacks.ModelCheckpoint(str(tmp_path / "m{epoch:02d}.npz"))
    model.fit(x, y, epochs=2, callbacks=[every], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m01.npz", "m02.npz"]
    restored = snn.load_model(tmp_path / "m02.npz")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))

    best = callbacks.ModelCheckpoint(str(tmp_path / "best.npz"), monitor="loss",
                                     save_best_only=True)
    writes = []
    best_save = model.save
    model.save = lambda path: (writes.append(path), best_save(path))
    model.fit(x, y, epochs=3, callbacks=[best], verbose=0)
    assert len(writes) >= 1 and (tmp_path / "best.npz").exists()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_stops_quietly(blobs, capsys):
    x, y = blobs
    model = _model(lr=1e30, hidden="linear")  # weights overflow to inf, then inf - inf = nan
    x_big = x * 1e6
    hist = model.fit(x_big, y, epochs=5, batch_size=10, callbacks=[callbacks.TerminateOnNaN()],
                     verbose=0)
    assert len(hist.epoch) == 1
    assert "Invalid loss" in capsys.readouterr().err
    assert model.stop_training


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_loss_without_callback_raises_clear_error(blobs):
    x, y = blobs
    model = _model(lr=1e30, hidden="linear")
    with pytest.raises(snn.NonFiniteLossError, match=r"loss became (nan|inf) at epoch 1, batch"):
        model.fit(x * 1e6, y, epochs=5, batch_size=10, verbose=0)
