"""``scratchnn tune``: train one or more configurations with a validation split and compare
their learning curves.

The training set is split, stratified by class, into a training part and a validation part
(``--validation 12000`` gives the tutorials' 48k/12k); the preprocessing recipe is fitted on
the training part only.  Every combination of ``--hidden``, ``--optimizer``, ``--lr`` and
``--preprocess`` is trained for ``--epochs`` epochs with ``validation_data``.  Writes one
``curves_<n>.png`` (loss and accuracy, training and validation) per run, ``compare.png`` with
all runs on shared axes and ``histories.json``; prints a table of final and best validation
scores.  ``--save-best`` saves the run with the best validation accuracy (with its recipe, so
``evaluate``, ``report`` and ``predict`` can use it) and reports its test accuracy.
"""

from __future__ import annotations

import json
import time

import numpy as np

from scratchnn.cli.common import (
    HIDDEN_ACTIVATIONS,
    HelpFormatter,
    add_data_arg,
    add_dtype_arg,
    add_limit_arg,
    check_output_file,
    count_or_fraction,
    non_negative_int,
    positive_float,
    positive_int,
    prepare_output_dir,
)
from scratchnn.utils import to_categorical
from scratchnn.workflow import plots
from scratchnn.workflow.preprocessing import PREPROCESSING, apply_preprocessing
from scratchnn.workflow.tutorial import (
    config_grid,
    load_mnist,
    stratified_split,
    train_classifier,
)


def parse_hidden(spec: str) -> list[int]:
    """'512' -> [512]; '128,128' -> [128, 128]; 'none' or '' -> [] (no hidden layer)."""
    spec = spec.strip().lower()
    if spec in ("", "none", "0"):
        return []
    try:
        sizes = [int(s) for s in spec.split(",")]
    except ValueError:
        raise ValueError(f"--hidden entries look like 512 or 128,128; got {spec!r}") from None
    if any(s < 1 for s in sizes):
        raise ValueError(f"hidden layer sizes must be positive, got {spec!r}")
    return sizes


def register(sub) -> None:
    p = sub.add_parser("tune", help="train configurations with validation data, plot and "
                                    "compare their learning curves",
                       formatter_class=HelpFormatter)
    p.add_argument("--hidden", nargs="+", default=["512"],
                   help="one or more architectures, each like 512 or 128,128")
    p.add_argument("--optimizer", nargs="+", default=["adam"], choices=["adam", "sgd"],
                   help="optimizers to try")
    p.add_argument("--lr", type=positive_float, nargs="+", default=None,
                   help="learning rates to try (default: 0.001 for adam, 0.01 for sgd)")
    p.add_argument("--preprocess", nargs="+", default=["scale"], choices=PREPROCESSING,
                   help="preprocessing recipes to try")
    p.add_argument("--activation", default="relu", choices=HIDDEN_ACTIVATIONS,
                   help="activation of the hidden layers")
    p.add_argument("--epochs", type=positive_int, default=5, help="epochs per run")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="examples per gradient step")
    p.add_argument("--validation", type=count_or_fraction, default=12000,
                   help="validation examples (a count, or a fraction if < 1), stratified")
    add_limit_arg(p)
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the split, initialization and shuffling")
    add_dtype_arg(p)
    add_data_arg(p)
    p.add_argument("--out", default="figures/tune",
                   help="folder for the PNG and JSON files (created if missing)")
    p.add_argument("--save-best", default=None,
                   help="save the run with the best validation accuracy to this .npz file "
                        "(its folder is checked before training)")
    p.add_argument("--show", action="store_true", help="also open the figures in a window")
    p.set_defaults(func=run)


def _label(hidden: list[int], opt: str, lr: float, prep: str) -> str:
    arch = "-".join(map(str, hidden)) or "linear"
    return f"{arch} {opt} lr={lr:g} {prep}"


def run(args) -> int:
    hiddens = [parse_hidden(h) for h in args.hidden]
    check_output_file(args.save_best, "--save-best")
    (x_all, y_all), (x_test, y_test) = load_mnist(args.data, args.limit)
    x_tr, x_val, y_tr, y_val = stratified_split(x_all, y_all, args.validation, args.seed)
    out = prepare_output_dir(args.out)
    print(f"Stratified split: {len(x_tr)} training / {len(x_val)} validation examples")
    combos = config_grid(hiddens, args.optimizer, args.preprocess, args.lr)
    histories, results = {}, []
    for n, combo in enumerate(combos, start=1):
        label = _label(*combo)
        print(f"\n[{n}/{len(combos)}] {label}")
        result = _train_one(args, combo, label, (x_tr, y_tr), (x_val, y_val))
        histories[label] = result["history"]
        results.append(result)
        path = plots.plot_history(result["history"], out / f"curves_{n}.png", title=label,
                                  show=args.show)
        print(f"  curves: {path}")
    _print_table(results)
    compare = plots.plot_compare_runs(histories, out / "compare.png",
                                      title="Training (solid) and validation (dashed)",
                                      show=args.show)
    hist_path = out / "histories.json"
    hist_path.write_text(json.dumps(histories, indent=1))
    print(f"\nComparison: {compare}\nHistories: {hist_path}")
    best = max(results, key=lambda r: r["best_val_accuracy"])
    print(f"Best validation accuracy: {best['best_val_accuracy']:.4f} ({best['label']}, "
          f"epoch {best['best_epoch']})")
    if args.save_best:
        _save_best(args, best, x_test, y_test)
    return 0


def _train_one(args, combo, label: str, train, validation) -> dict:
    """Train one configuration; its final scores, best validation epoch, model and history."""
    hidden, opt_name, lr, prep = combo
    t0 = time.perf_counter()
    run = train_classifier(
        *train, hidden=hidden, activation=args.activation, optimizer=opt_name,
        learning_rate=lr, preprocess=prep, epochs=args.epochs, batch_size=args.batch_size,
        seed=args.seed, dtype=args.dtype, validation_data=validation, verbose=2)
    h = run.history
    best = int(np.argmax(h["val_accuracy"]))
    return {"label": label, "seconds": time.perf_counter() - t0, "model": run.model,
            "history": h, "best_epoch": best + 1, "best_val_accuracy": h["val_accuracy"][best],
            **{k: v[-1] for k, v in h.items()}}


def _print_table(results: list[dict]) -> None:
    print(f"\n{'run':<36} {'loss':>7} {'acc':>7} {'val_loss':>8} {'val_acc':>7} "
          f"{'best val_acc (epoch)':>21}")
    for r in results:
        print(f"{r['label']:<36} {r['loss']:>7.4f} {r['accuracy']:>7.4f} {r['val_loss']:>8.4f} "
              f"{r['val_accuracy']:>7.4f} {r['best_val_accuracy']:>13.4f} ({r['best_epoch']})")


def _save_best(args, best: dict, x_test, y_test) -> None:
    """Report the best run's test accuracy and save it (with its recipe and history)."""
    model = best["model"]
    x_t = apply_preprocessing(model.metadata["preprocess"], x_test, args.dtype)
    loss, acc = model.evaluate(x_t, to_categorical(y_test, 10), verbose=0)
    print(f"Test accuracy of that run (after its last epoch): {acc:.4f} (loss {loss:.4f})")
    model.metadata["tune"] = {"label": best["label"], "history": best["history"]}
    model.save(args.save_best)
    print(f"Saved model to {args.save_best}")
