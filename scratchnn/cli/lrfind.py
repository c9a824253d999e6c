"""``scratchnn lrfind``: the learning-rate range test on MNIST.

Trains a fresh network while the learning rate grows as ``start * 10**(step/20)`` -- per
mini-batch by default (about 100 batches from 1e-4 to 10), or per epoch with ``--per-epoch``
as in the tutorials -- prints the loss at each rate and a suggested range, and writes the
loss-vs-rate plot (log axis) to ``--out``.
"""

from __future__ import annotations

from pathlib import Path

from scratchnn.cli.common import (
    HelpFormatter,
    add_data_arg,
    add_dtype_arg,
    add_limit_arg,
    add_network_args,
    build_network,
    check_output_file,
    non_negative_int,
    positive_float,
    positive_int,
    prepare_output_dir,
)
from scratchnn.seeding import set_random_seed
from scratchnn.utils import to_categorical
from scratchnn.workflow.lr_finder import find_learning_rate
from scratchnn.workflow.preprocessing import PREPROCESSING, apply_preprocessing, fit_preprocessing
from scratchnn.workflow.tutorial import load_mnist, make_optimizer


def register(sub) -> None:
    p = sub.add_parser("lrfind", help="learning-rate finder: loss against an exponential lr sweep",
                       formatter_class=HelpFormatter)
    add_network_args(p, default_hidden=[512], hidden_example="4 4", sgd_options=False)
    p.add_argument("--preprocess", default="scale", choices=PREPROCESSING,
                   help="pixel preprocessing recipe")
    p.add_argument("--start", type=positive_float, default=1e-4, help="first learning rate")
    p.add_argument("--steps-per-decade", type=positive_float, default=20.0,
                   help="steps per factor of 10: lr = start * 10**(step/steps_per_decade)")
    p.add_argument("--max-lr", type=positive_float, default=10.0,
                   help="stop the sweep past this rate (must exceed --start)")
    p.add_argument("--per-epoch", action="store_true",
                   help="one learning rate per epoch (LearningRateScheduler), as in tutorials")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="epochs of a --per-epoch sweep (default: enough to reach --max-lr)")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="examples per gradient step")
    add_limit_arg(p)
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of initialization and shuffling")
    add_dtype_arg(p)
    add_data_arg(p)
    p.add_argument("--out", default="figures/lr_finder.png",
                   help="PNG file for the plot (its folder is created if missing)")
    p.add_argument("--show", action="store_true", help="also open the figure in a window")
    p.set_defaults(func=run)


def _check_args(args) -> None:
    """Refuse a sweep that cannot run, before loading anything; create the plot's folder."""
    if args.max_lr <= args.start:
        raise ValueError(f"--max-lr ({args.max_lr:g}) must be larger than --start "
                         f"({args.start:g})")
    if args.epochs is not None and not args.per_epoch:
        raise ValueError("--epochs applies to a --per-epoch sweep; add --per-epoch or drop it")
    if Path(args.out).suffix.lower() != ".png":
        raise ValueError(f"--out: the plot is written as PNG; give a file name ending in "
                         f".png, got {args.out}")
    prepare_output_dir(str(Path(args.out).parent))
    check_output_file(args.out, "--out")


def run(args) -> int:
    _check_args(args)
    set_random_seed(args.seed)
    (x_train, y_train), _ = load_mnist(args.data, args.limit)
    recipe = fit_preprocessing(args.preprocess, x_train)
    x = apply_preprocessing(recipe, x_train, args.dtype)
    model = build_network(args)
    model.compile(optimizer=make_optimizer(args.optimizer), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    result = find_learning_rate(
        model, x, to_categorical(y_train, 10), start=args.start,
        steps_per_decade=args.steps_per_decade, max_lr=args.max_lr,
        per_batch=not args.per_epoch, epochs=args.epochs, batch_size=args.batch_size,
        seed=args.seed, verbose=0)
    unit = "batch" if result.per_batch else "epoch"
    print(f"Learning-rate sweep, one rate per {unit}: {len(result.learning_rates)} steps from "
          f"{result.learning_rates[0]:.1e} to {result.learning_rates[-1]:.1e}"
          + (" (stopped: the loss diverged)" if result.stopped_early else ""))
    every = max(1, len(result.learning_rates) // 25)
    print(result.format(every=every))
    path = result.plot(args.out, show=args.show,
                       title=f"Learning-rate finder ({' '.join(map(str, args.hidden))} "
                             f"{args.optimizer}, {args.preprocess}, per {unit})")
    print(f"Figure: {path}")
    return 0
