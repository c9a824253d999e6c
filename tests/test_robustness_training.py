"""The training loop's edges: batch buffers, non-finite weights, argument checks, log keys.

Each case was a bug: a 29 GiB allocation for 10 samples, ``fit`` returning normally with NaN
weights, ``initial_epoch=-3`` training four epochs, messages that did not name the argument, a
bare ``KeyError`` from ``ModelCheckpoint`` after the first epoch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import callbacks, optimizers
from scratchnn.engine.training import BatchIterator, params_finite
from scratchnn.layers import Dense, Input

X = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
Y = np.array([0, 1, 2] * 4)


def small(optimizer="adam", dtype=None):
    model = snn.Sequential([Input((4,)), Dense(5, activation="relu"),
                            Dense(3, activation="softmax")], dtype=dtype)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# -- batch buffers ------------------------------------------------------------------------------

def test_huge_batch_size_on_few_samples_allocates_only_the_samples():
    """batch_size=10**7 on 10 samples of 784 features asked for 29.2 GiB; it is one batch."""
    rng = np.random.default_rng(1)
    x, labels = rng.random((10, 784)).astype(np.float32), rng.integers(0, 10, 10)
    models = []
    for batch_size in (10**7, 10):
        snn.utils.set_random_seed(5)
        model = snn.Sequential([Input((784,)), Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, labels, batch_size=batch_size, epochs=2, verbose=0, seed=3)
        models.append(model)
    # the same training as one batch of all 10 samples, bit for bit
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert models[0].optimizer.iterations == 2


def test_batch_iterator_gathers_into_buffers_of_at_most_n_rows():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    batches = BatchIterator((x, y), 10**9)
    order = np.array([3, 1, 4, 0, 5, 9, 2, 6, 8, 7])
    (xb, yb), = list(batches(order))
    np.testing.assert_array_equal(yb, order)
    np.testing.assert_array_equal(xb, x[order])
    assert all(len(buf) == 10 for buf in batches._buffers)
    ragged = BatchIterator((x, y), 4)
    assert [yb.tolist() for _, yb in ragged(order)] == [[3, 1, 4, 0], [5, 9, 2, 6], [8, 7]]
    assert [yb.tolist() for _, yb in ragged()] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


# -- non-finite weights -------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 7, 100_001])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_params_finite_finds_any_single_bad_entry(size, bad):
    rng = np.random.default_rng(size)
    for dtype in (np.float32, np.float64):
        flat = rng.standard_normal(size).astype(dtype)
        assert params_finite(flat)
        for i in {0, size // 2, size - 1}:
            broken = flat.copy()
            broken[i] = bad
            assert not params_finite(broken), (dtype, i)


def test_params_finite_accepts_huge_finite_values():
    """The dot product overflows; the entry-by-entry fallback must still say finite."""
    flat = np.full(11, 3e38, np.float32)
    assert params_finite(flat)
    flat[-1] = np.nan
    assert not params_finite(flat)


def _zero_gradient_model():
    """Adam(epsilon=0) on a model already at the minimum: update 0 / (sqrt(0) + 0) = NaN."""
    model = snn.Sequential([Input((2,)), Dense(1, kernel_initializer="zeros")])
    model.compile(optimizers.Adam(epsilon=0.0), "mse")
    return model, np.ones((4, 2)), np.zeros(4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_weights_from_a_zero_epsilon_stop_fit_with_a_clear_error():
    model, x, y = _zero_gradient_model()
    with pytest.raises(snn.NonFiniteLossError,
                       match=r"weights became NaN or infinite in the update at epoch 1, batch 1"
                             r" \(the batch loss before it was 0\)") as info:
        model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert "epsilon > 0" in str(info.value)
    assert info.value.history.history == {}  # no epoch completed


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_weights_with_terminate_on_nan_stop_quietly(capsys):
    model, x, y = _zero_gradient_model()
    hist = model.fit(x, y, epochs=3, batch_size=2, verbose=0,
                     callbacks=[callbacks.TerminateOnNaN()])
    assert model.optimizer.iterations == 1 and model.stop_training
    assert len(hist.history["loss"]) == 1 and np.isnan(hist.history["loss"][0])
    assert "Invalid loss" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_huge_inputs_that_make_the_weights_nan_while_the_loss_is_finite():
    """Inputs of 1e30: the loss before each update is finite (~1e29), Adam's v overflows to
    inf at step 1 and becomes inf - inf = NaN at step 2, and so do the weights.  fit used to
    return normally here (2 steps, last one NaN)."""
    snn.utils.set_random_seed(0)
    model = small()
    x = np.full((12, 4), 1e30, np.float32)
    with pytest.raises(snn.NonFiniteLossError, match="update at epoch 1, batch 2"):
        model.fit(x, Y, epochs=1, batch_size=6, verbose=0)
    assert not all(np.isfinite(w).all() for w in model.get_weights())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad_update, epochs, where", [
    (4, 3, "epoch 2, batch 2"),  # the next step's loss would be inf: named one batch late
    (5, 2, "epoch 2, batch 3"),  # the very last update: nothing after it would notice
])
def test_non_finite_weights_are_reported_at_the_update_that_made_them(bad_update, epochs, where):
    model = snn.Sequential([Input((2,)), Dense(1, kernel_initializer="ones")])
    model.compile(optimizers.SGD(0.1), "mse")
    real_apply = model.optimizer.apply

    def apply(grads, variables):  # an infinite gradient in update number bad_update (0-based)
        if model.optimizer.iterations == bad_update:
            grads[0][...] = np.inf
        real_apply(grads, variables)

    model.optimizer.apply = apply
    with pytest.raises(snn.NonFiniteLossError, match=f"update at {where}"):
        model.fit(np.ones((6, 2)), np.full(6, 2.0), epochs=epochs, batch_size=2, shuffle=False,
                  verbose=0)
    assert model.optimizer.iterations == bad_update + 1


# -- argument checks: every public argument, named --------------------------------------------

BAD_FIT_ARGUMENTS = [
    ({"initial_epoch": -3}, ValueError, "initial_epoch"),
    ({"initial_epoch": True}, TypeError, "initial_epoch"),
    ({"batch_size": True}, TypeError, "batch_size"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"batch_size": "32"}, TypeError, "batch_size"),
    ({"epochs": -1}, ValueError, "epochs"),
    ({"epochs": 2.0}, TypeError, "epochs"),
    ({"epochs": False}, TypeError, "epochs"),
    ({"validation_split": "0.2"}, TypeError, "validation_split"),
    ({"validation_split": True}, TypeError, "validation_split"),
    ({"validation_split": 1.0}, ValueError, "validation_split"),
    ({"validation_split": -0.1}, ValueError, "validation_split"),
    ({"validation_split": float("nan")}, ValueError, "validation_split"),
    ({"validation_data": X}, ValueError, "validation_data"),
    ({"validation_data": (X, Y, Y, Y)}, ValueError, "validation_data"),  # (x, y, w) is valid
    ({"shuffle": "yes"}, TypeError, "shuffle"),
    ({"shuffle": 1}, TypeError, "shuffle"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"seed": True}, TypeError, "seed"),
    ({"verbose": 3}, ValueError, "verbose"),
    ({"verbose": True}, ValueError, "verbose"),
    ({"verbose": "loud"}, ValueError, "verbose"),
    ({"callbacks": callbacks.TerminateOnNaN()}, TypeError, r"callbacks must be a list"),
    ({"callbacks": ["early"]}, TypeError, r"callbacks\[0\]"),
]


@pytest.mark.parametrize("kwargs, error, name", BAD_FIT_ARGUMENTS,
                         ids=[f"{next(iter(k))}={next(iter(k.values()))!r}"[:40]
                              for k, _, _ in BAD_FIT_ARGUMENTS])
def test_fit_names_the_bad_argument_and_trains_nothing(kwargs, error, name):
    model = small()
    before = model.get_weights()
    with pytest.raises(error, match=name):
        model.fit(X, Y, **{"verbose": 0, **kwargs})
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call, error, name", [
    (lambda m: m.evaluate(X, Y, batch_size=True, verbose=0), TypeError, "batch_size"),
    (lambda m: m.evaluate(X, Y, batch_size=-2, verbose=0), ValueError, "batch_size"),
    (lambda m: m.evaluate(X, Y, verbose="x"), ValueError, "verbose"),
    (lambda m: m.evaluate(X, Y, verbose=0, return_dict="yes"), TypeError, "return_dict"),
    (lambda m: m.predict(X, batch_size=0.5), TypeError, "batch_size"),
    (lambda m: m.predict(X, batch_size=0), ValueError, "batch_size"),
    (lambda m: m.predict(X, verbose=7), ValueError, "verbose"),
    (lambda m: m.test_on_batch(3.0, Y), ValueError, "x must have a batch dimension"),
    (lambda m: m.test_on_batch(X, None), ValueError, "y is missing"),
    (lambda m: m.train_on_batch(X, None), ValueError, "y is missing"),
    (lambda m: m.train_on_batch(X[:, :3], Y), ValueError, r"x has per-sample shape \(3,\)"),
    (lambda m: m.compute_gradients(X, Y, return_input_grad="yes"), TypeError,
     "return_input_grad"),
    (lambda m: m.compile(5, "mse"), TypeError, "optimizer must be one of"),
    (lambda m: m.compile("adam", "mse", metrics=5), TypeError, "metrics must be a list"),
])
def test_evaluate_predict_batch_calls_and_compile_name_the_bad_argument(call, error, name):
    with pytest.raises(error, match=name):
        call(small())


def test_a_failed_compile_leaves_the_previous_compile_in_place():
    model = small("sgd")
    with pytest.raises(ValueError, match="Unknown metric"):
        model.compile("adam", "mse", metrics=["accuracy", "precision@5"])
    assert isinstance(model.optimizer, optimizers.SGD)
    assert model.loss.name == "sparse_categorical_crossentropy"


def test_huge_batch_size_in_evaluate_and_predict_is_one_batch():
    model = small(dtype="float64")
    np.testing.assert_array_equal(model.predict(X, batch_size=10**9, verbose=0),
                                  model.predict(X, batch_size=12, verbose=0))
    assert model.evaluate(X, Y, batch_size=10**9, verbose=0) == model.evaluate(
        X, Y, batch_size=12, verbose=0)


@pytest.mark.parametrize("make, error, name", [
    (lambda: optimizers.Adam(learning_rate=None), TypeError, "learning_rate"),
    (lambda: optimizers.Adam(learning_rate="0.01"), TypeError, "learning_rate"),
    (lambda: optimizers.Adam(learning_rate=True), TypeError, "learning_rate"),
    (lambda: optimizers.SGD(learning_rate=-0.1), ValueError, "learning_rate"),
    (lambda: optimizers.SGD(learning_rate=float("inf")), ValueError, "learning_rate"),
    (lambda: optimizers.SGD(learning_rate=float("nan")), ValueError, "learning_rate"),
    (lambda: optimizers.SGD(momentum=-0.1), ValueError, "momentum"),
    (lambda: optimizers.SGD(momentum=1.5), ValueError, "momentum"),
    (lambda: optimizers.SGD(momentum="0.9"), TypeError, "momentum"),
    (lambda: optimizers.SGD(momentum=None), TypeError, "momentum"),
    (lambda: optimizers.SGD(nesterov="yes"), TypeError, "nesterov"),
    (lambda: optimizers.Adam(beta_1=1.0), ValueError, "beta_1"),
    (lambda: optimizers.Adam(beta_1=-0.5), ValueError, "beta_1"),
    (lambda: optimizers.Adam(beta_2=1.0), ValueError, "beta_2"),
    (lambda: optimizers.Adam(beta_2=None), TypeError, "beta_2"),
    (lambda: optimizers.Adam(epsilon=-1e-7), ValueError, "epsilon"),
    (lambda: optimizers.Adam(epsilon="1e-7"), TypeError, "epsilon"),
    (lambda: optimizers.Adam(epsilon=float("nan")), ValueError, "epsilon"),
])
def test_optimizer_hyperparameters_are_checked_by_name(make, error, name):
    with pytest.raises(error, match=name):
        make()


def test_learning_rate_setter_is_checked_too():
    opt = optimizers.Adam()
    for bad, error in ((None, TypeError), (-1.0, ValueError), ("fast", TypeError)):
        with pytest.raises(error, match="learning_rate"):
            opt.learning_rate = bad
    assert opt.learning_rate == 0.001
    opt.learning_rate = np.float32(0.5)
    assert opt.learning_rate == 0.5 and type(opt.learning_rate) is float


def test_edge_values_that_are_valid_stay_valid():
    assert optimizers.SGD(momentum=1).momentum == 1.0
    assert optimizers.SGD(learning_rate=0).learning_rate == 0.0
    assert optimizers.Adam(beta_1=0, beta_2=0, epsilon=0).epsilon == 0.0
    model = small()
    assert model.fit(X, Y, epochs=0, verbose=0).history == {}
    assert model.fit(X, Y, epochs=2, initial_epoch=1, verbose=0).epoch == [1]


@pytest.mark.parametrize("make, error, name", [
    (lambda: callbacks.EarlyStopping(patience=-1), ValueError, "patience"),
    (lambda: callbacks.EarlyStopping(patience=1.5), TypeError, "patience"),
    (lambda: callbacks.EarlyStopping(min_delta="0.1"), TypeError, "min_delta"),
    (lambda: callbacks.EarlyStopping(monitor=None), TypeError, "monitor"),
    (lambda: callbacks.EarlyStopping(start_from_epoch=-1), ValueError, "start_from_epoch"),
    (lambda: callbacks.EarlyStopping(restore_best_weights="yes"), TypeError, "restore_best"),
    (lambda: callbacks.ModelCheckpoint(None), TypeError, "filepath"),
    (lambda: callbacks.ModelCheckpoint("m_{}.npz"), ValueError, "positional field"),
    (lambda: callbacks.ModelCheckpoint("m_{val_loss.npz"), ValueError, "not a valid format"),
    (lambda: callbacks.ModelCheckpoint("m.npz", save_best_only=1), TypeError, "save_best_only"),
    (lambda: callbacks.LearningRateScheduler(0.1), TypeError, "schedule"),
])
def test_callback_arguments_are_checked_by_name(make, error, name):
    with pytest.raises(error, match=name):
        make()


# -- log keys that fit will never write ---------------------------------------------------------

def test_checkpoint_path_with_val_loss_but_no_validation_fails_before_training(tmp_path):
    model = small()
    ck = callbacks.ModelCheckpoint(str(tmp_path / "ck_{val_loss:.2f}.npz"))
    with pytest.raises(ValueError, match=r"uses \{val_loss\}, which fit will not log \(pass "
                                         r"validation_data.*: accuracy, loss$"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[ck])
    assert model.optimizer.iterations == 0
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_path_with_a_bad_format_spec_fails_before_training(tmp_path):
    ck = callbacks.ModelCheckpoint(str(tmp_path / "ck_{loss:d}.npz"))
    model = small()
    with pytest.raises(ValueError, match="cannot format filepath.*'d'"):
        model.fit(X, Y, verbose=0, callbacks=[ck])
    assert model.optimizer.iterations == 0


def test_checkpoint_path_with_val_loss_and_validation_is_formatted(tmp_path):
    model = small()
    ck = callbacks.ModelCheckpoint(str(tmp_path / "ck_{epoch:02d}_{val_loss:.3f}.npz"))
    hist = model.fit(X, Y, epochs=2, verbose=0, callbacks=[ck], validation_split=0.25)
    expected = sorted(f"ck_{e + 1:02d}_{v:.3f}.npz"
                      for e, v in enumerate(hist.history["val_loss"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == expected


def test_checkpoint_key_added_by_another_callback_counts_as_logged(tmp_path):
    sched = callbacks.LearningRateScheduler(lambda epoch: 0.01)
    ck = callbacks.ModelCheckpoint(str(tmp_path / "lr_{learning_rate:.2f}.npz"))
    small().fit(X, Y, epochs=1, verbose=0, callbacks=[sched, ck])
    assert [p.name for p in tmp_path.iterdir()] == ["lr_0.01.npz"]


@pytest.mark.parametrize("make", [
    lambda path: callbacks.EarlyStopping(monitor="val_loss"),
    lambda path: callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True),
    lambda path: callbacks.EarlyStopping(monitor="acc"),  # the metric is named "accuracy"
])
def test_a_monitor_that_will_never_be_logged_warns_at_train_start(make, tmp_path):
    cb = make(str(tmp_path / "m.npz"))
    model = small()
    with pytest.warns(UserWarning, match=f"monitor '{cb.monitor}' will not be in the epoch "
                                         "logs.*fit will log accuracy, loss$"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[cb])


@pytest.mark.parametrize("make", [
    lambda path: callbacks.EarlyStopping(monitor="val_loss"),
    lambda path: callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True),
])
def test_a_monitor_that_will_be_logged_does_not_warn(make, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small().fit(X, Y, epochs=1, verbose=0, validation_split=0.25,
                    callbacks=[make(str(tmp_path / "m.npz"))])
