"""Time every registered fast path against its plain formula: ``python -m benchmarks.fastpaths``.

Inputs are those of the MNIST tutorial network (784-512-10, float32): the Adam/SGD updates over
its 407,050 parameters, Dense's ReLU over a (1024, 512) pre-activation, the first layer's kernel
gradient at batch 1 and 32, the row maxima of (1024, 10) logits.  Also the cost of the dispatch
itself (a ``@fastpath.replaceable`` function that returns its argument).  Prints a markdown
table; each time is the minimum over ``--repeat`` rounds (interference only adds time).
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import numpy as np

import scratchnn  # noqa: F401  (installs the fast paths)
from scratchnn import fastpath, layers

N_PARAMS = 784 * 512 + 512 + 512 * 10 + 10


def _cases() -> dict[str, Callable[[], tuple]]:
    rng = np.random.default_rng(0)

    def vec(n: int = N_PARAMS, positive: bool = False) -> np.ndarray:
        a = rng.standard_normal(n).astype(np.float32)
        return np.abs(a) if positive else a

    f = np.float32
    relu_layer = layers.Dense(512, activation="relu")
    return {
        "adam_update": lambda: (vec(), vec(), vec(positive=True), vec(), f(1e-3), f(0.1),
                                f(0.001), f(1e-7)),
        "sgd_update": lambda: (vec(), vec(), f(0.01)),
        "momentum_update": lambda: (vec(), vec(), vec(), f(0.01), f(0.9)),
        "nesterov_update": lambda: (vec(), vec(), vec(), f(0.01), f(0.9)),
        "Dense.activate": lambda: (relu_layer, rng.standard_normal((1024, 512)).astype(f)),
        "kernel_gradient (batch 1)": lambda: (rng.standard_normal((1, 784)).astype(f),
                                              rng.standard_normal((1, 512)).astype(f),
                                              np.empty((784, 512), f)),
        "kernel_gradient (batch 32)": lambda: (rng.standard_normal((32, 784)).astype(f),
                                               rng.standard_normal((32, 512)).astype(f),
                                               np.empty((784, 512), f)),
        "row_max": lambda: (rng.standard_normal((1024, 10)).astype(f),),
    }


def _best(fn: Callable, args: tuple, number: int, repeat: int) -> float:
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)) / number


def measure(repeat: int = 7) -> list[tuple[str, float, float]]:
    """[(case, plain seconds, fast seconds)] per registered fast path."""
    registered = fastpath.registered()
    rows = []
    for case, make in _cases().items():
        plain, fast = registered[case.split(" ")[0]]
        args = make()  # the in-place updates keep running on the same (finite) state
        number = max(1, int(0.02 / max(_best(plain, args, 1, 3), 1e-7)))
        rows.append((case, _best(plain, args, number, repeat), _best(fast, args, number, repeat)))
    return rows


def dispatch_overhead(repeat: int = 7, number: int = 200_000) -> tuple[float, float]:
    """(seconds per call of a bare function, of the same function behind the dispatch)."""
    def bare(x):
        return x

    fastpath.forget("_overhead_probe")
    probe = fastpath.replaceable("_overhead_probe")(bare)
    try:
        return (min(timeit.repeat(lambda: bare(1), number=number, repeat=repeat)) / number,
                min(timeit.repeat(lambda: probe(1), number=number, repeat=repeat)) / number)
    finally:
        fastpath.forget("_overhead_probe")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fastpaths", description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    print("| fast path | plain | fast | plain / fast |\n|---|---|---|---|")
    for case, p, f in measure(args.repeat):
        print(f"| {case} | {p * 1e6:.1f} µs | {f * 1e6:.1f} µs | {p / f:.2f} |")
    bare, dispatched = dispatch_overhead(args.repeat)
    print(f"\ndispatch: bare call {bare * 1e9:.0f} ns, through @fastpath.replaceable "
          f"{dispatched * 1e9:.0f} ns (+{(dispatched - bare) * 1e9:.0f} ns per call)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
