"""``scratchnn evaluate MODEL``: test loss and accuracy of a saved model on MNIST's test set,
preprocessed the way the model was trained."""

from __future__ import annotations

from scratchnn.cli.common import HelpFormatter, add_data_arg, positive_int
from scratchnn.utils import to_categorical
from scratchnn.workflow.tutorial import load_model_and_test_set


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a saved model on the MNIST test set",
                       formatter_class=HelpFormatter)
    p.add_argument("model", help="model file written by `scratchnn train --save`")
    add_data_arg(p)
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="examples per forward pass")
    p.set_defaults(func=run)


def run(args) -> int:
    model, x, _, y_test = load_model_and_test_set(args.model, args.data)
    y = y_test if "sparse" in model.loss.name else to_categorical(y_test, 10)
    values = model.evaluate(x, y, batch_size=args.batch_size, verbose=0)
    values = values if isinstance(values, list) else [values]
    for name, value in zip(model.metrics_names, values):
        label = "Test loss" if name == "loss" else f"Test {name}"
        print(f"{label}: {value:.4f}")
    return 0
