"""``scratchnn report MODEL``: evaluate a saved model on the MNIST test set in depth.

Prints test loss and accuracy, per-class precision/recall and the most-confused pairs; writes
``confusion_matrix.png`` (counts and row-normalized), ``precision_recall.png``,
``predictions.png`` (a grid of test digits, titles green when right, red when wrong),
``errors.png`` (misclassified digits) and ``probabilities.png`` (the softmax output of one
test sample beside it) into ``--out``.
"""

from __future__ import annotations

from scratchnn.cli.common import (
    HelpFormatter,
    add_data_arg,
    non_negative_int,
    positive_int,
    prepare_output_dir,
)
from scratchnn.workflow.evaluation import evaluate_classifier
from scratchnn.workflow.tutorial import load_model_and_test_set, top_classes


def register(sub) -> None:
    p = sub.add_parser("report", help="confusion matrix, per-class scores and prediction "
                                      "pictures for a saved model",
                       formatter_class=HelpFormatter)
    p.add_argument("model", help="model file written by `scratchnn train --save`")
    add_data_arg(p)
    p.add_argument("--out", default="figures/report",
                   help="folder for the PNG files (created if missing)")
    p.add_argument("--sample", type=non_negative_int, default=0,
                   help="test sample whose probabilities are drawn")
    p.add_argument("--grid", type=positive_int, default=25,
                   help="digits in the prediction grids")
    p.add_argument("--top", type=positive_int, default=5, help="most-confused pairs to list")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the random prediction grid")
    p.add_argument("--batch-size", type=positive_int, default=256,
                   help="examples per forward pass")
    p.add_argument("--show", action="store_true", help="also open the figures in a window")
    p.set_defaults(func=run)


def run(args) -> int:
    model, x, x_test, y_test = load_model_and_test_set(args.model, args.data)
    if not 0 <= args.sample < len(x_test):
        raise ValueError(f"--sample must be in 0..{len(x_test) - 1}, got {args.sample}")
    prepare_output_dir(args.out)
    report = evaluate_classifier(model, x, y_test, batch_size=args.batch_size,
                                 top_pairs=args.top)
    print(report.format())
    p = report.probabilities[args.sample]
    ranked = top_classes(p, 3)
    print(f"\nTest sample {args.sample} (true {int(y_test[args.sample])}): "
          + ", ".join(f"{k}: {p[k]:.4f}" for k in ranked))
    paths = report.plot(args.out, images=x_test, grid=args.grid, sample=args.sample,
                        seed=args.seed, show=args.show)
    print("\nFigures:")
    for path in paths.values():
        print(f"  {path}")
    return 0
