"""Which array library the math runs on: the seam between the formulas and NumPy/CuPy/PyTorch.

The math is written against the Python array API standard: a function takes its namespace
from its input, ``xp = namespace(x)``, in the style of DeZero's ``get_array_module``, and then
uses only standard functions (``xp.exp``, ``xp.sum``, ``xp.matmul`` or ``@``, ...).  For NumPy
arrays the namespace is NumPy itself (NumPy 2 implements the standard), so the NumPy path keeps
its fast kernels and its exact numbers; for any other array library it is the
``array_api_compat`` namespace of the array.

Scalars: a formula computes its scalar factors (learning rates, bias corrections) with NumPy
scalar types of the array's precision (:func:`numpy_dtype`), exactly as Keras rounds them, and
hands them to array expressions as Python floats (:func:`scalar`), which every library treats
as "weak" (the array's dtype wins): for NumPy arrays the result is bitwise what a NumPy scalar
gives.

Choosing the library: :func:`set_backend` (``"numpy"``, the default, ``"torch"``,
``"array_api_strict"``, ``"cupy"``; ``device=`` where the library has devices), or the
environment variables ``SCRATCHNN_BACKEND`` and ``SCRATCHNN_DEVICE``, read on the first
:func:`get_backend` when ``set_backend`` was not called.  A model takes the backend current when
it is built (:class:`Backend`): its parameters, gradients and optimizer state live there, and
``fit`` converts the data with :meth:`Backend.asarray` once; :func:`to_numpy` brings results
back (``predict``, ``get_weights``, saved files).

Data budget: :meth:`Backend.data_budget_bytes` is how many bytes of one data set (x, y, sample
weights) may be resident on the device at once: ``set_backend(..., data_budget=)`` or
``SCRATCHNN_DATA_BUDGET`` (bytes), else no limit on a CPU device and half the free memory of a
CUDA device.  A data set larger than that is moved in chunks of whole batches
(:mod:`scratchnn.engine.training`).
"""

from __future__ import annotations

import importlib
import os
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from scratchnn.arguments import check_int

__all__ = ["BACKENDS", "Backend", "device_of", "get_backend", "is_numpy", "namespace",
           "numpy_dtype", "parse_data_budget", "scalar", "set_backend", "to_numpy"]

#: The array libraries a model can run on (``set_backend``'s names).
BACKENDS = ("numpy", "torch", "array_api_strict", "cupy")


_HOST = (np.ndarray, np.generic, float, int)


def is_numpy(*arrays) -> bool:
    """True when every argument is a NumPy array or scalar (the fast paths' precondition).

    Called on every formula's inputs, so written for speed: an exact type test first."""
    for a in arrays:
        if type(a) is not np.ndarray and not isinstance(a, _HOST):
            return False
    return True


def namespace(*arrays):
    """The array API namespace of ``arrays`` (NumPy itself for NumPy arrays)."""
    if len(arrays) == 1 and type(arrays[0]) is np.ndarray or is_numpy(*arrays):
        return np
    import array_api_compat  # only needed for other array libraries

    return array_api_compat.array_namespace(*(a for a in arrays
                                              if not isinstance(a, (float, int))))


def numpy_dtype(x) -> np.dtype:
    """The NumPy dtype with ``x``'s precision (``torch.float32`` -> ``float32``)."""
    dtype = x.dtype
    if isinstance(dtype, np.dtype):
        return dtype
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


def scalar(value, like) -> float:
    """``value`` rounded to the precision of array ``like``, as a Python float."""
    return float(numpy_dtype(like).type(value))


def device_of(x):
    """The device array ``x`` lives on (``"cpu"`` for NumPy arrays)."""
    if is_numpy(x):
        return "cpu"
    import array_api_compat

    return array_api_compat.device(x)


def to_numpy(x) -> np.ndarray:
    """``x`` as a NumPy array (the same object for NumPy input; a copy off a GPU).

    CPU tensors may share memory with the result: copy it before handing it to a user."""
    if is_numpy(x):
        return np.asarray(x)
    module = type(x).__module__.split(".")[0]
    if module == "torch":  # checked by module: torch tensors have no __array_namespace__
        return x.detach().cpu().numpy()
    if module == "cupy":
        return x.get()
    return np.from_dlpack(x) if hasattr(x, "__array_namespace__") else np.asarray(x)


@dataclass(frozen=True)
class Backend:
    """An array library and a device: where a model's arrays live.

    ``name`` is one of :data:`BACKENDS`; ``device`` the library's device object (None: the
    library's default); ``data_budget`` the bytes of data allowed on the device (None: the
    device's default, see :meth:`data_budget_bytes`).  ``xp`` is the array API namespace of
    its arrays."""

    name: str
    device: Any = None
    data_budget: int | None = None

    @property
    def is_numpy(self) -> bool:
        return self.name == "numpy"

    @property
    def xp(self):
        """The namespace: NumPy itself, ``array_api_strict``, or array_api_compat's wrapper."""
        if self.name in ("numpy", "array_api_strict"):
            return importlib.import_module(self.name)
        return importlib.import_module(f"array_api_compat.{self.name}")

    def asarray(self, a: np.ndarray, copy: bool = False):
        """NumPy array ``a`` on this backend and device, same dtype (``a`` itself for NumPy
        unless ``copy``).  ``copy=False`` may share memory with ``a`` on the CPU."""
        if self.is_numpy:
            return np.array(a, copy=True) if copy else a
        return self.xp.asarray(a, device=self.device, copy=True if copy else None)

    def data_budget_bytes(self) -> int | None:
        """Bytes of one data set that may be resident on the device (None: no limit).

        ``data_budget`` when set; else None for NumPy and CPU devices (the arrays may even share
        the host's memory), and ``free // 2`` for a CUDA device, ``free`` being its free memory
        now (``torch.cuda.mem_get_info`` / ``cupy.cuda.runtime.memGetInfo``)."""
        if self.data_budget is not None:
            return self.data_budget
        if self.name == "cupy":
            with self.device if self.device is not None else nullcontext():
                free = importlib.import_module("cupy").cuda.runtime.memGetInfo()[0]
            return free // 2
        if self.name == "torch" and str(self.device or "cpu").startswith("cuda"):
            free = importlib.import_module("torch").cuda.mem_get_info(self.device)[0]
            return free // 2
        return None


_CURRENT: Backend | None = None  # None: not chosen yet, read the environment on first use


def set_backend(name: str = "numpy", device=None, data_budget: int | None = None) -> Backend:
    """Run models built from now on with array library ``name`` on ``device``.

    ``device``: torch ``"cpu"``, ``"cuda"``, ``"cuda:1"``; cupy a GPU number; array_api_strict
    one of its device names; None the library's default.  ``data_budget``: bytes of one data
    set allowed on the device at once, an integer >= 1 (None: the device's default, see
    :meth:`Backend.data_budget_bytes`).  Raises ``ValueError`` for an unknown name, a device
    that does not exist or a budget < 1 (``TypeError`` for a budget that is not an integer),
    ``ImportError`` (naming the pip extra) when the library is not installed.  Returns the new
    :class:`Backend`."""
    global _CURRENT
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    if data_budget is not None:
        data_budget = check_int(data_budget, "data_budget", 1)
    module = _import_library(name)
    _CURRENT = Backend(name, _check_device(name, module, device), data_budget)
    return _CURRENT


def get_backend() -> Backend:
    """The current backend (:func:`set_backend`, else ``SCRATCHNN_BACKEND``/``SCRATCHNN_DEVICE``/
    ``SCRATCHNN_DATA_BUDGET``, else NumPy)."""
    if _CURRENT is None:
        name = os.environ.get("SCRATCHNN_BACKEND", "").strip() or "numpy"
        device = os.environ.get("SCRATCHNN_DEVICE", "").strip() or None
        budget = os.environ.get("SCRATCHNN_DATA_BUDGET", "").strip() or None
        try:
            return set_backend(name, device, parse_data_budget(budget, "SCRATCHNN_DATA_BUDGET"))
        except (ValueError, ImportError) as exc:
            raise type(exc)(f"SCRATCHNN_BACKEND={name!r} SCRATCHNN_DEVICE={device!r} "
                            f"SCRATCHNN_DATA_BUDGET={budget!r}: {exc}") from exc
    return _CURRENT


def parse_data_budget(text: str | None, name: str = "data_budget") -> int | None:
    """A data budget written as text (``"1000000"``; None or empty: None) as bytes >= 1;
    ``ValueError`` naming ``name`` otherwise."""
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be a number of bytes (an integer >= 1), got {text!r}") \
            from None
    if value < 1:
        raise ValueError(f"{name} must be a number of bytes (an integer >= 1), got {text!r}")
    return value


def _import_library(name: str):
    try:
        module = importlib.import_module(name)
        if name != "numpy":
            importlib.import_module("array_api_compat")
    except ImportError as exc:
        raise ImportError(f"backend {name!r} needs the {exc.name!r} package, which is not "
                          f"installed: pip install 'scratchnn[backends]' (torch, "
                          f"array-api-strict; cupy separately for your CUDA version)") from exc
    return module


def _check_device(name: str, module, device):
    """``device`` as the library's device object, or ``ValueError`` if it does not exist."""
    if device is None:
        return None
    if name == "numpy":
        if str(device) != "cpu":
            raise ValueError(f"the numpy backend has only the 'cpu' device, got {device!r}")
        return None
    if name == "array_api_strict":
        devices = module.__array_namespace_info__().devices()
        found = [d for d in devices if device in (d, str(d), getattr(d, "_device", None))]
        if not found:
            raise ValueError(f"array_api_strict has no device {device!r}; it has {devices}")
        return found[0]
    if name == "cupy":
        return _cupy_device(module, device)
    return _torch_device(module, device)


def _torch_device(torch, device):
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"torch has no device {device!r}: {exc}") from exc
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (dev.index or 0) >= count:
            raise ValueError(f"torch device {device!r} does not exist: this machine has {count} "
                             f"CUDA device(s) visible to torch")
    elif dev.type != "cpu":
        raise ValueError(f"torch device {device!r}: only 'cpu' and 'cuda[:N]' are supported")
    return dev


def _cupy_device(cupy, device):
    index = int(str(device).removeprefix("cuda:").removeprefix("gpu:"))
    count = cupy.cuda.runtime.getDeviceCount()
    if not 0 <= index < count:
        raise ValueError(f"cupy device {device!r} does not exist: this machine has {count} GPU(s)")
    return cupy.cuda.Device(index)
