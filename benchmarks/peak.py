"""The machine's matrix-multiply peak: the best float32 GEMM rate NumPy's BLAS reaches.

A large square product (n x n times n x n, 2 n^3 FLOPs) is timed several times on all cores
and on one core; the best rate on all cores is the "peak" every scratchnn figure is compared
with.  Run ``python -m benchmarks.peak`` to print it.
"""

from __future__ import annotations

import time

import numpy as np


def gemm_gflops(n: int = 3072, repeats: int = 5, threads: int | None = None) -> float:
    """Best GFLOP/s of ``a @ b`` for float32 n x n matrices on ``threads`` BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)  # warm up: threads started, pages touched
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def measure(n: int = 3072, repeats: int = 5) -> dict[str, float]:
    """``{"all_cores": GFLOP/s, "one_core": GFLOP/s, "n": n}``."""
    return {"all_cores": gemm_gflops(n, repeats), "one_core": gemm_gflops(n, repeats, 1),
            "n": n}


if __name__ == "__main__":
    result = measure()
    print(f"float32 GEMM {result['n']}^3: {result['all_cores']:.0f} GFLOP/s on all cores, "
          f"{result['one_core']:.0f} on one")
