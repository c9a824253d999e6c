"""``scratchnn train``: train a dense network on MNIST and print the test loss and accuracy.

With no options it trains the classic tutorial network: Flatten, Dense(512, relu),
Dense(10, softmax), Adam, pixels/255, 10 epochs, batch 32.
"""

from __future__ import annotations

import time

from scratchnn.cli.common import (
    HelpFormatter,
    add_data_arg,
    add_dtype_arg,
    add_network_args,
    build_network,
    check_output_file,
    fraction_in_0_1,
    make_optimizer,
    positive_int,
    seed_or_random,
)
from scratchnn.config import resolve_dtype
from scratchnn.seeding import set_random_seed
from scratchnn.utils import to_categorical
from scratchnn.workflow.preprocessing import (
    PREPROCESSING,
    apply_preprocessing,
    fit_preprocessing,
    model_metadata,
)
from scratchnn.workflow.tutorial import load_mnist, steps_per_epoch


def register(sub) -> None:
    p = sub.add_parser("train", help="train a network on MNIST and report test accuracy",
                       formatter_class=HelpFormatter)
    add_network_args(p, default_hidden=[512])
    p.add_argument("--epochs", type=positive_int, default=10, help="passes over the training set")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="examples per gradient step")
    p.add_argument("--seed", type=seed_or_random, default=0,
                   help="seed for initialization and shuffling: the same command gives the same "
                        "numbers (pass -1 for a fresh random seed)")
    p.add_argument("--preprocess", default="scale", choices=PREPROCESSING,
                   help="pixels/255 (scale), unit-length rows (l2) or (x - mean)/std "
                        "with the training set's statistics (standardize)")
    p.add_argument("--validation-split", type=fraction_in_0_1, default=0.0,
                   help="fraction of the training set held out for validation, in [0, 1)")
    add_dtype_arg(p)
    add_data_arg(p)
    p.add_argument("--limit", type=positive_int, default=None,
                   help="use only the first N training images (quick runs; default: all)")
    p.add_argument("--save", default=None,
                   help="save the trained model to this .npz file (its folder is checked "
                        "before training)")
    p.add_argument("--verbose", type=int, default=None, choices=[0, 1, 2],
                   help="0 silent, 1 progress bar, 2 one line per epoch (default: 1 in a "
                        "terminal, else 2)")
    p.set_defaults(func=run)


def run(args) -> int:
    check_output_file(args.save, "--save")
    if args.seed >= 0:
        set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, args.limit)
    recipe = fit_preprocessing(args.preprocess, x_train)
    dtype = resolve_dtype(args.dtype)
    x_train = apply_preprocessing(recipe, x_train, dtype)
    x_test = apply_preprocessing(recipe, x_test, dtype)

    model = build_network(args)
    steps = steps_per_epoch(len(x_train), args.batch_size, args.validation_split)
    model.compile(optimizer=make_optimizer(args, steps), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.metadata = model_metadata(recipe)
    model.summary()
    t0 = time.perf_counter()
    history = model.fit(x_train, to_categorical(y_train, 10), batch_size=args.batch_size,
                        epochs=args.epochs, validation_split=args.validation_split,
                        verbose="auto" if args.verbose is None else args.verbose)
    seconds = time.perf_counter() - t0
    epochs_run = len(history.epoch)
    loss, acc = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    print(f"Trained {epochs_run} epoch(s) in {seconds:.1f}s "
          f"({seconds / max(1, epochs_run):.2f}s per epoch)")
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {acc:.4f}")
    if args.save:
        model.save(args.save)
        print(f"Saved model to {args.save}")
    return 0
