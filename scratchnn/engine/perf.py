"""The one seam for speed tricks.

The math lives in the layers, activations, losses and optimizers, written as plain NumPy
formulas.  This module only decides how that math is executed: in which pieces, into which
buffers, on how many threads.  Every helper here returns bitwise the same numbers as the plain
formula it replaces (each says why; ``tests/test_fastpath.py`` and ``tests/test_perf.py`` check
it), with two documented exceptions that touch rounding noise only: the BLAS thread count, and
flushing denormals to zero during ``fit``.  The measurements behind each choice, with the
commands that reproduce them, are in ``docs/performance.md``.

* **Fast paths** -- drop-ins for formulas the math modules mark ``@fastpath.replaceable``,
  registered at import (:func:`install_fast_paths`; see :mod:`scratchnn.fastpath`):
  the optimizer updates (:func:`sgd_update`, :func:`momentum_update`, :func:`nesterov_update`,
  :func:`adam_update`, each an in-place kernel run by :func:`elementwise`), Dense's activation
  applied in place (:func:`dense_activate`), the kernel gradient (:func:`weight_gradient`) and
  row maxima (:func:`row_max`).  ``scratchnn.config.set_fast_paths(False)`` switches them off.

* :func:`pack` -- parameters (and gradients) live in one flat, contiguous buffer; each layer's
  ``params``/``grads`` entries are reshaped *views* into it.  The optimizer then updates all
  parameters with a handful of whole-array operations instead of a Python loop over arrays.

* :func:`elementwise` -- runs an optimizer's update kernel (a function of same-shaped arrays that
  writes its results with ``out=``) over cache-sized chunks of those flat buffers.  Why it pays:
  an Adam step is twelve element-wise passes over every parameter (Keras's exact op order
  allows no fusing).  Over whole arrays of a few MB each pass streams its operands from memory
  and writes a freshly allocated temporary; over 256 KiB chunks the operands of all twelve
  passes stay in one core's L2 cache and the temporaries are two small reused scratch chunks.
  Element-wise operations give the same numbers however the array is cut.  (Splitting the
  update between two threads is slower inside ``fit``: OpenBLAS's worker thread keeps spinning
  on the second core after each matrix product, and the helper thread has to fight it.)

* :func:`weight_gradient` and :func:`row_max` -- ``x.T @ dz`` and ``z.max(axis=-1)`` computed
  a faster way where NumPy's default is slow (a one-sample batch; many short rows of logits).

* :func:`flush_denormals` -- ``fit`` trains with the CPU's flush-to-zero and denormals-are-zero
  modes on, as TensorFlow runs all its CPU kernels.  Adam's momentum of a rarely active weight
  (an MNIST pixel near the border) decays by 0.9 per step into float32's *denormal* range
  (below 1.2e-38) after some hundreds of steps, and every arithmetic instruction that touches
  a denormal takes a slow microcode assist, which makes Adam steps and whole epochs markedly
  slower.  Flushing changes only numbers below 1.2e-38 (2.2e-308 in float64), too small to move
  a weight: on MNIST (784-512-10, float32 batch 32 and 1024, float64) the weights, losses and
  metrics after training are bitwise identical with and without it; only momentum entries
  below 1.1e-37 differ.  Set ``SCRATCHNN_FLUSH_DENORMALS=0`` to train without it.  x86-64
  Linux only (a no-op elsewhere).

* :func:`blas_threads_for` / :func:`blas_limit` -- a deliberate BLAS thread count, measured
  rather than guessed.  Whether a product runs faster on one thread or on all cores depends on
  the machine as much as on the shapes, so the first training or inference call for a shape
  times a stand-in step under each candidate and keeps the fastest for the rest of the
  process.  One of the two exceptions to "same numbers": OpenBLAS blocks ``x @ W`` differently
  on one thread than on two, so the thread count can change the last bit of a forward
  product.  That is rounding noise of the size every BLAS setting has; for a fixed thread
  count (``SCRATCHNN_BLAS_THREADS``) results are reproducible run to run.

Environment overrides (for measuring): ``SCRATCHNN_BLAS_THREADS`` forces the BLAS thread count;
``SCRATCHNN_FLUSH_DENORMALS=0`` keeps denormals in ``fit``; ``SCRATCHNN_FAST_PATHS=0`` runs the
plain formulas.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence

import numpy as np

from scratchnn import activations, fastpath, layers, losses, optimizers


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


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _forced(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None


# -- element-wise kernels over chunks -----------------------------------------------------------

#: Elements per chunk: 256 KiB of float32 per array, so the six arrays of an Adam step
#: (gradient, m, v, variable and two scratch chunks) fit in one core's 2 MiB L2 cache.
CHUNK = 65536

_local = threading.local()  # per-thread scratch chunks, so that concurrent fits never share them


def _scratch(n: int, dtype: np.dtype) -> list[np.ndarray]:
    """``n`` reusable scratch arrays of ``CHUNK`` elements, owned by the calling thread."""
    cache = getattr(_local, "scratch", None)
    if cache is None:
        cache = _local.scratch = {}
    key = np.dtype(dtype)
    buffers = cache.get(key, [])
    if len(buffers) < n or (buffers and buffers[0].size < CHUNK):
        buffers = cache[key] = [np.empty(CHUNK, dtype=key) for _ in range(n)]
    return buffers[:n]


def elementwise(kernel: Callable[..., None], arrays: Sequence[np.ndarray],
                scalars: Sequence = (), n_scratch: int = 0) -> None:
    """Call ``kernel(*arrays, *scratch, *scalars)`` piecewise over matching chunks of ``arrays``.

    ``kernel`` must be element-wise: it reads and writes its array arguments in place (with
    ``out=``), and element ``i`` of its results depends only on element ``i`` of its inputs.
    ``scratch`` are ``n_scratch`` temporaries of the same shape and dtype as the arrays, which
    ``kernel`` may overwrite freely.  The result is the same, bit for bit, as one call on the
    whole arrays; only the speed differs.  Arrays that are small, or not all C-contiguous of one
    shape, are passed whole, with freshly allocated scratch.
    """
    first = arrays[0]
    size = first.size
    if size <= CHUNK or not all(a.flags.c_contiguous and a.shape == first.shape for a in arrays):
        kernel(*arrays, *(np.empty_like(first) for _ in range(n_scratch)), *scalars)
        return
    flat = [a.reshape(-1) for a in arrays]  # views, since the arrays are contiguous
    scratch = _scratch(n_scratch, first.dtype)
    for lo in range(0, size, CHUNK):
        hi = min(lo + CHUNK, size)
        kernel(*(a[lo:hi] for a in flat), *(s[:hi - lo] for s in scratch), *scalars)


# -- optimizer updates: in-place kernels over chunks --------------------------------------------
# Each kernel does the operations of its plain formula in scratchnn.optimizers in the same order,
# writing every result with out=: the arrays updated in place, then scratch arrays t, u of the
# same shape (free to overwrite), then scalars already cast to the variable's dtype.


def _sgd_kernel(g, var, t, lr):
    # var = var - g * lr
    np.subtract(var, np.multiply(g, lr, out=t), out=var)


def _momentum_kernel(g, m, var, t, u, lr, mu):
    # m = m * mu - g * lr;  var = var + m
    np.subtract(np.multiply(m, mu, out=t), np.multiply(g, lr, out=u), out=m)
    np.add(var, m, out=var)


def _nesterov_kernel(g, m, var, t, u, lr, mu):
    # m = m * mu - g * lr;  var = var + (m * mu - g * lr)
    np.subtract(np.multiply(m, mu, out=t), np.multiply(g, lr, out=u), out=m)
    np.subtract(np.multiply(m, mu, out=t), u, out=t)
    np.add(var, t, out=var)


def _adam_kernel(g, m, v, var, t, u, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    # m = m + (g - m) * (1 - beta_1)
    np.add(m, np.multiply(np.subtract(g, m, out=t), one_minus_beta_1, out=t), out=m)
    # v = v + (g**2 - v) * (1 - beta_2)
    np.add(v, np.multiply(np.subtract(np.square(g, out=t), v, out=t), one_minus_beta_2, out=t),
           out=v)
    # var = var - (m * alpha) / (sqrt(v) + epsilon)
    np.add(np.sqrt(v, out=u), epsilon, out=u)
    np.subtract(var, np.divide(np.multiply(m, alpha, out=t), u, out=t), out=var)


def sgd_update(g, var, lr) -> None:
    """Fast :func:`scratchnn.optimizers.sgd_update`."""
    elementwise(_sgd_kernel, (g, var), (lr,), n_scratch=1)


def momentum_update(g, m, var, lr, mu) -> None:
    """Fast :func:`scratchnn.optimizers.momentum_update`."""
    elementwise(_momentum_kernel, (g, m, var), (lr, mu), n_scratch=2)


def nesterov_update(g, m, var, lr, mu) -> None:
    """Fast :func:`scratchnn.optimizers.nesterov_update`."""
    elementwise(_nesterov_kernel, (g, m, var), (lr, mu), n_scratch=2)


def adam_update(g, m, v, var, alpha, one_minus_beta_1, one_minus_beta_2, epsilon) -> None:
    """Fast :func:`scratchnn.optimizers.adam_update`."""
    elementwise(_adam_kernel, (g, m, v, var),
                (alpha, one_minus_beta_1, one_minus_beta_2, epsilon), n_scratch=2)


# -- Dense layers --------------------------------------------------------------------------------

def dense_activate(layer, z: np.ndarray) -> np.ndarray:
    """Fast :meth:`scratchnn.layers.Dense.activate`: ReLU computed in place over ``z``.

    ``z`` is the layer's own fresh pre-activation, so overwriting it saves allocating (and
    writing) a second (N, U) array.  ``np.maximum(z, 0, out=z)`` gives the same numbers as
    ``np.maximum(z, 0)``.  Other activations (and ReLU subclasses) run their own ``forward``.
    """
    activation = layer.activation
    if type(activation) is activations.ReLU:
        return np.maximum(z, 0, out=z)
    return activation.forward(z)


def weight_gradient(x: np.ndarray, dz: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``x.T @ dz`` written into ``out``: a Dense layer's kernel gradient (D, U); fast
    :func:`scratchnn.layers.kernel_gradient`.

    For a batch of one sample the product is an outer product, at which OpenBLAS's general
    matrix product is much slower than NumPy's broadcast multiply.  Each entry is then a single
    product ``x[0, i] * dz[0, j]``, rounded once either way, so the numbers are the same.
    """
    if x.shape[0] == 1:
        return np.multiply(x.T, dz, out=out)
    return np.matmul(x.T, dz, out=out)


# -- row maxima --------------------------------------------------------------------------------

def row_max(z: np.ndarray) -> np.ndarray:
    """``z.max(axis=-1, keepdims=True)``, faster for many short rows (e.g. 1024 x 10 logits);
    fast :func:`scratchnn.activations.row_max`.

    NumPy reduces each 10-element row with its own short inner loop; taking the element-wise
    maximum of the 10 columns instead runs 9 long loops.  A maximum involves no rounding, so
    both orders give the same numbers (NaN propagates in both).
    """
    if z.ndim != 2 or z.shape[0] < 256 or not 1 < z.shape[1] <= 32:
        return z.max(axis=-1, keepdims=True)
    m = z[:, :1].copy()
    for j in range(1, z.shape[1]):
        np.maximum(m, z[:, j:j + 1], out=m)
    return m


# -- cross-entropy pieces: the same operations with less Python around them -------------------

def logsumexp(z: np.ndarray) -> np.ndarray:
    """Fast :func:`scratchnn.losses._logsumexp`: ``m + log(sum(exp(z - m)))`` row by row, as
    the plain formula, but with ndarray methods instead of ``np.sum``'s Python wrapper and each
    step written in place into the one temporary (N, K) array and the (N, 1) sums.

    The same operations on the same values in the same order (``m + s`` is ``np.add(m, s)``),
    so the same numbers.  Non-float input takes the plain formula (it promotes to float)."""
    if z.dtype.kind != "f":
        return losses._logsumexp.plain(z)
    m = row_max(z)
    e = np.subtract(z, m)
    np.exp(e, out=e)
    s = e.sum(axis=-1, keepdims=True)
    np.log(s, out=s)
    return np.add(m, s, out=s)


def pick(a: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fast :func:`scratchnn.losses._pick`: ``a[i, labels[i]]`` by NumPy's fancy indexing,
    which ``take_along_axis`` also does after building broadcast index arrays in Python.  A
    gather involves no arithmetic: the same entries, bit for bit."""
    return a[np.arange(labels.shape[0]), labels]


def softmax_minus_one_hot(labels: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """Fast :func:`scratchnn.losses._softmax_minus_one_hot`: a copy of ``p`` with 1 taken off
    each row's label entry by fancy indexing, then divided by ``n`` in place -- one (N, K)
    array instead of four (``p - 1``, the one-hot mask, ``where``, the quotient).

    Each entry gets the same operations: ``p - 1`` (one per row: the rows are distinct) then
    ``/ n``, in ``p``'s dtype, so the same numbers."""
    d = p.copy()
    d[np.arange(labels.shape[0]), labels] -= 1
    d /= n
    return d


# -- denormals ---------------------------------------------------------------------------------

_FTZ_DAZ = 0x8040  # MXCSR bits 15 (flush to zero) and 6 (denormals are zero)
_MXCSR_OFFSET = 28  # glibc's x86-64 fenv_t: x87 environment (28 bytes), then MXCSR
_libm = None


class _FEnv(ctypes.Structure):
    _fields_ = [("raw", ctypes.c_uint8 * 32)]  # glibc's fenv_t on x86-64


def _get_env() -> _FEnv | None:
    global _libm
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        if _libm is None:
            _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        env = _FEnv()
        return env if _libm.fegetenv(ctypes.byref(env)) == 0 else None
    except (OSError, AttributeError):
        return None


def _mxcsr(env: _FEnv) -> int:
    return int.from_bytes(bytes(env.raw[_MXCSR_OFFSET:_MXCSR_OFFSET + 4]), "little")


def _with_mxcsr(env: _FEnv, value: int) -> _FEnv:
    new = _FEnv.from_buffer_copy(env)
    new.raw[_MXCSR_OFFSET:_MXCSR_OFFSET + 4] = (ctypes.c_uint8 * 4)(*value.to_bytes(4, "little"))
    return new


@contextlib.contextmanager
def flush_denormals(enabled: bool | None = None) -> Iterator[bool]:
    """Flush float denormals to zero in this thread inside the block (see the module doc).

    Yields whether flushing is on.  ``enabled=None`` reads ``SCRATCHNN_FLUSH_DENORMALS``
    (default on).  The previous floating-point environment is restored on exit.  Checked on
    entry: if a denormal still survives (an unexpected ``fenv_t`` layout), nothing is changed.
    """
    if enabled is None:
        enabled = os.environ.get("SCRATCHNN_FLUSH_DENORMALS", "1") != "0"
    saved = _get_env() if enabled else None
    if saved is None:
        yield False
        return
    mxcsr = _mxcsr(saved)
    if _libm.fesetenv(ctypes.byref(_with_mxcsr(saved, mxcsr | _FTZ_DAZ))) != 0:
        yield False
        return
    tiny = np.array(1e-39, dtype=np.float32)  # a denormal: DAZ reads it as 0
    if tiny * np.float32(1) != 0:
        _libm.fesetenv(ctypes.byref(saved))
        yield False
        return
    try:
        yield True
    finally:
        _libm.fesetenv(ctypes.byref(saved))


# -- BLAS threads -------------------------------------------------------------------------------

#: Per-process memory of :func:`blas_threads_for` decisions: shape key -> thread count.
_TUNED: dict[Hashable, int] = {}


def blas_thread_candidates() -> tuple[int, ...]:
    """The BLAS thread counts worth trying: one, and every core this process may use."""
    return tuple(sorted({1, _cpu_count()}))


def choose_blas_threads(key: Hashable, make_trial: Callable[[], Callable[[], None]],
                        candidates: Sequence[int] | None = None, repeats: int = 3,
                        timer: Callable[[], float] = time.perf_counter) -> int:
    """The fastest BLAS thread count for a trial step, measured once per ``key`` and remembered.

    ``make_trial()`` (called only when ``key`` is new) returns the step to time.  Runs it once
    to warm up, then up to ``repeats`` rounds of one call per candidate (interleaved, so a
    burst of load hits every candidate alike; it stops early once one candidate is clearly
    fastest), and keeps each candidate's fastest time.  Ties go to fewer threads (they leave
    a core free for everything else).  ``SCRATCHNN_BLAS_THREADS`` overrides the measurement.
    """
    forced = _forced("SCRATCHNN_BLAS_THREADS")
    if forced is not None:
        return forced
    if key in _TUNED:
        return _TUNED[key]
    candidates = tuple(candidates or blas_thread_candidates())
    best = {c: math.inf for c in candidates}
    if len(candidates) > 1:
        trial = make_trial()
        trial()
        for _ in range(repeats):
            for c in candidates:
                with blas_limit(c):
                    start = timer()
                    trial()
                    best[c] = min(best[c], timer() - start)
            if _clear_winner(best):
                break
    _TUNED[key] = min(candidates, key=lambda c: (best[c], c))
    return _TUNED[key]


def _clear_winner(best: dict[int, float], margin: float = 0.7) -> bool:
    """True when one candidate's time is below ``margin`` times every other's: more rounds
    would not change the choice, only cost time."""
    times = sorted(best.values())
    return len(times) > 1 and times[0] < margin * times[1]


def dense_step_trial(batch: int, kernel_shapes: Sequence[tuple[int, int]], dtype,
                     n_params: int) -> Callable[[], None]:
    """A stand-in for one training step of a stack of Dense layers, on scratch arrays.

    The matrix products of every layer -- forward ``x @ W``, backward ``dz @ W.T`` and
    ``x.T @ dz`` -- followed by six element-wise passes over ``n_params`` values, standing in
    for the optimizer update (which runs while BLAS's worker threads may still hold a core).
    Touches no model state and draws no random numbers.
    """
    # the values do not matter for the timing (no denormals, no NaN): constants are cheap
    arrays = [(np.full((batch, d), 0.5, dtype), np.full((d, u), 0.25, dtype),
               np.full((batch, u), 0.125, dtype)) for d, u in kernel_shapes]
    flat = np.zeros(max(n_params, 1), dtype=dtype)
    scratch = np.zeros_like(flat)

    def trial() -> None:
        for x, w, dz in arrays:
            x @ w
            dz @ w.T
            x.T @ dz
        for _ in range(6):
            np.add(flat, scratch, out=scratch)

    return trial


def blas_threads_for(batch: int, kernel_shapes: Sequence[tuple[int, int]], dtype,
                     n_params: int = 0) -> int:
    """How many BLAS threads to use for batches of ``batch`` rows through Dense kernels of
    ``kernel_shapes`` (inputs, units): the fastest candidate, measured on this machine.

    Which count wins depends on the machine (cores, caches, BLAS build) as much as on the
    shapes, so no fixed rule serves every machine: the first call for a shape times
    :func:`dense_step_trial` under each candidate (a few milliseconds) and the answer is
    remembered for the rest of the process.  The thread count can change the last bit of a
    product (BLAS blocks the sum differently), so two processes are bitwise alike only for a
    fixed count: set ``SCRATCHNN_BLAS_THREADS`` for that.
    """
    shapes = tuple(tuple(int(n) for n in s) for s in kernel_shapes)
    key = (int(batch), shapes, np.dtype(dtype).name, int(n_params))
    if not shapes:
        return 1
    return choose_blas_threads(key, lambda: dense_step_trial(batch, shapes, dtype, n_params))


@contextlib.contextmanager
def blas_limit(threads: int | None) -> Iterator[None]:
    """Limit BLAS to ``threads`` threads inside the block (no-op when None)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        yield


# -- registration --------------------------------------------------------------------------------

#: plain formula (in the math modules) -> its fast drop-in here.
FAST_PATHS: dict[Callable, Callable] = {
    optimizers.sgd_update: sgd_update,
    optimizers.momentum_update: momentum_update,
    optimizers.nesterov_update: nesterov_update,
    optimizers.adam_update: adam_update,
    layers.Dense.activate: dense_activate,
    layers.kernel_gradient: weight_gradient,
    activations.row_max: row_max,
    losses._logsumexp: logsumexp,
    losses._pick: pick,
    losses._softmax_minus_one_hot: softmax_minus_one_hot,
}


def install_fast_paths() -> None:
    """Register every fast path with :mod:`scratchnn.fastpath` (done once, at import)."""
    for replaceable, fast in FAST_PATHS.items():
        fastpath.register(replaceable, fast)


install_fast_paths()
