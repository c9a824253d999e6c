"""The one seam for speed tricks.  Nothing here changes a single computed number.

* :func:`pack` — parameters (and gradients) live in one flat, contiguous buffer; each layer's
  ``params``/``grads`` entries are reshaped *views* into it.  The optimizer then updates all
  parameters with a few whole-array in-place operations instead of a Python loop over arrays.
* :func:`blas_threads_for` / :func:`blas_limit` — a deliberate BLAS thread policy.  On small
  matrices OpenBLAS's threading costs more than it gains on a 2-core machine, so small
  problems run on one thread; large ones on all cores (measured in ``benchmarks/``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np


def pack(arrays: list[np.ndarray], dtype) -> tuple[np.ndarray, list[np.ndarray]]:
    """Copy ``arrays`` into one flat buffer; return it and same-shaped views into it."""
    total = int(sum(a.size for a in arrays))
    flat = np.empty(total, dtype=dtype)
    views, offset = [], 0
    for a in arrays:
        view = flat[offset:offset + a.size].reshape(a.shape)
        view[...] = a
        views.append(view)
        offset += a.size
    return flat, views


#: Work per batch (batch size x widest layer) below which BLAS runs on one thread.
SINGLE_THREAD_BELOW = 32 * 1024


def blas_threads_for(batch_size: int, widths: list[int]) -> int:
    """How many BLAS threads to use for a batch of ``batch_size`` through layers of ``widths``.

    Override with the environment variable ``SCRATCHNN_BLAS_THREADS``.
    """
    forced = os.environ.get("SCRATCHNN_BLAS_THREADS")
    if forced:
        return max(1, int(forced))
    work = batch_size * max(widths, default=1)
    return 1 if work < SINGLE_THREAD_BELOW else (os.cpu_count() or 1)


@contextlib.contextmanager
def blas_limit(threads: int | None) -> Iterator[None]:
    """Limit BLAS to ``threads`` threads inside the block (no-op when None)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        yield
