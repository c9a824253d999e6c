"""Example 2: two hidden layers of 128, plain SGD and standardized inputs.

    Flatten(28x28) -> Dense(128, relu) -> Dense(128, relu) -> Dense(10, softmax),
    SGD(learning_rate=0.01), inputs standardized with the *training* set's mean and std,
    integer labels with sparse categorical cross-entropy, 10 epochs of batch 32.

Validation uses a stratified 48k/12k split of the training set (every digit keeps its share);
the standardization statistics come from the 48k training part only and are reused, unchanged,
on the validation and test sets.  After training: learning curves, confusion matrix, per-class
precision/recall and the most-confused digit pairs.

    python examples/mnist_128_128_sgd.py
    python examples/mnist_128_128_sgd.py --epochs 1 --limit 5000
    SCRATCHNN_EXAMPLE_EPOCHS=1 SCRATCHNN_EXAMPLE_LIMIT=5000 python examples/mnist_128_128_sgd.py
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import scratchnn as snn
from scratchnn.datasets import mnist
from scratchnn.utils import standardize, train_test_split
from scratchnn.workflow import plots
from scratchnn.workflow.datastats import class_counts, format_counts
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
    args = settings(10, "mnist_128_128_sgd")
    out = Path(args.out)
    snn.utils.set_random_seed(args.seed)

    (x_all, y_all), (x_test, y_test) = mnist.load_data()
    if args.limit:
        x_all, y_all = x_all[: args.limit], y_all[: args.limit]

    # Stratified 80/20 split (48k/12k on the full set).
    x_train, x_val, y_train, y_val = train_test_split(x_all, y_all, test_size=0.2,
                                                      seed=args.seed, stratify=True)
    print(format_counts({"train": class_counts(y_train, 10),
                         "validation": class_counts(y_val, 10)}))

    # Standardize with the training part's statistics, reused everywhere else.
    x_train, mean, std = standardize(x_train, return_stats=True)
    x_val, x_test_s = standardize(x_val, mean, std), standardize(x_test, mean, std)
    print(f"training mean {float(mean):.3f}, std {float(std):.3f}; standardized test mean "
          f"{x_test_s.mean():.4f}, std {x_test_s.std():.4f}")

    model = snn.Sequential([
        snn.layers.Flatten(input_shape=(28, 28)),
        snn.layers.Dense(128, activation="relu"),
        snn.layers.Dense(128, activation="relu"),
        snn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=snn.optimizers.SGD(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=32,
                        validation_data=(x_val, y_val), verbose=2)
    plots.plot_history(history, out / "curves.png", title="128-128 relu, SGD 0.01")

    loss, acc = model.evaluate(x_test_s, y_test, verbose=0)
    report = evaluate_classifier(model, x_test_s, y_test)
    print(report.format())
    report.plot(out, images=x_test)
    model.metadata = {"preprocess": {"kind": "standardize", "mean": float(mean),
                                     "std": float(std)}, "dataset": "mnist"}
    model.save(out / "model.npz")
    print(f"Figures and model in {out}/")
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
