"""Example 1: the classic first MNIST network, written with scratchnn.

    Flatten(28x28) -> Dense(512, relu) -> Dense(10, softmax), Adam(0.001),
    pixels / 255, one-hot labels, categorical cross-entropy, 10 epochs of batch 32.

The steps follow the usual Keras tutorial: load and look at the data, preprocess, build,
compile, fit (holding out 10% for validation), plot the learning curves, evaluate on the test
set, look at some predictions, save the model.

    python examples/mnist_512_adam.py                  # full run
    python examples/mnist_512_adam.py --epochs 1 --limit 5000   # quick run
    SCRATCHNN_EXAMPLE_EPOCHS=1 SCRATCHNN_EXAMPLE_LIMIT=5000 python examples/mnist_512_adam.py

Figures go to ``figures/examples/mnist_512_adam/`` (``--out``).  The last line printed is
``Test accuracy: ...``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import scratchnn as snn
from scratchnn.datasets import mnist
from scratchnn.utils import to_categorical
from scratchnn.workflow import plots
from scratchnn.workflow.evaluation import evaluate_classifier


def settings(default_epochs: int, name: str) -> argparse.Namespace:
    """Command-line flags, with environment variables as defaults (for quick CI runs)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env_epochs = os.environ.get("SCRATCHNN_EXAMPLE_EPOCHS")
    env_limit = os.environ.get("SCRATCHNN_EXAMPLE_LIMIT")
    p.add_argument("--epochs", type=int, default=int(env_epochs or default_epochs))
    p.add_argument("--limit", type=int, default=int(env_limit) if env_limit else None,
                   help="train on the first N training images only")
    p.add_argument("--out", default=os.environ.get("SCRATCHNN_EXAMPLE_OUT",
                                                   f"figures/examples/{name}"))
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main() -> None:
    args = settings(10, "mnist_512_adam")
    out = Path(args.out)
    snn.utils.set_random_seed(args.seed)

    # 1. Load and look.
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    print(f"x_train {x_train.shape} {x_train.dtype}, y_train {y_train.shape}; "
          f"x_test {x_test.shape}")
    plots.plot_image_grid(x_train[:20], out / "samples.png", labels=y_train[:20])

    # 2. Preprocess: pixels to [0, 1], labels to one-hot rows.
    x_train, x_test = x_train / 255.0, x_test / 255.0
    y_train_1h, y_test_1h = to_categorical(y_train, 10), to_categorical(y_test, 10)

    # 3. Build and compile.
    model = snn.Sequential([
        snn.layers.Flatten(input_shape=(28, 28)),
        snn.layers.Dense(512, activation="relu"),
        snn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=snn.optimizers.Adam(learning_rate=0.001),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    # 4. Train, keeping the last 10% of the training set for validation.
    history = model.fit(x_train, y_train_1h, epochs=args.epochs, batch_size=32,
                        validation_split=0.1, verbose=2)
    plots.plot_history(history, out / "curves.png", title="512 relu, Adam")

    # 5. Evaluate and look at predictions.
    loss, acc = model.evaluate(x_test, y_test_1h, verbose=0)
    report = evaluate_classifier(model, x_test, y_test)
    report.plot(out, images=(x_test * 255).round().astype("uint8"))
    print(report.format())

    # 6. Save: `scratchnn evaluate/report/predict` can load this file.
    model.metadata = {"preprocess": {"kind": "scale"}, "dataset": "mnist"}
    model.save(out / "model.npz")
    print(f"Figures and model in {out}/")
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
