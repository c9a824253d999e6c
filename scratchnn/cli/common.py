"""Pieces shared by the subcommands: argument types that reject bad numbers with a message
naming the value, output paths checked before any work, and the options that describe a
network.  The work itself (data, preprocessing recipes, the network, saved models) lives in
:mod:`scratchnn.workflow.tutorial` and :mod:`scratchnn.workflow.preprocessing`."""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from scratchnn import optimizers
from scratchnn.engine.model import Sequential
from scratchnn.workflow import tutorial
from scratchnn.workflow.tutorial import DEFAULT_LR, SCHEDULES

HIDDEN_ACTIVATIONS = ["relu", "sigmoid", "tanh", "linear"]


# --------------------------------------------------------------------------- argument types
# argparse calls these on the option's text; an ArgumentTypeError becomes
# "scratchnn CMD: error: argument --OPTION: MESSAGE" and exit status 1.


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: X)`` once: not when the help already explains the default, nor when
    the default is None (the help then says what happens without the option)."""

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        if action.default is None or "default" in text:
            return text
        return super()._get_help_string(action)


def _number(text: str, kind, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _checked(kind, what: str, must: str, ok):
    """An argparse ``type=``: ``text`` parsed as ``kind`` (``what`` it should be), then
    refused with "must be {must}" unless ``ok(value)``."""
    def check(text: str):
        value = _number(text, kind, what)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {must}, got {text!r}")
        return value
    check.__doc__ = f"Parse {what}."
    return check


positive_int = _checked(int, "a positive integer", "a positive integer", lambda v: v >= 1)
non_negative_int = _checked(int, "an integer >= 0", "an integer >= 0", lambda v: v >= 0)
seed_or_random = _checked(int, "an integer seed >= 0 (or -1)",
                          "a seed >= 0, or -1 for a fresh random seed", lambda v: v >= -1)
positive_float = _checked(float, "a positive number", "a positive number", lambda v: v > 0)
non_negative_float = _checked(float, "a number >= 0", "a number >= 0", lambda v: v >= 0)
#: A share of the data that leaves some behind.
fraction_in_0_1 = _checked(float, "a number in [0, 1)", "in [0, 1)", lambda v: 0 <= v < 1)
#: SGD momentum, as Keras requires.
unit_interval = _checked(float, "a number in [0, 1]", "in [0, 1]", lambda v: 0 <= v <= 1)


def count_or_fraction(text: str) -> int | float:
    """A whole count >= 1 (``12000``) or a fraction in (0, 1) (``0.2``)."""
    value = _number(text, float, "a count >= 1 or a fraction in (0, 1)")
    if 0 < value < 1:
        return value
    if value >= 1 and value == int(value):
        return int(value)
    raise argparse.ArgumentTypeError(
        f"must be a whole count >= 1 or a fraction in (0, 1), got {text!r}")


# --------------------------------------------------------------------------- output paths


def _probe_writable(folder: Path, option: str) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"{option}: cannot write into folder {folder} "
                         f"({exc.strerror or exc})") from None


def check_output_file(path: str | None, option: str) -> None:
    """Fail now, before any work, if ``path`` could not be written later: its folder must
    exist and accept new files, and ``path`` itself must not be a folder.  None passes."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{option}: {target} is a folder; give a file name such as "
                         f"{target / 'model.npz'}")
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ValueError(f"{option}: cannot write {target}: folder {folder} {what}")
    _probe_writable(folder, option)


def prepare_output_dir(path: str, option: str = "--out") -> Path:
    """Create the folder ``path`` (with its parents) now, so that a bad ``--out`` fails before
    the work instead of after it; returns it as a Path."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option}: {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option}: cannot create folder {folder} "
                         f"({exc.strerror or exc})") from None
    _probe_writable(folder, option)
    return folder


def add_data_arg(parser) -> None:
    """``--data DIR``: where MNIST is (default: the loader's search order)."""
    parser.add_argument("--data", default=None,
                        help="folder with the MNIST files (default: search)")


def add_dtype_arg(parser) -> None:
    """``--dtype``: float32 (default) or float64 weights and data."""
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="floating-point type of weights and data")


def add_limit_arg(parser) -> None:
    """``--limit N``: train on the first N images only."""
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="use the first N training images (default: all)")


def add_network_args(parser, default_hidden: list[int], hidden_example: str = "128 128",
                     sgd_options: bool = True) -> None:
    """The options that describe the network and its optimizer (train, parity, lrfind);
    ``sgd_options`` adds ``--lr``, ``--momentum``, ``--clipnorm`` and ``--schedule``."""
    parser.add_argument("--hidden", type=positive_int, nargs="*", default=default_hidden,
                        help=f"hidden layer sizes, e.g. --hidden {hidden_example} (none: "
                             "no hidden layer)")
    parser.add_argument("--activation", default="relu", choices=HIDDEN_ACTIVATIONS,
                        help="activation of the hidden layers")
    _add_layer_args(parser)
    parser.add_argument("--optimizer", default="adam", choices=list(DEFAULT_LR),
                        help="optimizer, with Keras's settings")
    if sgd_options:
        parser.add_argument("--lr", type=positive_float, default=None,
                            help="learning rate (default: 0.001 for adam, 0.01 for sgd) "
                                 "(Keras's for the other optimizers; the initial rate with "
                                 "--schedule)")
        parser.add_argument("--momentum", type=unit_interval, default=0.0,
                            help="SGD momentum, in [0, 1]")
        parser.add_argument("--clipnorm", type=positive_float, default=None,
                            help="rescale each gradient to norm at most this (default: no "
                                 "clipping)")
        parser.add_argument("--schedule", default="none", choices=SCHEDULES,
                            help="learning-rate schedule over the run (epochs x steps per "
                                 "epoch), see scratchnn.workflow.tutorial.make_schedule")


def _add_layer_args(parser) -> None:
    parser.add_argument("--dropout", type=fraction_in_0_1, default=0.0,
                        help="Dropout rate after each hidden layer, in [0, 1) (0: none)")
    parser.add_argument("--batchnorm", action="store_true",
                        help="each hidden layer as Dense(no bias) -> BatchNormalization -> "
                             "activation")
    parser.add_argument("--l2", type=non_negative_float, default=0.0,
                        help="L2 penalty factor on every Dense kernel (0: none)")


def build_network(args) -> Sequential:
    """The network of ``--hidden``/``--activation``/``--dtype``/``--dropout``/``--batchnorm``/
    ``--l2``: :func:`scratchnn.workflow.tutorial.build_model`."""
    return tutorial.build_model(args.hidden, args.activation, args.dtype, dropout=args.dropout,
                                batchnorm=args.batchnorm, l2=args.l2)


def learning_rate(args) -> float:
    """``--lr`` as given, or the optimizer's default rate when it was not given."""
    return DEFAULT_LR[args.optimizer] if args.lr is None else args.lr


def make_optimizer(args, steps_per_epoch: int | None = None) -> optimizers.Optimizer:
    """The optimizer named by ``--optimizer``/``--lr``/``--momentum``/``--nesterov``/
    ``--clipnorm`` (Keras's default rates) with the ``--schedule`` over ``--epochs`` epochs of
    ``steps_per_epoch`` updates: :func:`scratchnn.workflow.tutorial.make_optimizer`."""
    rate = learning_rate(args)
    schedule = getattr(args, "schedule", "none")
    if schedule != "none":
        if steps_per_epoch is None:
            raise ValueError("--schedule needs the number of steps per epoch")
        rate = tutorial.make_schedule(schedule, rate, args.epochs, steps_per_epoch)
    return tutorial.make_optimizer(args.optimizer, rate, args.momentum,
                                   getattr(args, "nesterov", False),
                                   clipnorm=getattr(args, "clipnorm", None))
