"""scratchnn.workflow.lr_finder: the sweep follows lr = start * 10**(step/20) exactly, records the
losses training really produced, leaves the model untouched, and the suggestion follows the
documented rule on hand-made curves."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn.workflow.lr_finder import find_learning_rate, lr_schedule, smooth, suggest_lr


def make_model(hidden=8, opt="adam", seed=0):
    snn.utils.set_random_seed(seed)
    m = snn.Sequential([snn.layers.Dense(hidden, activation="relu", input_shape=(4,)),
                        snn.layers.Dense(3, activation="softmax")], dtype="float64")
    m.build()  # initial weights fixed by the seed, not by later draws
    m.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_schedule_formula():
    assert lr_schedule(0) == 1e-4
    assert lr_schedule(20) == pytest.approx(1e-3, rel=1e-12)
    assert lr_schedule(30, start=1e-3, steps_per_decade=10) == pytest.approx(1.0, rel=1e-12)


def test_smooth_hand_values():
    # beta 0.5: a0 = 0.5*1 -> /(1-0.5) = 1;  a1 = 0.25 + 0.5*3 = 1.75 -> /(1-0.25) = 7/3
    np.testing.assert_allclose(smooth([1.0, 3.0], 0.5), [1.0, 7 / 3])
    np.testing.assert_array_equal(smooth([1.0, 5.0, 2.0], 0.0), [1.0, 5.0, 2.0])
    out = smooth([1.0, np.nan, 3.0], 0.5)
    assert np.isnan(out[1]) and out[2] == pytest.approx(7 / 3)


def test_suggestion_on_a_parabola():
    lrs = 1e-4 * 10 ** (np.arange(81) / 20)  # 1e-4 .. 1
    loss = (np.log10(lrs) + 2) ** 2  # minimum at lr = 1e-2, steepest at the start
    lr_min, lr_steep, (lo, hi) = suggest_lr(lrs, loss)
    assert lr_min == pytest.approx(1e-2)
    assert lr_steep == pytest.approx(1e-4)
    assert (lo, hi) == (pytest.approx(1e-4), pytest.approx(1e-3))
    # A curve with a plateau then a cliff: steepest descent is at the cliff.
    cliff = np.where(lrs < 1e-3, 2.0, 0.5)
    cliff[lrs > 0.1] = 3.0
    _, steep, _ = suggest_lr(lrs, cliff)
    assert steep == pytest.approx(lrs[lrs < 1e-3][-1])
    with pytest.raises(ValueError, match="NaN"):
        suggest_lr(lrs[:2], [np.nan, np.inf])


def test_per_batch_sweep_records_real_losses_and_restores(blobs):
    x, y = blobs
    model = make_model()
    before = model.get_weights()
    res = find_learning_rate(model, x, y, batch_size=16, max_lr=1.0, seed=3, beta=0.5,
                             diverge_factor=1e9)
    n = len(res.learning_rates)
    assert n == 81  # 1e-4 .. 1 at 20 steps per decade, nothing diverges on blobs
    np.testing.assert_allclose(res.learning_rates, 1e-4 * 10 ** (np.arange(n) / 20))
    np.testing.assert_allclose(res.smoothed, smooth(res.losses, 0.5))
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert model.optimizer.iterations == 0 and model.optimizer.learning_rate == 0.001

    # Replay: the same batches with the same rates through train_on_batch give the same losses.
    replay = make_model()
    order = np.random.default_rng(3).permutation(len(x))  # the finder's first epoch order
    losses = []
    for step in range(len(x) // 16):
        replay.optimizer.learning_rate = 1e-4 * 10 ** (step / 20)
        idx = order[step * 16: (step + 1) * 16]
        losses.append(replay.train_on_batch(x[idx], y[idx])[0])
    np.testing.assert_allclose(res.losses[: len(losses)], losses, rtol=1e-12)


def test_sweep_leaves_training_identical(blobs):
    """fit after a restored sweep == fit on a model never swept (weights and optimizer)."""
    x, y = blobs
    swept, fresh = make_model(), make_model()
    find_learning_rate(swept, x, y, batch_size=16, max_lr=1.0, seed=1)
    h1 = swept.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=5)
    h2 = fresh.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=5)
    assert h1.history["loss"] == h2.history["loss"]
    for a, b in zip(swept.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    # And the optimizer state after a real step is put back too.
    state = {k: np.array(v, copy=True) for k, v in swept.optimizer_state().items()}
    find_learning_rate(swept, x, y, batch_size=16, max_lr=1.0, seed=2)
    for k, v in swept.optimizer_state().items():
        np.testing.assert_array_equal(v, state[k])


@pytest.mark.parametrize("opt", ["sgd", "rmsprop", "adam", "nadam"])
def test_sweep_leaves_every_optimizer_as_found(blobs, opt):
    """Restoring goes through optimizer_state/set_optimizer_state, so state kept outside the
    slots (Nadam's momentum-schedule product) is put back too: training after a sweep, from a
    fresh optimizer or after real steps, is bitwise that of a model never swept."""
    x, y = blobs
    swept, fresh = make_model(opt=opt), make_model(opt=opt)
    for step in range(2):  # the first sweep meets an unbuilt optimizer, the second a used one
        find_learning_rate(swept, x, y, batch_size=16, max_lr=1.0, seed=step)
        h1 = swept.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=5)
        h2 = fresh.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=5)
        assert h1.history["loss"] == h2.history["loss"]
        for a, b in zip(swept.get_weights(), fresh.get_weights()):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["torch", "array_api_strict"])
def test_sweep_on_another_backend_matches_numpy(blobs, name):
    """The finder uses only the model's public API: a float64 model on torch or
    array-api-strict sweeps the same rates to losses equal to NumPy's within 1e-12."""
    pytest.importorskip(name)
    x, y = blobs
    snn.backend.set_backend("numpy")
    ref = find_learning_rate(make_model(), x, y, batch_size=16, max_lr=1.0, seed=3)
    snn.backend.set_backend(name)
    model = make_model()
    before = model.get_weights()
    res = find_learning_rate(model, x, y, batch_size=16, max_lr=1.0, seed=3)
    np.testing.assert_array_equal(res.learning_rates, ref.learning_rates)
    np.testing.assert_allclose(res.losses, ref.losses, rtol=1e-12)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert model.optimizer.iterations == 0


def test_divergence_stops_the_sweep():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((90, 4)), rng.integers(0, 3, 90)  # labels are noise
    model = make_model(opt=snn.optimizers.SGD(), hidden=16)
    res = find_learning_rate(model, x, y, batch_size=8, start=1e-3, max_lr=1e4, seed=0)
    assert res.stopped_early
    assert res.learning_rates[-1] < 1e4
    assert res.lr_min_loss < res.learning_rates[-1]
    assert res.suggested_lr == pytest.approx(res.lr_min_loss / 10)


def test_per_epoch_sweep_uses_the_scheduler(blobs):
    x, y = blobs
    model = make_model()
    res = find_learning_rate(model, x, y, per_batch=False, epochs=12, batch_size=30, seed=0)
    np.testing.assert_allclose(res.learning_rates, 1e-4 * 10 ** (np.arange(12) / 20))
    assert res.history["learning_rate"] == list(res.learning_rates)
    np.testing.assert_array_equal(res.smoothed, res.losses)
    assert not res.stopped_early
    # Epoch losses are fit's epoch means: replay them with fit and the same schedule.
    replay = make_model()
    sched = snn.callbacks.LearningRateScheduler(lambda e: 1e-4 * 10 ** (e / 20))
    h = replay.fit(x, y, epochs=12, batch_size=30, verbose=0, seed=0, callbacks=[sched])
    np.testing.assert_allclose(res.losses, h.history["loss"], rtol=1e-12)
    text = res.format()
    assert "suggested learning rate" in text and len(text.splitlines()) == 12 + 3


def test_suggestion_trains_better_than_past_the_minimum(mnist_data):
    """On MNIST the suggested rate lowers the loss; 100x the loss-minimum rate does not."""
    (x_train, y_train), _ = mnist_data
    x, y = x_train[:3000] / 255.0, y_train[:3000]

    def model():
        snn.utils.set_random_seed(0)
        m = snn.Sequential([snn.layers.Flatten(input_shape=(28, 28)),
                            snn.layers.Dense(32, activation="relu"),
                            snn.layers.Dense(10, activation="softmax")])
        m.compile(snn.optimizers.SGD(), "sparse_categorical_crossentropy")
        return m

    res = find_learning_rate(model(), x, y, batch_size=32, seed=0)
    assert 1e-4 < res.lr_min_loss < 10
    losses = {}
    for lr in (res.suggested_lr, 100 * res.lr_min_loss):
        m = model()
        m.optimizer.learning_rate = lr
        losses[lr] = m.fit(x, y, epochs=1, verbose=0, seed=0).history["loss"][-1]
    good, bad = losses.values()
    assert good < 2.0 and (not np.isfinite(bad) or bad > good)


def test_bad_arguments(blobs):
    x, y = blobs
    with pytest.raises(RuntimeError, match="compile"):
        find_learning_rate(snn.Sequential([snn.layers.Dense(3, input_shape=(4,))]), x, y)
    with pytest.raises(ValueError, match="start"):
        find_learning_rate(make_model(), x, y, start=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="samples"):
        find_learning_rate(make_model(), x, y[:5])


def test_per_batch_sweep_cycles_through_shuffled_epochs(blobs):
    """Past the first epoch the batches come from a fresh permutation whenever the next batch
    would run past the end (the remainder is skipped): replayed by hand over the whole sweep."""
    x, y = blobs
    res = find_learning_rate(make_model(), x, y, batch_size=32, max_lr=1.0, seed=4,
                             diverge_factor=1e9)
    replay, rng = make_model(), np.random.default_rng(4)
    order, pos, losses = rng.permutation(len(x)), 0, []
    for step in range(len(res.losses)):
        if pos + 32 > len(x):
            order, pos = rng.permutation(len(x)), 0
        replay.optimizer.learning_rate = lr_schedule(step)
        losses.append(replay.train_on_batch(x[order[pos: pos + 32]], y[order[pos: pos + 32]])[0])
        pos += 32
    assert len(losses) == 81 and len(x) % 32 != 0 and len(x) < 81 * 32
    np.testing.assert_array_equal(res.losses, losses)
