"""``scratchnn explore``: look at MNIST before training.

Prints the arrays' shapes, the examples per class (train, test, and the stratified
train/validation split), and the pixel statistics raw and after each preprocessing recipe
(fitted on the training set and reused on the test set).  Writes ``class_counts.png``,
``samples.png`` and ``pixel_histograms.png`` into ``--out``.
"""

from __future__ import annotations

import numpy as np

from scratchnn.cli.common import (
    HelpFormatter,
    add_data_arg,
    non_negative_int,
    positive_int,
    prepare_output_dir,
)
from scratchnn.workflow import plots
from scratchnn.workflow.datastats import describe, format_counts, format_stats
from scratchnn.workflow.preprocessing import recipe_pixel_stats
from scratchnn.workflow.tutorial import load_mnist, split_class_counts


def register(sub) -> None:
    p = sub.add_parser("explore", help="shapes, class counts, sample digits and pixel statistics",
                       formatter_class=HelpFormatter)
    add_data_arg(p)
    p.add_argument("--out", default="figures/explore",
                   help="folder for the PNG files (created if missing)")
    p.add_argument("--samples", type=positive_int, default=30, help="digits in the sample grid")
    p.add_argument("--validation", type=non_negative_int, default=12000,
                   help="size of the stratified validation split to show (0: none)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the split and the sample")
    p.add_argument("--show", action="store_true", help="also open the figures in a window")
    p.set_defaults(func=run)


def run(args) -> int:
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    print(describe({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}))
    counts = split_class_counts(y_train, y_test, args.validation, args.seed)
    out = prepare_output_dir(args.out)
    print("\nExamples per class:")
    print(format_counts(counts))
    stats, hist_arrays = recipe_pixel_stats(x_train, x_test)
    print("\nPixel values (standardization uses the training set's mean and std on both):")
    print(format_stats(stats))
    written = _figures(args, out, x_train, y_train, counts, hist_arrays)
    print("\nFigures:")
    for path in written:
        print(f"  {path}")
    return 0


def _figures(args, out, x_train, y_train, counts, hist_arrays) -> list:
    """Draw the class counts, a random sample of digits and the pixel histograms."""
    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(x_train), size=min(args.samples, len(x_train)),
                              replace=False))
    return [
        plots.plot_class_counts({"train": counts["train"], "test": counts["test"]},
                                out / "class_counts.png", show=args.show),
        plots.plot_image_grid(x_train[pick], out / "samples.png", labels=y_train[pick],
                              ncols=10, title="Training digits and their labels",
                              show=args.show),
        plots.plot_pixel_histograms(hist_arrays, out / "pixel_histograms.png",
                                    title="Pixel values of 2000 training digits",
                                    show=args.show),
    ]
