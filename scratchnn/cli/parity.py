"""``scratchnn parity``: compare scratchnn with TensorFlow/Keras on one network, number by number.

Builds ``784 -> hidden... -> 10 (softmax)`` in both frameworks from the same weights, then
compares every forward intermediate, the losses, every gradient (input included), the
parameters after each training step, the epoch loss/accuracy and ``evaluate``.  Prints a table
(quantity, max abs error, max rel error, tolerance, pass/fail) or, with ``--json``, JSON.

``--keras-model model.keras`` runs the report on your own Keras model instead: loaded with
``keras.models.load_model``, converted with ``tfref.from_keras`` (its compiled loss, metrics and
optimizer, trained state included; ``--optimizer NAME`` replaces the optimizer on both sides),
on ``--data random`` (the model's own input shape) or ``mnist``/``fashion_mnist`` (input 28x28
or 784, 10 outputs).

Exit status: 0 when every quantity is within tolerance, 1 when any is not, 2 when TensorFlow
is not installed.  Needs no MNIST (random data by default); ``--mnist`` uses the real images.
TensorFlow is imported only when the command runs (through the sibling package ``tfref``).
"""

from __future__ import annotations

import sys

from scratchnn.cli.common import (
    HelpFormatter,
    add_data_arg,
    add_network_args,
    non_negative_int,
    positive_int,
)


def register(sub) -> None:
    p = sub.add_parser("parity", help="compare scratchnn with TensorFlow/Keras, number by number",
                       formatter_class=HelpFormatter,
                       description=__doc__.split("\n\n")[1])
    add_network_args(p, default_hidden=[128])
    p.add_argument("--nesterov", action="store_true", help="SGD with Nesterov momentum")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="floating-point type of both frameworks")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="examples per training step")
    p.add_argument("--steps", type=positive_int, default=50, help="training steps to compare")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the weights, data and batch order")
    p.add_argument("--mnist", action="store_true", help="use MNIST instead of random data")
    add_data_arg(p)
    p.add_argument("--keras-model", metavar="FILE", default=None,
                   help="compare on this Keras model (.keras) instead; --data is then random "
                        "(default), mnist or fashion_mnist; only --steps, --batch-size, --seed, "
                        "--optimizer and --json apply")
    p.set_defaults(optimizer=None)  # so that --keras-model can tell a chosen optimizer
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def _toolbox_summary(cfg: dict) -> str:
    """The toolbox options that are on, as ``"; dropout 0.2, batchnorm, ..."`` ("" if none)."""
    parts = [f"dropout {cfg['dropout']} (masks fixed; no lockstep training rows)"
             if cfg["dropout"] else "", "batchnorm" if cfg["batchnorm"] else "",
             f"l2 {cfg['l2']}" if cfg["l2"] else "",
             f"clipnorm {cfg['clipnorm']}" if cfg["clipnorm"] is not None else "",
             f"{cfg['schedule']} schedule" if cfg["schedule"] != "none" else ""]
    parts = [p for p in parts if p]
    return "; " + ", ".join(parts) if parts else ""


def run(args) -> int:
    try:
        from tfref import backend, report
        backend.require_tf()
    except ImportError as exc:
        print(f"scratchnn parity: error: TensorFlow is not available, so there is nothing to "
              f"compare against.\n{exc}", file=sys.stderr)
        return 2
    if args.keras_model is not None:
        return _run_keras_model(args, report)
    result = report.run_report(
        hidden=args.hidden, activation=args.activation, optimizer=args.optimizer or "adam",
        lr=args.lr,
        momentum=args.momentum, nesterov=args.nesterov, dtype=args.dtype,
        batch_size=args.batch_size, steps=args.steps, seed=args.seed, mnist=args.mnist,
        data=args.data, dropout=args.dropout, batchnorm=args.batchnorm, l2=args.l2,
        clipnorm=args.clipnorm, schedule=args.schedule)
    cfg = result.config
    return _print_report(result, args.json, (
        f"scratchnn vs TensorFlow/Keras: 784-{'-'.join(map(str, cfg['hidden']))}"
        f"{'-' if cfg['hidden'] else ''}10 ({cfg['activation']}, softmax), "
        f"{cfg['optimizer']} lr={cfg['learning_rate']}, {cfg['dtype']}, "
        f"batch {cfg['batch_size']}, {cfg['steps']} steps, {cfg['data']} data "
        f"({cfg['train_samples']} train / {cfg['eval_samples']} eval samples), "
        f"seed {cfg['seed']}{_toolbox_summary(cfg)}"))


def _print_report(result, as_json: bool, header: str) -> int:
    """Print ``result`` as JSON, or ``header`` and its table; 0 when every quantity is within
    tolerance, else 1."""
    if as_json:
        print(result.to_json())
    else:
        print(header)
        print()
        print(result.table())
    return 0 if result.passed else 1


def _run_keras_model(args, report) -> int:
    """``--keras-model FILE``: the report on the user's model; 1 with a message when it cannot
    be loaded, converted or fed the chosen data."""
    from tfref.keras_model import DATA_KINDS

    data = args.data or "random"
    try:
        if data not in DATA_KINDS:
            raise ValueError(f"with --keras-model, --data is one of {', '.join(DATA_KINDS)}; "
                             f"got {data!r}")
        result = report.run_keras_report(args.keras_model, data=data, steps=args.steps,
                                         optimizer=args.optimizer, batch_size=args.batch_size,
                                         seed=args.seed)
    except (OSError, ValueError, TypeError) as exc:
        print(f"scratchnn parity: error: {args.keras_model}: {exc}", file=sys.stderr)
        return 1
    cfg = result.config
    return _print_report(result, args.json, (
        f"scratchnn vs TensorFlow/Keras on {cfg['model']} ({cfg['name']}): loss "
        f"{cfg['loss']}, {cfg['optimizer']} (state: {cfg['optimizer_state']}), "
        f"{cfg['dtype']}, batch {cfg['batch_size']}, {cfg['steps']} steps, {cfg['data']} "
        f"data ({cfg['train_samples']} train / {cfg['eval_samples']} eval samples), "
        f"seed {cfg['seed']}"))
