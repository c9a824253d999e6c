"""The machine's matrix-multiply peak: the best float32 GEMM rate NumPy's BLAS reaches.

A large square product (n x n times n x n, 2 n^3 FLOPs) is timed several times on all cores
and on one core; the best rate on all cores is the "peak" every scratchnn figure is compared
with.  Run ``python -m benchmarks.peak`` to print it.

On a GPU (:func:`gpu_gemm`, ``python -m benchmarks.peak --gpu``) the same product, n = 8192 by
default, is timed with PyTorch on CUDA (else CuPy), the device synchronized around each call,
in true float32 (TF32 tensor-core math off: the frameworks are timed with it off too).
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


def gpu_gemm(n: int = 8192, repeats: int = 10) -> dict:
    """``{"tflops": best TFLOP/s, "n": n, "library": "torch"|"cupy", "device": name}`` of a
    float32 n x n GEMM on CUDA device 0; ``RuntimeError`` when neither library sees one."""
    try:
        import torch

        if torch.cuda.is_available():
            return _torch_gemm(torch, n, repeats)
    except ImportError:
        pass
    try:
        import cupy
    except ImportError:
        raise RuntimeError("no GPU GEMM peak: neither torch with CUDA nor cupy is "
                           "installed") from None
    return _cupy_gemm(cupy, n, repeats)


def _best_seconds(matmul, sync, repeats: int) -> float:
    """The fastest of ``repeats`` synchronized calls of ``matmul`` (after one warm-up)."""
    matmul()
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        matmul()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def _torch_gemm(torch, n: int, repeats: int) -> dict:
    torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator(device="cuda").manual_seed(0)
    a, b = (torch.rand((n, n), device="cuda", generator=gen) for _ in range(2))
    out = torch.empty((n, n), device="cuda")
    best = _best_seconds(lambda: torch.matmul(a, b, out=out), torch.cuda.synchronize, repeats)
    return {"tflops": 2 * n**3 / best / 1e12, "n": n, "library": "torch",
            "device": torch.cuda.get_device_name(0)}


def _cupy_gemm(cupy, n: int, repeats: int) -> dict:
    a, b = (cupy.random.default_rng(seed).random((n, n), dtype=cupy.float32)
            for seed in (0, 1))
    out = cupy.empty((n, n), dtype=cupy.float32)
    stream = cupy.cuda.get_current_stream()
    best = _best_seconds(lambda: cupy.matmul(a, b, out=out), stream.synchronize, repeats)
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    return {"tflops": 2 * n**3 / best / 1e12, "n": n, "library": "cupy",
            "device": name.decode() if isinstance(name, bytes) else str(name)}


if __name__ == "__main__":
    import sys

    if "--gpu" in sys.argv:
        result = gpu_gemm()
        print(f"float32 GEMM {result['n']}^3 on {result['device']} ({result['library']}): "
              f"{result['tflops']:.1f} TFLOP/s")
    else:
        result = measure()
        print(f"float32 GEMM {result['n']}^3: {result['all_cores']:.0f} GFLOP/s on all "
              f"cores, {result['one_core']:.0f} on one")
