"""BLAS thread count: one 784-512-10 Adam epoch with the count forced to 1, forced to 2, and
measured by scratchnn (``perf.blas_threads_for``), at batch 1 (on 6,000 images), 32, 128 and
1024 -- the table in ``docs/performance.md``.  Each run is a fresh process (so each measures
afresh); three interleaved rounds, the minimum of each cell.

    SCRATCHNN_DATA=... python -m benchmarks.threads
"""

from __future__ import annotations

import os
import subprocess
import sys

BATCHES = (1, 32, 128, 1024)
SETTINGS = ("1", "2", "measured")

_ONE_EPOCH = r"""
import sys, time
import numpy as np
import scratchnn as snn
from scratchnn.layers import Dense, Flatten

(x, y), _ = snn.datasets.mnist.load_data()
batch = int(sys.argv[1])
n = 6000 if batch == 1 else 60000
x, y = (x[:n] / 255.0).astype(np.float32), y[:n]
snn.utils.set_random_seed(0)
model = snn.Sequential([Flatten(input_shape=(28, 28)), Dense(512, activation="relu"),
                        Dense(10, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
print(model.blas_threads(min(batch, n)), time.perf_counter() - start)
"""


def one_epoch(batch: int, setting: str) -> tuple[int, float]:
    """(thread count used, seconds) of one epoch in a fresh process."""
    env = dict(os.environ)
    env.pop("SCRATCHNN_BLAS_THREADS", None)
    if setting != "measured":
        env["SCRATCHNN_BLAS_THREADS"] = setting
    out = subprocess.run([sys.executable, "-c", _ONE_EPOCH, str(batch)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1])


def main(rounds: int = 3) -> None:
    best: dict[tuple[int, str], tuple[int, float]] = {}
    for _ in range(rounds):
        for batch in BATCHES:
            for setting in SETTINGS:
                threads, seconds = one_epoch(batch, setting)
                old = best.get((batch, setting), (threads, float("inf")))
                best[batch, setting] = (threads, min(old[1], seconds))
    print("| batch | 1 thread | 2 threads | measured choice (threads) | choice / best |")
    print("|---|---|---|---|---|")
    for batch in BATCHES:
        one, two = best[batch, "1"][1], best[batch, "2"][1]
        threads, chosen = best[batch, "measured"]
        label = f"{batch} (6,000 images)" if batch == 1 else str(batch)
        print(f"| {label} | {one:.2f} s | {two:.2f} s | {chosen:.2f} s ({threads}) | "
              f"{chosen / min(one, two):.2f} |")


if __name__ == "__main__":
    main()
