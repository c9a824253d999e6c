"""``scratchnn explore``: look at MNIST before training.

Prints the arrays' shapes, the examples per class (train, test, and the stratified
train/validation split), and the pixel statistics raw and after each preprocessing recipe
(fitted on the training set and reused on the test set).  Writes ``class_counts.png``,
``samples.png`` and ``pixel_histograms.png`` into ``--out``.
"""

from __future__ import annotations

import numpy as np

from scratchnn.cli.common import (
    PREPROCESSING,
    HelpFormatter,
    apply_preprocessing,
    fit_preprocessing,
    load_mnist,
    non_negative_int,
    positive_int,
    prepare_output_dir,
    validation_split,
)
from scratchnn.workflow import plots
from scratchnn.workflow.datastats import (
    class_counts,
    describe,
    format_counts,
    format_stats,
    pixel_stats,
)

RECIPE_NAMES = {"scale": "x/255", "l2": "L2 rows", "standardize": "standardized"}


def register(sub) -> None:
    p = sub.add_parser("explore", help="shapes, class counts, sample digits and pixel statistics",
                       formatter_class=HelpFormatter)
    p.add_argument("--data", default=None, help="folder with the MNIST files (default: search)")
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

    counts = {"train": class_counts(y_train, 10), "test": class_counts(y_test, 10)}
    if args.validation:
        _, _, y_tr, y_val = validation_split(x_train[:, :1, :1], y_train, args.validation,
                                             args.seed)
        counts[f"train part ({len(y_tr)})"] = class_counts(y_tr, 10)
        counts[f"validation ({len(y_val)})"] = class_counts(y_val, 10)
    out = prepare_output_dir(args.out)
    print("\nExamples per class:")
    print(format_counts(counts))

    stats = {"raw train": pixel_stats(x_train), "raw test": pixel_stats(x_test)}
    hist_arrays = {"raw": x_train[:2000]}
    for kind in PREPROCESSING:
        recipe = fit_preprocessing(kind, x_train)
        name = RECIPE_NAMES[kind]
        stats[f"{name} train"] = pixel_stats(apply_preprocessing(recipe, x_train))
        stats[f"{name} test"] = pixel_stats(apply_preprocessing(recipe, x_test))
        hist_arrays[name] = apply_preprocessing(recipe, x_train[:2000])
    print("\nPixel values (standardization uses the training set's mean and std on both):")
    print(format_stats(stats))

    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(x_train), size=min(args.samples, len(x_train)),
                              replace=False))
    written = [
        plots.plot_class_counts({"train": counts["train"], "test": counts["test"]},
                                out / "class_counts.png", show=args.show),
        plots.plot_image_grid(x_train[pick], out / "samples.png", labels=y_train[pick],
                              ncols=10, title="Training digits and their labels",
                              show=args.show),
        plots.plot_pixel_histograms(hist_arrays, out / "pixel_histograms.png",
                                    title="Pixel values of 2000 training digits",
                                    show=args.show),
    ]
    print("\nFigures:")
    for path in written:
        print(f"  {path}")
    return 0
