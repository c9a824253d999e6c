"""The Sequential API: build, compile, fit, evaluate, predict, weights, summary, dtype, seeds."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn.engine import callbacks
from scratchnn.layers import Dense, Flatten, Input


def tutorial_128(dtype=None):
    return snn.Sequential([Flatten(input_shape=(28, 28)), Dense(128, activation="relu"),
                           Dense(128, activation="relu"), Dense(10, activation="softmax")],
                          dtype=dtype)


def small(dtype=None, loss="sparse_categorical_crossentropy", optimizer="adam"):
    model = snn.Sequential([Input((4,)), Dense(8, activation="relu"),
                            Dense(3, activation="softmax")], dtype=dtype)
    model.compile(optimizer, loss, metrics=["accuracy"])
    return model


def test_summary_counts_118282_parameters():
    model = tutorial_128()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert model.count_params() == 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10 == 118_282
    assert "Total params: 118,282" in text
    assert "(None, 784)" in text and "(None, 10)" in text and "16,512" in text


def test_weights_in_keras_order_and_shapes():
    model = tutorial_128()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(784, 128), (128,), (128, 128), (128,), (128, 10), (10,)]
    assert all(w.dtype == np.float32 for w in model.get_weights())
    # biases start at zero, kernels are glorot-uniform: |w| <= sqrt(6/(fan_in+fan_out))
    assert not model.get_weights()[1].any()
    assert np.abs(model.get_weights()[0]).max() <= np.sqrt(6 / (784 + 128))


def test_set_weights_roundtrip_and_copy_semantics():
    model = tutorial_128()
    new = [np.full_like(w, i) for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    got = model.get_weights()
    for a, b in zip(got, new):
        np.testing.assert_array_equal(a, b)
    got[0][...] = 99  # a copy: the model is unchanged
    assert model.get_weights()[0][0, 0] == 0
    with pytest.raises(ValueError, match="set_weights got 2 arrays"):
        model.set_weights(new[:2])
    with pytest.raises(ValueError, match="weight 0 has shape"):
        model.set_weights([np.zeros((3, 3))] + new[1:])


def test_forward_matches_manual_numpy():
    model = tutorial_128(dtype="float64")
    x = np.random.default_rng(0).random((5, 28, 28))
    w = model.get_weights()
    h = np.maximum(x.reshape(5, -1) @ w[0] + w[1], 0)
    h = np.maximum(h @ w[2] + w[3], 0)
    z = h @ w[4] + w[5]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), p, rtol=1e-12)
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0), p, rtol=1e-12)


def test_fit_learns_blobs_and_history_keys(blobs):
    x, labels = blobs
    model = small()
    model.optimizer.learning_rate = 0.05
    hist = model.fit(x, labels, epochs=15, batch_size=16, validation_split=0.2, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(hist.history["loss"]) == 15 and hist.epoch == list(range(15))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(x, labels, verbose=0)
    assert acc > 0.9
    assert model.history is hist


def test_epoch_loss_is_sample_weighted_mean_of_batch_losses(blobs):
    """Keras's loss tracker weights each batch loss by its batch size (ragged last batch)."""
    x, labels = blobs
    a, b = small(), small()
    b.set_weights(a.get_weights())
    hist = a.fit(x, labels, epochs=1, batch_size=40, shuffle=False, verbose=0)
    per_batch = [(b.train_on_batch(x[i:i + 40], labels[i:i + 40])[0], len(x[i:i + 40]))
                 for i in range(0, 90, 40)]
    expected = sum(loss * n for loss, n in per_batch) / 90
    assert hist.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_validation_split_holds_out_the_last_samples(blobs):
    x, labels = blobs
    model = small()
    hist = model.fit(x, labels, epochs=1, batch_size=16, validation_split=0.25, verbose=0)
    val_loss, val_acc = model.evaluate(x[68:], labels[68:], verbose=0)  # floor(90*.75) = 67
    assert hist.history["val_loss"][0] != pytest.approx(val_loss, rel=1e-6)
    val_loss, val_acc = model.evaluate(x[67:], labels[67:], verbose=0)
    assert hist.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert hist.history["val_accuracy"][0] == pytest.approx(val_acc)


def test_validation_data(blobs):
    x, labels = blobs
    model = small()
    hist = model.fit(x[:60], labels[:60], validation_data=(x[60:], labels[60:]), epochs=2,
                     verbose=0)
    assert hist.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[60:], labels[60:], verbose=0)[0], rel=1e-6)


def test_train_on_batch_is_one_optimizer_step(blobs):
    x, labels = blobs
    model = small(dtype="float64", optimizer=snn.optimizers.SGD(0.1))
    before = model.get_weights()
    loss, grads = model.compute_gradients(x[:10], labels[:10])
    out = model.train_on_batch(x[:10], labels[:10])
    assert out[0] == pytest.approx(loss)
    for w0, g, w1 in zip(before, grads, model.get_weights()):
        np.testing.assert_allclose(w1, w0 - 0.1 * g, rtol=1e-12, atol=1e-15)
    assert model.optimizer.iterations == 1


def test_evaluate_matches_manual(blobs):
    x, labels = blobs
    model = small(dtype="float64")
    p = model.predict(x, verbose=0)
    loss, acc = model.evaluate(x, labels, batch_size=7, verbose=0)
    assert loss == pytest.approx(np.mean(-np.log(p[np.arange(90), labels])), rel=1e-10)
    assert acc == pytest.approx(np.mean(p.argmax(1) == labels))
    d = model.evaluate(x, labels, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}


def test_one_hot_and_sparse_targets_train_identically(blobs):
    x, labels = blobs
    a = small(loss="sparse_categorical_crossentropy")
    b = small(loss="categorical_crossentropy")
    b.set_weights(a.get_weights())
    snn.utils.set_random_seed(7)
    ha = a.fit(x, labels, epochs=2, verbose=0)
    snn.utils.set_random_seed(7)
    hb = b.fit(x, snn.utils.to_categorical(labels, 3), epochs=2, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(a.get_weights()[0], b.get_weights()[0], rtol=1e-4, atol=1e-6)


def test_one_seed_fixes_init_shuffling_and_split(blobs):
    x, labels = blobs

    def run(seed):
        snn.utils.set_random_seed(seed)
        model = small()
        hist = model.fit(x, labels, epochs=2, batch_size=8, validation_split=0.1, verbose=0)
        return model.get_weights(), hist.history

    w1, h1 = run(3)
    w2, h2 = run(3)
    w3, _ = run(4)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert h1 == h2
    assert not np.array_equal(w1[0], w3[0])


def test_shuffle_changes_batch_order(blobs):
    x, labels = blobs
    a, b = small(), small()
    b.set_weights(a.get_weights())
    a.fit(x, labels, epochs=1, batch_size=8, shuffle=False, verbose=0)
    b.fit(x, labels, epochs=1, batch_size=8, shuffle=True, verbose=0)
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])


def test_floatx_global_and_per_model():
    snn.config.set_floatx("float64")
    assert small().get_weights()[0].dtype == np.float64
    assert small(dtype="float32").get_weights()[0].dtype == np.float32
    snn.config.set_floatx("float32")
    model = small(dtype="float64")
    assert model.predict(np.ones((2, 4), np.float32), verbose=0).dtype == np.float64
    with pytest.raises(ValueError, match="floatx"):
        snn.config.set_floatx("float16")


def test_deferred_build_from_data(blobs):
    x, labels = blobs
    model = snn.Sequential([Dense(5, activation="tanh"), Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="not been built"):
        model.summary()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, labels, epochs=1, verbose=0)
    assert model.input_shape == (None, 4) and model.output_shape == (None, 3)


def test_add_and_input_layer():
    model = snn.Sequential()
    model.add(Input((3,)))
    model.add(Dense(2))
    assert model.count_params() == 8
    model.add(Dense(4))
    assert model.count_params() == 8 + 12
    with pytest.raises(TypeError, match="expects a scratchnn layer"):
        model.add("dense")


def test_verbose_progress_output(blobs, capsys):
    x, labels = blobs
    model = small()
    model.fit(x, labels, epochs=2, batch_size=30, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out and "accuracy:" in out
    model.fit(x, labels, epochs=1, batch_size=30, verbose=1)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Epoch 1/1" in text and "3/3" in text


def test_learning_rate_in_history_only_with_scheduler(blobs):
    x, labels = blobs
    model = small(optimizer=snn.optimizers.SGD(0.1))
    hist = model.fit(x, labels, epochs=3, verbose=0,
                     callbacks=[callbacks.LearningRateScheduler(lambda e: 0.1 * 0.5 ** e)])
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    assert "learning_rate" not in small().fit(x, labels, epochs=1, verbose=0).history


@pytest.mark.parametrize("extra", [{}, {"validation_split": 0.2, "batch_size": 7},
                                   {"shuffle": False, "batch_size": 90}])
def test_fit_is_exactly_iterating_fit_steps(blobs, extra):
    """fit = exhaust fit_steps: the same weights and history bit for bit, one TrainStep per
    optimizer step carrying the running logs that on_train_batch_end received."""
    x, labels = blobs
    a, b = small(), small()
    b.set_weights(a.get_weights())
    rec_a, rec_b = BatchLogs(), BatchLogs()
    hist = a.fit(x, labels, epochs=3, verbose=0, seed=11, callbacks=[rec_a], **extra)
    steps = list(b.fit_steps(x, labels, epochs=3, verbose=0, seed=11, callbacks=[rec_b],
                             **extra))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert b.history.history == hist.history and b.history.epoch == hist.epoch == [0, 1, 2]
    assert rec_a.logs == rec_b.logs
    n_train = 72 if "validation_split" in extra else 90
    per_epoch = -(-n_train // extra.get("batch_size", 32))
    assert [(s.epoch, s.batch) for s in steps] == [
        (e, k) for e in range(3) for k in range(per_epoch)]
    assert [s.logs for s in steps] == rec_b.logs
    assert [s.batch for s in steps] == rec_b.batches
    assert b.optimizer.iterations == len(steps)


def test_fit_steps_checks_arguments_at_the_call_and_trains_lazily(blobs):
    x, labels = blobs
    model = small()
    with pytest.raises(ValueError, match="batch_size"):
        model.fit_steps(x, labels, batch_size=0)  # raised before any iteration
    steps = model.fit_steps(x, labels, epochs=1, verbose=0)
    assert model.optimizer.iterations == 0
    first = next(steps)
    assert (first.epoch, first.batch) == (0, 0) and model.optimizer.iterations == 1
    steps.close()  # stopping early leaves the model usable
    assert model.optimizer.iterations == 1
    model.fit(x, labels, epochs=1, verbose=0)
    assert model.optimizer.iterations == 1 + 3


class BatchLogs(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches, self.logs = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)
        self.logs.append(dict(logs))


# -- the output head, chosen once by compile ------------------------------------------------------
def test_compile_chooses_the_output_head_once():
    from scratchnn.engine.head import LossHead, SoftmaxCrossEntropyHead
    from scratchnn.layers import Activation

    cases = [([Dense(3, activation="softmax")], "sparse_categorical_crossentropy",
              SoftmaxCrossEntropyHead),
             ([Dense(3), Activation("softmax")], "categorical_crossentropy",
              SoftmaxCrossEntropyHead),
             ([Dense(3, activation="softmax")], "mse", LossHead),
             ([Dense(3, activation="sigmoid")], "categorical_crossentropy", LossHead),
             ([Dense(3)], snn.losses.CategoricalCrossentropy(from_logits=True), LossHead)]
    for layers, loss, head in cases:
        model = snn.Sequential([Input((4,)), *layers])
        assert model.output_head is None
        model.compile("sgd", loss)
        assert type(model.output_head) is head, (layers, loss)
        assert model.output_head.layer is model.layers[-1]


def test_add_after_compile_rechooses_the_head():
    model = snn.Sequential([Input((4,)), Dense(3)])
    model.compile("sgd", "categorical_crossentropy")
    model.add(Dense(2, activation="softmax"))
    assert model.output_head.layer is model.layers[-1]
    assert isinstance(model.output_head.loss, snn.losses.SoftmaxCrossEntropy)


def test_softmax_cross_entropy_by_hand():
    # z = (ln 1, ln 3) -> p = (1/4, 3/4); y one-hot class 1: L = -ln(3/4), dL/dz = (p - y)/1
    z = np.log(np.array([[1.0, 3.0]]))
    sce = snn.losses.SoftmaxCrossEntropy(snn.losses.CategoricalCrossentropy())
    assert sce.forward(np.array([[0.0, 1.0]]), z) == pytest.approx(-np.log(0.75), abs=1e-15)
    np.testing.assert_allclose(sce.backward(), [[0.25, -0.25]], atol=1e-15)
    # N = 2, sparse labels: (p - onehot(y)) / 2 per row
    sparse = snn.losses.SoftmaxCrossEntropy(snn.losses.SparseCategoricalCrossentropy())
    sparse.forward(np.array([0, 1]), np.vstack([z, z]))
    np.testing.assert_allclose(sparse.backward(), [[-0.375, 0.375], [0.125, -0.125]], atol=1e-15)


def test_softmax_head_skips_the_softmax_jacobian_but_reports_probabilities():
    rng = np.random.default_rng(0)
    model = small(dtype="float64")
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    xp, yp = model.prepare_data(x, y)
    loss, y_pred = model.forward_backward(xp, yp)
    np.testing.assert_allclose(y_pred.sum(axis=1), 1.0)  # probabilities, not logits
    np.testing.assert_array_equal(y_pred, model.predict(x, verbose=0))
    logits = model.layers[0].forward(xp) @ model.layers[1].params["kernel"] \
        + model.layers[1].params["bias"]  # the plain formula
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), y])), rel=1e-12)
    dz = (p - np.eye(3)[y]) / 5  # (p - y)/N into the last layer's affine part
    a1 = model.layers[0].forward(xp)
    np.testing.assert_allclose(model.layers[1].grads["kernel"], a1.T @ dz, atol=1e-14)
    np.testing.assert_allclose(model.layers[1].grads["bias"], dz.sum(axis=0), atol=1e-14)


# -- the public step surface (what the fit loop, gradcheck and benchmarks use) ------------------
def test_forward_backward_then_apply_gradients_is_train_on_batch():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    snn.utils.set_random_seed(3)
    a = small()
    a.build()
    snn.utils.set_random_seed(3)
    b = small()
    b.build()
    values = a.train_on_batch(x, y)
    xp, yp = b.prepare_data(x, y)
    loss, y_pred = b.forward_backward(xp, yp)
    assert b.optimizer.iterations == 0  # no update yet
    b.apply_gradients()
    assert values == [loss, b.metric_sums(yp, y_pred)[0] / 6]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert b.weights_finite()
    b.layers[0].params["bias"][0] = np.nan
    assert not b.weights_finite()


def test_compute_loss_and_loss_and_metrics_match_evaluate():
    rng = np.random.default_rng(2)
    model = small(dtype="float64")
    x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    xp, yp = model.prepare_data(x, y)
    assert model.loss_and_metrics(xp, yp, batch_size=4) == model.evaluate(x, y, batch_size=4,
                                                                          verbose=0)
    assert model.compute_loss(xp, yp) == model.evaluate(x, y, batch_size=10, verbose=0)[0]
    assert model.metrics_names == ["loss", "accuracy"]
    assert model.metric_specs == ["accuracy"]


def test_require_compiled_and_require_built_are_public():
    model = snn.Sequential([Dense(3)])
    with pytest.raises(RuntimeError, match=r"compile\(\) before fit\(\)"):
        model.require_compiled("fit")
    with pytest.raises(ValueError, match="not been built"):
        model.require_built()
    model.build((4,))
    model.require_built()


# -- configs (Keras's names) ---------------------------------------------------------------------
def test_from_config_inverts_get_config():
    snn.utils.set_random_seed(0)
    model = snn.Sequential([Input((2, 3)), Flatten(), Dense(5, activation="tanh"),
                            Dense(2, activation="softmax", use_bias=False)],
                           name="net", dtype="float64")
    model.build()
    config = model.get_config()
    clone = snn.Sequential.from_config(config)
    assert not clone.built and clone.input_shape == (None, 2, 3) and clone.name == "net"
    clone.build()
    assert clone.get_config() == config
    assert [w.shape for w in clone.get_weights()] == [(6, 5), (5,), (5, 2)]
    assert clone.dtype == np.float64


def test_compile_config_round_trip():
    model = small(loss="categorical_crossentropy",
                  optimizer=snn.optimizers.SGD(0.05, momentum=0.9))
    config = model.get_compile_config()
    assert config == {"loss": {"name": "categorical_crossentropy",
                               "config": {"from_logits": False}},
                      "optimizer": {"name": "sgd", "config": model.optimizer.get_config()},
                      "metrics": ["accuracy"]}
    other = snn.Sequential([Input((4,)), Dense(3, activation="softmax")])
    assert other.get_compile_config() is None
    other.compile_from_config(config)
    assert other.get_compile_config() == config
    assert other.optimizer is not model.optimizer


def test_set_optimizer_state_restores_slots():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    snn.utils.set_random_seed(5)
    a = small()
    a.fit(x, y, epochs=2, batch_size=4, verbose=0)
    b = snn.Sequential.from_config(a.get_config())
    b.set_weights(a.get_weights())
    b.compile_from_config(a.get_compile_config())
    b.set_optimizer_state(a.optimizer.get_state())
    assert b.optimizer.iterations == a.optimizer.iterations == 4
    a.train_on_batch(x, y)
    b.train_on_batch(x, y)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
