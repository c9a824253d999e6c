"""One epoch of the toolbox networks: what Dropout and BatchNormalization cost per epoch.

Three networks, each ``784 -> 512 -> 512 -> 10 (softmax)``, RMSprop (Keras defaults: lr 1e-3,
rho 0.9, epsilon 1e-7), sparse categorical cross-entropy, batch 128, float32, 60,000 MNIST
images (random data of that shape when MNIST is not found):

* ``plain``     -- ``Dense(512, relu) -> Dense(512, relu) -> Dense(10, softmax)``;
* ``dropout``   -- Keras's ``mnist_mlp.py``: a ``Dropout(0.2)`` after each hidden layer;
* ``batchnorm`` -- ``Dense(512) -> BatchNormalization -> ReLU``, twice (Keras's BN defaults;
  PyTorch's ``BatchNorm1d(eps=1e-3, momentum=0.01)``, the same update).

Each framework runs in its own process (scratchnn ``Model.fit``, Keras 3 ``model.fit``,
PyTorch eager with a shuffled gather per batch). One warm-up epoch (Keras traces its step
there), then the minimum over ``--rounds`` timed epochs, since interference only adds time.
Not part of any test run, and not of ``benchmarks.report``'s sweeps (whose network is fixed to
Adam without these layers), so the quick report stays as fast as it was.

    python -m benchmarks.toolbox                     # all three frameworks, markdown table
    python -m benchmarks.toolbox --frameworks scratchnn --rounds 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from .data import Data, load

VARIANTS = ("plain", "dropout", "batchnorm")
FRAMEWORKS = ("scratchnn", "tf", "torch")
BATCH = 128
WIDTH = 512


def _scratchnn_epoch(variant: str, data: Data, rounds: int) -> float:
    import scratchnn as snn

    snn.utils.set_random_seed(0)
    L = snn.layers
    model = snn.Sequential(_hidden(L, variant, input_shape=(784,))
                           + [L.Dense(10, activation="softmax")])
    model.compile(optimizer=snn.optimizers.RMSprop(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return _time_fit(lambda: model.fit(data.x_train, data.y_train, batch_size=BATCH, epochs=1,
                                       verbose=0), rounds)


def _tf_epoch(variant: str, data: Data, rounds: int) -> float:
    import keras

    keras.utils.set_random_seed(0)
    L = keras.layers
    model = keras.Sequential([keras.Input(shape=(784,))] + _hidden(L, variant)
                             + [L.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.RMSprop(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return _time_fit(lambda: model.fit(data.x_train, data.y_train, batch_size=BATCH, epochs=1,
                                       verbose=0), rounds)


def _hidden(L, variant: str, **first) -> list:
    """The two hidden blocks in Keras-style layers (scratchnn and Keras share the names);
    ``first`` goes to the first Dense (scratchnn's ``input_shape``)."""
    if variant == "plain":
        return [L.Dense(WIDTH, activation="relu", **first), L.Dense(WIDTH, activation="relu")]
    if variant == "dropout":
        return [L.Dense(WIDTH, activation="relu", **first), L.Dropout(0.2),
                L.Dense(WIDTH, activation="relu"), L.Dropout(0.2)]
    return [L.Dense(WIDTH, **first), L.BatchNormalization(), L.ReLU(),
            L.Dense(WIDTH), L.BatchNormalization(), L.ReLU()]


def _torch_epoch(variant: str, data: Data, rounds: int) -> float:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(0)
    blocks, d = [], 784
    for _ in range(2):
        blocks.append(nn.Linear(d, WIDTH))
        if variant == "batchnorm":
            blocks.append(nn.BatchNorm1d(WIDTH, eps=1e-3, momentum=0.01))
        blocks.append(nn.ReLU())
        if variant == "dropout":
            blocks.append(nn.Dropout(0.2))
        d = WIDTH
    model = nn.Sequential(*blocks, nn.Linear(d, 10))
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    xs, ys = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)

    def epoch():
        model.train()
        correct = 0
        for idx in torch.randperm(len(xs)).split(BATCH):
            x, y = xs[idx], ys[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct += int((logits.argmax(1) == y).sum())

    return _time_fit(epoch, rounds)


def _time_fit(fit, rounds: int) -> float:
    fit()  # warm-up: tracing, allocations
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fit()
        best = min(best, time.perf_counter() - t0)
    return best


RUNNERS = {"scratchnn": _scratchnn_epoch, "tf": _tf_epoch, "torch": _torch_epoch}


def _one(framework: str, rounds: int) -> dict[str, float]:
    data = load()
    return {v: RUNNERS[framework](v, data, rounds) for v in VARIANTS}


def table(results: dict[str, dict[str, float]]) -> str:
    """Markdown: seconds per epoch per framework, scratchnn / other, and cost vs ``plain``."""
    fws = [f for f in FRAMEWORKS if f in results]
    head = "| network | " + " | ".join(f"{f} s" for f in fws)
    head += " | " + " | ".join(f"{f} / plain" for f in fws)
    rows = [head + " |", "|" + "---|" * (1 + 2 * len(fws))]
    for v in VARIANTS:
        secs = " | ".join(f"{results[f][v]:.2f}" for f in fws)
        ratios = " | ".join(f"{results[f][v] / results[f]['plain']:.2f}" for f in fws)
        rows.append(f"| {v} | {secs} | {ratios} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--one", help=argparse.SUPPRESS)  # child process: one framework, JSON out
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one, args.rounds)))
        return 0
    results = {}
    for fw in args.frameworks.split(","):
        out = subprocess.run([sys.executable, "-m", "benchmarks.toolbox", "--one", fw,
                              "--rounds", str(args.rounds)], capture_output=True, text=True)
        if out.returncode:
            print(f"{fw} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        results[fw] = json.loads(out.stdout.strip().splitlines()[-1])
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
