"""Example 3: tiny networks, input normalization and the learning-rate finder.

The flow of the "classification with TensorFlow" tutorials, on MNIST:

1. a 4-4 network (Flatten -> Dense(4, relu) -> Dense(4, relu) -> Dense(10, softmax), Adam)
   trained on raw pixels (0..255) and on normalized pixels (x/255) -- normalization helps;
2. the learning-rate finder: train the normalized 4-4 network while a
   ``LearningRateScheduler`` sets ``lr = 1e-4 * 10**(epoch/20)``, plot loss against lr on a
   log axis and take the rate ten times below the lowest loss;
3. retrain the 4-4 network with that rate, then a wider 10-10 network with it, compare all
   runs on one plot, and evaluate the 10-10 network on the test set.

    python examples/mnist_small_lr_finder.py
    python examples/mnist_small_lr_finder.py --epochs 3 --limit 3000 --sweep-epochs 60
    SCRATCHNN_EXAMPLE_EPOCHS=3 SCRATCHNN_EXAMPLE_LIMIT=3000 SCRATCHNN_EXAMPLE_SWEEP_EPOCHS=60 \
        python examples/mnist_small_lr_finder.py
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import scratchnn as snn
from scratchnn.datasets import mnist
from scratchnn.engine.callbacks import LearningRateScheduler
from scratchnn.workflow import plots
from scratchnn.workflow.evaluation import evaluate_classifier
from scratchnn.workflow.lr_finder import suggest_lr


def settings(default_epochs: int, name: str) -> argparse.Namespace:
    """Command-line flags, with environment variables as defaults (for quick CI runs)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env_epochs = os.environ.get("SCRATCHNN_EXAMPLE_EPOCHS")
    env_limit = os.environ.get("SCRATCHNN_EXAMPLE_LIMIT")
    p.add_argument("--epochs", type=int, default=int(env_epochs or default_epochs))
    p.add_argument("--limit", type=int, default=int(env_limit) if env_limit else None,
                   help="train on the first N training images only")
    p.add_argument("--sweep-epochs", type=int,
                   default=int(os.environ.get("SCRATCHNN_EXAMPLE_SWEEP_EPOCHS", 80)),
                   help="epochs of the learning-rate sweep (80 = 1e-4 .. 1e0)")
    p.add_argument("--out", default=os.environ.get("SCRATCHNN_EXAMPLE_OUT",
                                                   f"figures/examples/{name}"))
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def small_model(units: int, lr: float = 0.001) -> snn.Sequential:
    model = snn.Sequential([
        snn.layers.Flatten(input_shape=(28, 28)),
        snn.layers.Dense(units, activation="relu"),
        snn.layers.Dense(units, activation="relu"),
        snn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=snn.optimizers.Adam(learning_rate=lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    args = settings(20, "mnist_small_lr_finder")
    out = Path(args.out)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_train_n, x_test_n = x_train / 255.0, x_test / 255.0
    runs = {}

    # 1. Raw versus normalized pixels.
    for label, xs in (("4-4 raw pixels", x_train), ("4-4 x/255", x_train_n)):
        snn.utils.set_random_seed(args.seed)
        model = small_model(4)
        runs[label] = model.fit(xs, y_train, epochs=args.epochs, validation_split=0.2,
                                verbose=0, seed=args.seed)
        print(f"{label:<22} final val_accuracy {runs[label].history['val_accuracy'][-1]:.4f}")

    # 2. Learning-rate finder: one learning rate per epoch, as in the tutorials.
    snn.utils.set_random_seed(args.seed)
    model = small_model(4)
    scheduler = LearningRateScheduler(lambda epoch: 1e-4 * 10 ** (epoch / 20))
    sweep = model.fit(x_train_n, y_train, epochs=args.sweep_epochs, verbose=0,
                      callbacks=[scheduler, snn.callbacks.TerminateOnNaN()], seed=args.seed)
    lrs, losses = sweep.history["learning_rate"], sweep.history["loss"]
    lr_min, lr_steep, (lo, hi) = suggest_lr(lrs, losses)
    plots.plot_lr_finder(lrs, losses, out / "lr_finder.png", suggested_range=(lo, hi),
                         lr_min_loss=lr_min, title="4-4 network, lr = 1e-4 * 10**(epoch/20)")
    print(f"lowest loss at lr {lr_min:.2e}; suggested learning rate {hi:.2e}")

    # 3. Retrain with the suggested rate: the 4-4 network, then a 10-10 network.
    for label, units in ((f"4-4 lr={hi:.1e}", 4), (f"10-10 lr={hi:.1e}", 10)):
        snn.utils.set_random_seed(args.seed)
        model = small_model(units, lr=hi)
        runs[label] = model.fit(x_train_n, y_train, epochs=args.epochs, validation_split=0.2,
                                verbose=0, seed=args.seed)
        print(f"{label:<22} final val_accuracy {runs[label].history['val_accuracy'][-1]:.4f}")
    plots.plot_compare_runs(runs, out / "compare.png")
    plots.plot_history(runs[label], out / "curves_10_10.png", title=label)

    loss, acc = model.evaluate(x_test_n, y_test, verbose=0)
    report = evaluate_classifier(model, x_test_n, y_test)
    print(report.format())
    report.plot(out, images=x_test)
    print(f"Figures in {out}/")
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
