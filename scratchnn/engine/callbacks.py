"""Callbacks, with Keras's names and hooks.

``fit`` calls, on every callback: ``set_model(model)``, ``check_log_keys(keys)`` (scratchnn's
addition: the keys the epoch logs will hold, so that a callback needing a missing one can say
so before training starts), ``on_train_begin(logs)``, then per epoch
``on_epoch_begin(epoch, logs)``, per batch ``on_train_batch_begin/end(batch, logs)``, and
``on_epoch_end(epoch, logs)`` with the epoch's ``loss``, metrics and ``val_*`` entries; finally
``on_train_end(logs)``.  Setting ``model.stop_training = True`` ends training after the current
batch (or epoch).  :class:`CallbackList` does the calling.

Missing log keys: a ``ModelCheckpoint`` whose ``filepath`` uses a key that ``fit`` will not log
(e.g. ``{val_loss}`` without validation data) raises ``ValueError`` before the first epoch; a
``monitor`` that will not be logged (``EarlyStopping``, ``ReduceLROnPlateau``,
``ModelCheckpoint(save_best_only=True)``) gives a ``UserWarning`` then, as Keras warns (a
callback earlier in the list may still add it to the logs: declare such keys in its
``adds_log_keys``).  ``CSVLogger`` checks its file's folder then.
"""

from __future__ import annotations

import csv
import inspect
import math
import os
import string
import sys
import time
import warnings
from collections.abc import Iterable

import numpy as np

from scratchnn.arguments import check_bool, check_int, check_real
from scratchnn.atomic import resolve_target

_HOOKS = ("set_model", "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end")


class Callback:
    """Base class; every hook is a no-op."""

    #: Keys this callback writes into the epoch logs (``fit`` counts them as logged).
    adds_log_keys: tuple[str, ...] = ()

    def __init__(self):
        self.model = None

    def set_model(self, model) -> None:
        self.model = model

    def check_log_keys(self, keys: frozenset[str]) -> None:
        """Called before training with every key the epoch logs will hold; raise or warn here
        if the callback needs one that will never be there."""

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch: int, logs=None): ...

    def on_epoch_end(self, epoch: int, logs=None): ...

    def on_train_batch_begin(self, batch: int, logs=None): ...

    def on_train_batch_end(self, batch: int, logs=None): ...


class CallbackList:
    """Callbacks called in order, each hook on every callback with the same ``logs`` dict (so
    a callback sees what an earlier one added, as in Keras)."""

    def __init__(self, callbacks: Iterable, model):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)

    @staticmethod
    def validate(callbacks) -> list:
        """``fit``'s ``callbacks`` argument as a list, or a ``TypeError`` naming the problem."""
        if callbacks is None:
            return []
        if not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"callbacks must be a list of callbacks, got "
                            f"{type(callbacks).__name__} (wrap a single one: callbacks=[cb])")
        for i, cb in enumerate(callbacks):
            missing = [h for h in _HOOKS if not callable(getattr(cb, h, None))]
            if missing:
                raise TypeError(f"callbacks[{i}] is not a callback ({type(cb).__name__} lacks "
                                f"{', '.join(missing)}); subclass scratchnn.callbacks.Callback")
        return list(callbacks)

    def check_log_keys(self, keys: Iterable[str]) -> None:
        """Tell every callback which keys the epoch logs will hold (see the module doc)."""
        logged = set(keys)
        for cb in self.callbacks:
            logged.update(getattr(cb, "adds_log_keys", ()))
        for cb in self.callbacks:
            check = getattr(cb, "check_log_keys", None)
            if check is not None:
                check(frozenset(logged))

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)


def _warn_unless_logged(owner: str, monitor: str, keys: frozenset[str]) -> None:
    if monitor not in keys:
        hint = (" (pass validation_data or validation_split to fit)"
                if monitor.startswith("val_") else "")
        warnings.warn(f"{owner}: monitor {monitor!r} will not be in the epoch logs{hint}; fit "
                      f"will log {', '.join(sorted(keys))}", UserWarning, stacklevel=2)


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is a list with one value per epoch.

    ``learning_rate`` appears when a callback (``LearningRateScheduler``) puts it in the logs.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch to ``schedule(epoch, lr)``.

    ``schedule`` may also take ``epoch`` alone, as in Keras.  The rate used is logged as
    ``learning_rate`` at the end of the epoch.
    """

    adds_log_keys = ("learning_rate",)

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be a function schedule(epoch[, lr]) -> lr, got "
                            f"{schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        try:
            params = inspect.signature(schedule).parameters
            self._two_args = len(params) >= 2 or any(
                p.kind == p.VAR_POSITIONAL for p in params.values())
        except (TypeError, ValueError):
            self._two_args = True

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.model.optimizer.learning_rate
        new = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        try:
            new = float(new)
        except (TypeError, ValueError):
            raise ValueError(
                f"LearningRateScheduler: schedule returned {new!r}, not a number") from None
        if not math.isfinite(new):
            raise ValueError(f"LearningRateScheduler: schedule returned {new} at epoch {epoch}")
        self.model.optimizer.learning_rate = new
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate


def _monitor_op(monitor: str, mode: str):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
    return mode


def _check_monitor(monitor) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"monitor must be the name of a logged value (e.g. 'val_loss'), got "
                        f"{monitor!r}")
    return monitor


def _improved(mode: str, min_delta: float, value: float, reference: float | None) -> bool:
    """Whether ``value`` beats ``reference`` by more than ``min_delta`` (``min_delta >= 0``):
    ``value < reference - min_delta`` in ``"min"`` mode, ``value > reference + min_delta`` in
    ``"max"`` mode; anything beats ``reference=None`` (no value seen yet)."""
    if reference is None:
        return True
    if mode == "min":
        return value < reference - min_delta
    return value > reference + min_delta


def _format_fields(filepath: str) -> set[str]:
    """The log keys a ``ModelCheckpoint`` filepath refers to, e.g. ``{'epoch', 'val_loss'}``."""
    try:
        parsed = list(string.Formatter().parse(filepath))
    except ValueError as exc:
        raise ValueError(f"filepath {filepath!r} is not a valid format string: {exc}") from None
    fields = set()
    for _, field, _, _ in parsed:
        if field is None:
            continue
        key = field.split(".")[0].split("[")[0]
        if not key or key.isdigit():
            raise ValueError(f"filepath {filepath!r} has a positional field {{{field}}}; name "
                             f"a key instead, e.g. {{epoch:02d}} or {{val_loss:.4f}}")
        fields.add(key)
    return fields


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``restore_best_weights=True`` puts back the weights of the best epoch when it stops (or at
    the end of training, as Keras 3 does).
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        self.monitor, self.verbose = _check_monitor(monitor), verbose
        self.patience = check_int(patience, "patience", 0)
        self.mode = _monitor_op(monitor, mode)
        self.min_delta = abs(check_real(min_delta, "min_delta"))
        self.baseline = None if baseline is None else check_real(baseline, "baseline")
        self.restore_best_weights = check_bool(restore_best_weights, "restore_best_weights")
        self.start_from_epoch = check_int(start_from_epoch, "start_from_epoch", 0)
        self.stopped_epoch = 0

    def check_log_keys(self, keys):
        _warn_unless_logged("EarlyStopping", self.monitor, keys)

    def _better(self, value, reference) -> bool:
        return _improved(self.mode, self.min_delta, value, reference)

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_weights, self.best_epoch = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            known = ", ".join(sorted(logs or {}))
            print(f"EarlyStopping: metric {self.monitor!r} is not available; known: {known}",
                  file=sys.stderr)
            return
        if epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._better(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of epoch {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (``model.save``, atomic) after every epoch, or only when ``monitor``
    improves with ``save_best_only=True``.  ``filepath`` may contain ``{epoch:02d}`` and log
    keys such as ``{val_loss:.4f}``."""

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, mode: str = "auto",
                 save_weights_only: bool = False):
        super().__init__()
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"filepath must be a str or path, got {filepath!r}")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.monitor = _check_monitor(monitor)
        self.save_best_only = check_bool(save_best_only, "save_best_only")
        self.save_weights_only = check_bool(save_weights_only, "save_weights_only")
        self.mode = _monitor_op(monitor, mode)
        self._fields = _format_fields(self.filepath)
        self.best = None

    def check_log_keys(self, keys):
        """Fail before training if ``filepath`` names a key the logs will not hold."""
        missing = sorted(self._fields - keys - {"epoch"})
        if missing:
            hint = (" (pass validation_data or validation_split to fit)"
                    if any(k.startswith("val_") for k in missing) else "")
            raise ValueError(
                f"ModelCheckpoint: filepath {self.filepath!r} uses {{{missing[0]}}}, which fit "
                f"will not log{hint}; it can use epoch and the logged keys: "
                f"{', '.join(sorted(keys))}")
        try:
            self.filepath.format(epoch=1, **{k: 0.0 for k in keys})
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise ValueError(f"ModelCheckpoint: cannot format filepath {self.filepath!r} with "
                             f"epoch (int) and the logged values (floats): {exc}") from None
        if self.save_best_only:
            _warn_unless_logged("ModelCheckpoint", self.monitor, keys)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                print(f"ModelCheckpoint: {self.monitor!r} not in logs; skipping", file=sys.stderr)
                return
            improved = self.best is None or (
                value < self.best if self.mode == "min" else value > self.best)
            if not improved:
                return
            self.best = value
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite (``fit`` then returns)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training", file=sys.stderr)
            self.model.stop_training = True


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has stopped improving, as
    Keras 3's ``ReduceLROnPlateau``.

    At the end of every epoch, with ``v`` the monitored value and ``best`` the best one so far
    ("better" = by more than ``min_delta``, see :func:`_improved`):

    1. ``logs["learning_rate"]`` = the rate used in this epoch (before any reduction);
    2. in cooldown (``cooldown_counter > 0``): ``cooldown_counter -= 1``, ``wait = 0``;
    3. if ``v`` is better than ``best``: ``best = v``, ``wait = 0``; otherwise, out of cooldown,
       ``wait += 1`` and once ``wait >= patience`` the rate becomes
       ``lr_new = max(lr * factor, min_lr)`` if ``lr > min_lr`` (compared in float32, as
       Keras's float32 variable is), after which ``cooldown_counter = cooldown``, ``wait = 0``.

    So with ``patience=p`` the rate drops after ``p`` epochs without improvement, and after a
    drop ``cooldown`` epochs pass without counting before ``wait`` counts again.  ``factor``
    must be in ``[0, 1)`` (Keras's error for ``factor >= 1``).
    """

    adds_log_keys = ("learning_rate",)

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0):
        super().__init__()
        self.monitor, self.verbose = _check_monitor(monitor), verbose
        if check_real(factor, "factor") >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.factor = check_real(factor, "factor", 0.0)
        self.patience = check_int(patience, "patience", 0)
        self.mode = _monitor_op(monitor, mode)
        self.min_delta = abs(check_real(min_delta, "min_delta"))
        self.cooldown = check_int(cooldown, "cooldown", 0)
        self.min_lr = check_real(min_lr, "min_lr", 0.0)
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.cooldown_counter, self.wait = 0, 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def check_log_keys(self, keys):
        _warn_unless_logged("ReduceLROnPlateau", self.monitor, keys)

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: "
                          f"{','.join(logs)}.", UserWarning, stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if _improved(self.mode, self.min_delta, current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(epoch):
                self.cooldown_counter, self.wait = self.cooldown, 0

    def _reduce_lr(self, epoch: int) -> bool:
        """``lr = max(lr * factor, min_lr)`` unless ``lr`` is already at ``min_lr``."""
        old_lr = float(self.model.optimizer.learning_rate)
        if not np.float32(old_lr) > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        self.model.optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True


def _csv_value(value):
    """A log value as Keras's ``CSVLogger`` writes it: strings and numbers as they are (the csv
    module writes ``str(value)``), a 1-D iterable as ``"[a, b, ...]"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Stream each epoch's logs to a CSV file, in Keras 3's format.

    The header is ``epoch`` followed by the first epoch's log keys, sorted; when none of them
    starts with ``val_``, Keras appends ``val_<key>`` for each key (written as ``NA``).  One row
    per epoch (``epoch`` counts from 0), flushed at once.  ``append=True`` adds to an existing
    file and writes the header only if that file is empty.  Rows end in ``\\r\\n`` (the csv
    module's Excel dialect, as Keras writes on Linux).

    The destination is checked before training (its folder must exist; it must not be a folder):
    on failure an ``OSError`` names it and no file is created.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"filename must be a str or path, got {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be a one-character string, got {separator!r}")
        self.filename, self.sep = os.fspath(filename), separator
        self.append = check_bool(append, "append")
        self.keys: list[str] | None = None
        self.csv_file = None
        self.writer: csv.DictWriter | None = None

    def check_log_keys(self, keys):
        """Fail before training when the file cannot be written (nothing is created)."""
        self._check_destination()

    def _check_destination(self) -> None:
        try:
            resolve_target(self.filename)
        except OSError as exc:
            raise type(exc)(f"CSVLogger: {exc}") from None

    def on_train_begin(self, logs=None):
        self._check_destination()
        self.append_header = True
        if self.append and os.path.isfile(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self.append_header = not f.readline()
        self._close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="",
                             encoding="utf-8")
        self.keys, self.writer = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys],
                                         delimiter=self.sep, lineterminator="\r\n")
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch, **{k: _csv_value(logs.get(k, "NA")) for k in self.keys}}
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()
        self.writer = None

    def _close(self) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()


#: The hooks ``fit`` calls that a :class:`LambdaCallback` can be given.
_LAMBDA_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
                 "on_train_batch_begin", "on_train_batch_end", "check_log_keys")


class LambdaCallback(Callback):
    """A callback made of plain functions, as Keras's ``LambdaCallback``: each given function
    replaces that hook and is called with the hook's positional arguments
    (``on_epoch_begin/end(epoch, logs)``, ``on_train_begin/end(logs)``,
    ``on_train_batch_begin/end(batch, logs)``).  ``**kwargs`` may name ``check_log_keys``;
    hooks that ``fit`` never calls (Keras's ``on_test_*``, ``on_predict_*``) are a
    ``TypeError`` rather than silently unused.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_LAMBDA_HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback: fit never calls {', '.join(unknown)}; the hooks "
                            f"are {', '.join(_LAMBDA_HOOKS)}")
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, function in given.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {function!r}")
            setattr(self, name, function)


def _fmt_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


#: Terminal size assumed when the terminal reports 0 columns/lines or cannot be asked.
FALLBACK_TERMINAL = (80, 24)


def _terminal_size() -> tuple[int, int]:
    """``(columns, lines)`` of the terminal, each replaced by :data:`FALLBACK_TERMINAL`'s when
    the terminal reports 0 (a pseudo-terminal nobody sized) or is unknown."""
    import shutil

    try:
        columns, lines = shutil.get_terminal_size(FALLBACK_TERMINAL)
    except (OSError, ValueError):
        return FALLBACK_TERMINAL
    return (columns if columns > 0 else FALLBACK_TERMINAL[0],
            lines if lines > 0 else FALLBACK_TERMINAL[1])


class ProgbarLogger(Callback):
    """Keras-style progress: ``verbose=1`` a per-epoch bar with ETA, loss and metrics (tqdm);
    ``verbose=2`` one line per epoch.

    The bar (``[====....]``) is ``clip(columns - BAR_RESERVE, BAR_MIN, BAR_MAX)`` characters
    wide, where ``columns`` is the terminal width (80 when it reports 0 or is unknown), so the
    counter, times and ``loss: ... - accuracy: ...`` fit on an 80-column line beside it; the
    line is never cut, so the loss and metrics always show.  The terminal size is passed to
    tqdm rather than left for it to find: tqdm reads a 0x0 terminal as -1 rows and then draws
    nothing at all.
    """

    BAR_MIN, BAR_MAX, BAR_RESERVE = 10, 30, 70

    def __init__(self, verbose: int = 1, steps: int | None = None, epochs: int = 1,
                 stream=None):
        super().__init__()
        self.verbose, self.steps, self.epochs = verbose, steps, epochs
        self.stream = stream if stream is not None else sys.stdout
        self._bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        if self.verbose == 1:
            from tqdm import tqdm

            print(f"Epoch {epoch + 1}/{self.epochs}", file=self.stream, flush=True)
            # ncols is large so tqdm never trims the line (the bar width is ours); nrows is
            # given so tqdm does not ask the terminal itself.
            self._bar = tqdm(total=self.steps, file=self.stream, unit="step", ncols=10_000,
                             nrows=_terminal_size()[1],
                             bar_format=f"{{n_fmt}}/{{total_fmt}} [{{bar:{self.bar_width()}}}] "
                                        "{elapsed} (ETA {remaining}){postfix}",
                             ascii=".=", mininterval=0.2)

    def bar_width(self) -> int:
        """Characters of the ``[====....]`` bar for the current terminal width."""
        columns = _terminal_size()[0]
        return int(np.clip(columns - self.BAR_RESERVE, self.BAR_MIN, self.BAR_MAX))

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(1)
            if batch % 20 == 0 or batch + 1 == self.steps:
                self._bar.set_postfix_str(_fmt_logs(logs or {}), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._t0
        if self._bar is not None:
            self._bar.set_postfix_str(_fmt_logs(logs or {}), refresh=True)
            self._bar.close()
            self._bar = None
            return
        if self.verbose == 2:
            ms = 1000 * seconds / max(1, self.steps or 1)
            print(f"Epoch {epoch + 1}/{self.epochs}: {self.steps}/{self.steps} - "
                  f"{seconds:.1f}s - {ms:.2f}ms/step - {_fmt_logs(logs or {})}",
                  file=self.stream, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
