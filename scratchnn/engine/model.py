"""``Sequential``: build, compile, fit, evaluate, predict — the training loop and its edges.

Data flows one way: ``x -> layers -> loss -> backward through the layers -> optimizer``.
One training step (``train_on_batch`` / inside ``fit``), with ``layers = body + [last]``::

    for layer in body:           h = layer.forward(h, training=True)
    loss, y_pred = head.forward(h, y, training=True)   # last layer + loss; batch mean
    d = head.backward()                                # dL/dh (carries the 1/N)
    for layer in reversed(body): d = layer.backward(d) # fills each layer's grads
    optimizer.apply([all grads], [all params])         # one flat buffer each, in place

``compile`` chooses the output ``head`` once (:func:`scratchnn.engine.head.output_head`): the
last layer as is followed by the loss or, when the last activation is softmax and the loss a
cross-entropy on probabilities, the last layer's affine part followed by softmax + cross-entropy
on the logits, as Keras does on TensorFlow (see :mod:`scratchnn.losses`).

Backends (:mod:`scratchnn.backend`): ``build`` records the backend current then
(:attr:`Sequential.backend`).  On NumPy the parameters and gradients are views into one flat
buffer each, as above; on any other library every parameter, gradient and moving statistic is
its own array on the backend's device (initialized in NumPy from the global generator, then
copied over: the same numbers everywhere), and the optimizer gets them as lists.  Data enters
the backend once per call (whole, or in chunks of whole batches beyond the backend's data
budget: :func:`scratchnn.engine.training.batch_source`); results
leave as NumPy (``predict``, ``evaluate``, ``get_weights``, ``compute_gradients``).

The public methods :meth:`Sequential.prepare_data`, :meth:`Sequential.forward_backward`,
:meth:`Sequential.apply_gradients`, ... are the surface the training loop
(:mod:`scratchnn.engine.training`), saving and the tools use; nothing outside this module
reads the model's private attributes.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from scratchnn import layers as layers_module
from scratchnn import losses as losses_module
from scratchnn import metrics as metrics_module
from scratchnn import optimizers as optimizers_module
from scratchnn.arguments import check_batch_size, check_bool, check_verbose
from scratchnn.backend import Backend, get_backend, is_numpy, namespace, to_numpy
from scratchnn.checks import as_float_array, check_same_length
from scratchnn.config import resolve_dtype
from scratchnn.engine import callbacks as callbacks_module
from scratchnn.engine import perf, saving, training
from scratchnn.engine.head import LossHead, SoftmaxCrossEntropyHead, output_head
from scratchnn.engine.sample_weights import prepare_sample_weight
from scratchnn.engine.training import NonFiniteLossError, TrainStep
from scratchnn.layers import InputLayer, Layer
from scratchnn.seeding import global_rng

__all__ = ["NonFiniteLossError", "Sequential"]


@saving.register_model_class  # load_model builds Sequentials through from_config
class Sequential:
    """A linear stack of layers with Keras's ``Sequential`` API.

    Parameters
    ----------
    layers : list of layers; the first may be ``scratchnn.layers.Input(shape)``, or the first
        layer may declare ``input_shape=``.  Otherwise the model is built on first use.
    name : model name (default ``"sequential"``, ``"sequential_1"``, ...).
    dtype : 'float32' or 'float64'; default ``scratchnn.config.floatx()`` at build time.
    """

    _count = 0

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None,
                 dtype: str | None = None):
        if name is None:
            name = "sequential" if Sequential._count == 0 else f"sequential_{Sequential._count}"
            Sequential._count += 1
        self.name = name
        self._dtype_arg = dtype
        self.dtype: np.dtype | None = None
        #: The entries as given (layers, or nested ``Sequential`` models), as Keras lists them.
        self.layers: list[Layer | Sequential] = []
        self._leaves: list[Layer] = []  # what computes: nested models expanded
        self._input_shape: tuple[int, ...] | None = None
        self.built = False
        self.optimizer: optimizers_module.Optimizer | None = None
        self.loss: losses_module.Loss | None = None
        #: The last layer with the loss, chosen by ``compile`` (see :mod:`scratchnn.engine.head`).
        self.output_head: LossHead | SoftmaxCrossEntropyHead | None = None
        self._metrics: list[tuple[str, Callable]] = []
        self._metric_specs: list = []
        self._weighted_metric_specs: list = []
        self._weighted: list[bool] = []
        self.compiled = False
        self.stop_training = False
        self.history: callbacks_module.History | None = None
        self._flat_params: np.ndarray | None = None
        self._packed: list[np.ndarray] = []
        #: Free-form JSON-serializable facts saved with the model (e.g. preprocessing).
        self.metadata: dict = {}
        self._flat_grads: np.ndarray | None = None
        #: Where the parameters live, recorded by ``build`` (see :mod:`scratchnn.backend`).
        self.backend: Backend | None = None
        for layer in layers or []:
            self.add(layer)

    # -- construction -----------------------------------------------------------------------
    def add(self, layer: Layer | Sequential) -> None:
        """Append a layer (an ``Input`` only as the first entry), or a whole ``Sequential``
        model, which then acts as one layer: its layers run in its place, sharing its weights."""
        if not isinstance(layer, (Layer, Sequential)):
            raise TypeError(f"Sequential.add expects a scratchnn layer or Sequential model, "
                            f"got {layer!r}")
        if layer is self or (isinstance(layer, Sequential) and layer.contains(self)):
            raise ValueError("a Sequential model cannot contain itself")
        self.built = False  # rebuilt (keeping existing weights) on next use
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("Input must be the first entry of a Sequential model")
            self._input_shape = layer.declared_input_shape
            return
        if not self.layers and layer.declared_input_shape is not None:
            self._input_shape = layer.declared_input_shape
        self.layers.append(layer)
        self._leaves = self.leaf_layers()
        if self.compiled:
            self.output_head = output_head(self._leaves[-1], self.loss)

    def contains(self, model: Sequential) -> bool:
        """True when ``model`` is one of this model's entries, at any depth."""
        return any(entry is model or (isinstance(entry, Sequential) and entry.contains(model))
                   for entry in self.layers)

    @property
    def declared_input_shape(self) -> tuple[int, ...] | None:
        """The per-sample input shape, when declared (as a layer's ``input_shape=``)."""
        return self._input_shape

    def leaf_layers(self) -> list[Layer]:
        """The layers that compute, in order: nested ``Sequential`` models expanded into their
        own layers (``layers`` lists the entries as given, as Keras does)."""
        return [leaf for entry in self.layers
                for leaf in (entry.leaf_layers() if isinstance(entry, Sequential) else [entry])]

    def build(self, input_shape: tuple[int, ...] | None = None) -> None:
        """Create every layer's parameters for per-sample input shape ``input_shape``.

        Accepts Keras's ``(None, 784)`` form too.  Parameters and gradients are then packed
        into one flat buffer each (see :mod:`scratchnn.engine.perf`), or on a backend other
        than NumPy moved to its device, one array each.
        """
        if input_shape is not None:
            shape = tuple(input_shape)
            if shape and shape[0] is None:
                shape = shape[1:]
            self._input_shape = tuple(int(s) for s in shape)
        if self._input_shape is None:
            raise ValueError(
                "The model's input shape is unknown: start it with scratchnn.layers.Input(shape),"
                " give the first layer input_shape=, call build(input_shape), or fit it on data"
            )
        if not self.layers:
            raise ValueError("The model has no layers")
        self.dtype = resolve_dtype(self._dtype_arg)
        if self.backend is None:
            self.backend = get_backend()
        rng = global_rng()
        shape = self._input_shape
        self._leaves = self.leaf_layers()
        for layer in self._leaves:
            if not layer.built:
                layer.build(shape, self.dtype, rng)
            elif layer.input_shape != shape or layer.dtype != self.dtype:
                raise ValueError(f"layer {layer.name!r} was built for {layer.input_shape} "
                                 f"{layer.dtype}, but receives {shape} {self.dtype}")
            shape = layer.compute_output_shape(shape)
        self._pack()
        self.built = True

    def _pack(self) -> None:
        """Make every trainable parameter (and its gradient) a view into one flat buffer, or,
        off NumPy, a copy on the backend (:meth:`_move_to_backend`)."""
        if not self.backend.is_numpy:
            self._move_to_backend()
            return
        params = [p for layer in self._leaves for p in layer.params.values()]
        self._flat_params, pviews = perf.pack(params, self.dtype)
        self._flat_grads, gviews = perf.pack([np.zeros_like(p) for p in params], self.dtype)
        it_p, it_g = iter(pviews), iter(gviews)
        for layer in self._leaves:
            for key in layer.params:
                layer.params[key] = next(it_p)
                layer.grads[key] = next(it_g)
        self._packed = [p for layer in self._leaves for p in layer.params.values()]

    def _move_to_backend(self) -> None:
        """Copy every parameter and moving statistic to the backend's device (already there:
        kept) and give each parameter a zeroed gradient array there."""
        backend, xp = self.backend, self.backend.xp
        for layer in self._leaves:
            for weights in (layer.params, layer.state):
                for key, value in weights.items():
                    if not backend.is_numpy and isinstance(value, np.ndarray):
                        weights[key] = backend.asarray(value, copy=True)
            layer.grads = {key: xp.zeros_like(p) for key, p in layer.params.items()}
        self._flat_params = self._flat_grads = None
        self._packed = [p for layer in self._leaves for p in layer.params.values()]

    def on_backend(self, *arrays):
        """Prepared NumPy ``arrays`` on the model's backend and device, in one transfer each
        (None and arrays already there pass as they are); the arrays themselves on NumPy.
        Returns a tuple."""
        if self.backend.is_numpy:
            return arrays
        return tuple(self.backend.asarray(a) if isinstance(a, np.ndarray) else a
                     for a in arrays)

    def _ensure_packed(self) -> None:
        """Repack when a model containing this one (or contained in it) has since packed the
        shared layers into its own buffer: the values are kept, the buffers become ours."""
        current = [p for layer in self._leaves for p in layer.params.values()]
        if len(current) != len(self._packed) or any(
                a is not b for a, b in zip(current, self._packed)):
            self._pack()

    def _ensure_built(self, x: np.ndarray) -> None:
        if not self.built:
            self.build(self._input_shape or x.shape[1:])

    @property
    def input_shape(self) -> tuple:
        return (None,) + tuple(self._input_shape or ())

    @property
    def output_shape(self) -> tuple:
        self.require_built()
        return (None,) + tuple(self._leaves[-1].output_shape)

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample output shape for per-sample ``input_shape`` (as a layer's)."""
        shape = tuple(input_shape)
        for layer in self.leaf_layers():
            shape = layer.compute_output_shape(shape)
        return shape

    def require_built(self) -> None:
        """Build the model now if its input shape is known; else raise ``ValueError``."""
        if not self.built and self._input_shape is not None and self.layers:
            self.build()
        if not self.built:
            raise ValueError("The model has not been built yet: call build(input_shape), "
                             "declare an Input, or call fit/predict on data first")

    # -- compile ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics: Sequence | None = None,
                weighted_metrics: Sequence | None = None) -> None:
        """Choose the optimizer ('adam', 'sgd', 'rmsprop', ... or an instance), the loss (name
        or instance) and the metrics (e.g. ``["accuracy"]``); choose the output head for that
        loss once.  ``weighted_metrics`` are weighted by ``fit``/``evaluate``'s
        ``sample_weight``/``class_weight`` (plain ``metrics`` are not, as in Keras 3); one whose
        name a plain metric already has is logged as ``weighted_<name>``."""
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='categorical_crossentropy'")
        metrics = _metric_list(metrics, "metrics")
        weighted_metrics = _metric_list(weighted_metrics, "weighted_metrics")
        optimizer = optimizers_module.get(optimizer)
        loss = losses_module.get(loss)
        resolved = [metrics_module.get(m, loss.name) for m in metrics]
        names = {name for name, _ in resolved}
        for m in weighted_metrics:
            name, fn = metrics_module.get(m, loss.name)
            resolved.append((f"weighted_{name}" if name in names else name, fn))
        # only now, all three valid: a failed compile() leaves the model as it was
        self.optimizer, self.loss, self._metrics = optimizer, loss, resolved
        self._weighted = [False] * len(metrics) + [True] * len(weighted_metrics)
        self._metric_specs = list(metrics)
        self._weighted_metric_specs = list(weighted_metrics)
        self.output_head = output_head(self._leaves[-1], loss) if self._leaves else None
        self.compiled = True

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]``: the keys of the logs and of ``evaluate``'s values."""
        return ["loss"] + [name for name, _ in self._metrics]

    @property
    def metric_specs(self) -> list:
        """The metrics as given to ``compile`` (names or functions)."""
        return list(self._metric_specs)

    def require_compiled(self, what: str) -> None:
        """Raise ``RuntimeError`` naming ``what()`` unless the model is compiled."""
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before {what}()")

    # -- the math: forward, loss, backward --------------------------------------------------
    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """The model's outputs for x: every layer's forward, first to last."""
        for layer in self._leaves:
            x = layer.forward(x, training)
        return x

    def _loss_and_outputs(self, x, y, training: bool, sample_weight: np.ndarray | None = None
                          ) -> tuple[float, np.ndarray]:
        """The body's forward, then the head's: ``(loss, predictions)``.  The loss is the
        batch mean of the compiled loss plus every layer's regularization penalty (weights at
        their current values, activities of this forward pass), which is where Keras adds
        them (``Trainer.compute_loss``)."""
        for layer in self._leaves[:-1]:
            x = layer.forward(x, training)
        loss, y_pred = self.output_head.forward(x, y, training, sample_weight)
        loss = loss + self.regularization_loss()
        if not self.backend.is_numpy:  # the NumPy scalar the NumPy path gives
            loss = to_numpy(loss)[()]
        return loss, y_pred

    def regularization_loss(self) -> float:
        """The sum of the layers' penalties (0.0 without regularizers; see
        :meth:`scratchnn.layers.Layer.regularization_loss`)."""
        return sum(layer.regularization_loss() for layer in self._leaves)

    def _backward(self, need_input_grad: bool = True) -> np.ndarray | None:
        """The head's backward, then the body's, last to first; returns dL/dx.

        With ``need_input_grad=False`` it returns None, stops at the first layer with
        parameters and asks that layer for no input gradient (the layers before it have
        nothing to learn)."""
        layers, last = self._leaves, len(self._leaves) - 1
        stop = 0 if need_input_grad else next(
            (i for i, layer in enumerate(layers) if layer.params), last + 1)
        d = self.output_head.backward(need_input_grad or last > stop)
        for i in range(last - 1, stop - 1, -1):
            d = layers[i].backward(d, need_input_grad or i > stop)
        return d if need_input_grad else None

    def blas_threads(self, batch_size: int) -> int | None:
        """The BLAS thread count for batches of ``batch_size`` rows through this model:
        measured once per shape on this machine (:func:`scratchnn.engine.perf.blas_threads_for`).
        """
        if not self.backend.is_numpy:
            return None  # the thread policy is NumPy's (perf.blas_limit(None) does nothing)
        kernels = [p.shape for layer in self._leaves for p in layer.params.values() if p.ndim == 2]
        return perf.blas_threads_for(batch_size, kernels, self.dtype, self.count_params())

    # -- data preparation -------------------------------------------------------------------
    def prepare_inputs(self, x, name: str = "x") -> np.ndarray:
        """``x`` as a float array of the model's dtype, checked against the input shape
        (building the model on first use); shape (N, *input_shape).  Always NumPy (a backend
        array is brought back first): see :meth:`on_backend`."""
        dtype = self.dtype if self.built else resolve_dtype(self._dtype_arg)
        if hasattr(x, "__array_namespace__") and not is_numpy(x):
            x = to_numpy(x)  # a backend array: its values, checked as any input
        x = as_float_array(x, name, dtype)
        self._ensure_built(x)
        if x.shape[1:] != self._input_shape:
            raise ValueError(
                f"{name} has per-sample shape {x.shape[1:]}, but the model expects "
                f"{self._input_shape} (input shape (None, "
                f"{', '.join(map(str, self._input_shape))}))"
            )
        return x

    def prepare_data(self, x, y, name: str = "") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` checked and converted once, before any batch: x as in
        :meth:`prepare_inputs`, y as the loss takes it (``loss.prepare_targets``).
        ``name`` prefixes the argument names in errors (``"val_"``)."""
        x = self.prepare_inputs(x, f"{name}x")
        if y is None:
            raise ValueError(f"{name}y is missing")
        y_arr = to_numpy(y)
        if y_arr.ndim == 0:
            raise ValueError(f"{name}y must have one entry per sample, got a scalar")
        check_same_length(x, y_arr, f"{name}x", f"{name}y")
        y = self.loss.prepare_targets(y_arr, self._leaves[-1].output_shape[-1], self.dtype)
        return x, y

    # -- one step, for the training loop (scratchnn.engine.training) and the tools ------------
    def forward_backward(self, x: np.ndarray, y: np.ndarray,
                         sample_weight: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """One forward and one backward pass in training mode on prepared arrays (see
        :meth:`prepare_data`): fills every layer's gradients, changes no parameter.

        Returns ``(loss, y_pred)``: the batch-mean loss and the predictions (N, K), as
        probabilities after a softmax.  :meth:`apply_gradients` then takes the step.  Off
        NumPy the arrays may still be NumPy (:meth:`on_backend` moves them)."""
        self._ensure_packed()
        if not self.backend.is_numpy:
            x, y, sample_weight = self.on_backend(x, y, sample_weight)
        loss, y_pred = self._loss_and_outputs(x, y, True, sample_weight)
        self._backward(need_input_grad=False)
        return loss, y_pred

    def apply_gradients(self) -> None:
        """One optimizer step with the gradients of the last :meth:`forward_backward`."""
        self.optimizer.apply(*self._optimizer_variables())

    def _optimizer_variables(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(gradients, variables)`` as the optimizer takes them: the one flat buffer each
        (element-wise updates give the same numbers on it as per variable, in one NumPy call),
        or, for an optimizer whose step needs each variable's own norm (``clipnorm``,
        ``global_clipnorm``) and on every backend other than NumPy, one array per trainable
        weight, as Keras passes them."""
        if self.optimizer.needs_per_variable_gradients or not self.backend.is_numpy:
            return ([g for layer in self._leaves for g in layer.grads.values()],
                    [w for layer in self._leaves for w in layer.trainable_weights])
        return [self._flat_grads], [self._flat_params]

    def weights_finite(self) -> bool:
        """True when every parameter is finite (:func:`scratchnn.engine.training.params_finite`
        on the flat buffer; off NumPy one ``all(isfinite(w))`` per parameter)."""
        if self.backend.is_numpy:
            return training.params_finite(self._flat_params)
        xp = self.backend.xp
        return all(bool(xp.all(xp.isfinite(p))) for p in self._packed)

    def metric_sums(self, y: np.ndarray, y_pred: np.ndarray,
                    sample_weight: np.ndarray | None = None) -> list[float]:
        """Each compiled metric summed over the batch's samples, :math:`\\sum_i m_i`, or for a
        weighted metric given weights :math:`\\sum_i w_i m_i`; divide by
        :meth:`metric_counts` for the means."""
        sums = []
        for (_, fn), weighted in zip(self._metrics, self._weighted):
            values = fn(y, y_pred)
            if weighted and sample_weight is not None:
                values = values * sample_weight
            sums.append(float(namespace(values).sum(values)))
        return sums

    def metric_counts(self, n: int, sample_weight: np.ndarray | None = None) -> list[float]:
        """The denominators of the metric means for a batch of ``n`` samples: ``n``, or
        :math:`\\sum_i w_i` for a weighted metric given weights (Keras's ``Mean`` state)."""
        total = None if sample_weight is None else float(namespace(sample_weight).sum(
            sample_weight))
        return [total if weighted and total is not None else float(n)
                for weighted in self._weighted]

    def compute_loss(self, x: np.ndarray, y: np.ndarray, training: bool = False) -> float:
        """The loss (batch mean + penalties) on prepared arrays, through the same output head
        as training, in inference mode or with ``training=True`` in training mode (batch
        statistics, dropout); no gradients, no step.  For finite differences."""
        x, y = self.on_backend(x, y)
        return self._loss_and_outputs(x, y, training=check_bool(training, "training"))[0]

    # -- training -----------------------------------------------------------------------------
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None
                       ) -> float | list[float]:
        """One optimizer step on one batch; returns [loss, *metrics] for that batch.

        Unlike ``fit`` (and like Keras) it does not stop on non-finite values: a NaN or
        infinite loss is returned as is, for the caller to act on (``lr_finder`` does)."""
        self.require_compiled("train_on_batch")
        x, y = self.prepare_data(x, y)
        w = prepare_sample_weight(sample_weight, class_weight, y, self.dtype)
        x, y, w = self.on_backend(x, y, w)
        loss, y_pred = self.forward_backward(x, y, w)
        self.apply_gradients()
        values = [loss] + [s / c if c else 0.0 for s, c in zip(
            self.metric_sums(y, y_pred, w), self.metric_counts(x.shape[0], w))]
        return values if len(values) > 1 else values[0]

    def compute_gradients(self, x, y, return_input_grad: bool = False):
        """The batch-mean loss and its gradients, in ``get_weights()`` order and shapes.

        With ``return_input_grad=True`` also returns dL/dx (same shape as x).  No parameter
        changes.  For studying the math and for parity tests against ``tf.GradientTape``.
        """
        self.require_compiled("compute_gradients")
        return_input_grad = check_bool(return_input_grad, "return_input_grad")
        x, y = self.on_backend(*self.prepare_data(x, y))
        loss, _ = self._loss_and_outputs(x, y, training=True)
        dx = self._backward(need_input_grad=return_input_grad)
        grads = [np.array(to_numpy(g)) for layer in self._leaves for g in layer.grads.values()]
        return (loss, grads, np.array(to_numpy(dx))) if return_input_grad else (loss, grads)

    def fit(self, x=None, y=None, batch_size: int | None = 32, epochs: int = 1,
            verbose: int | str = "auto", callbacks: list | None = None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            class_weight: dict | None = None, sample_weight=None, initial_epoch: int = 0,
            seed: int | None = None) -> callbacks_module.History:
        """Train for ``epochs`` epochs of mini-batch gradient descent; return a ``History``.

        As in Keras: ``validation_split`` holds out the *last* fraction of the samples (before
        shuffling); the samples are reshuffled every epoch when ``shuffle`` (with the global
        generator, or ``seed``); the last batch may be smaller; the logged ``loss`` is the
        sample-weighted mean of the batch losses over the epoch.  Epochs run from
        ``initial_epoch`` to ``epochs - 1``.  ``sample_weight`` (one weight per sample) or
        ``class_weight`` (``{class: weight}``) weight the loss and the ``weighted_metrics``
        (see :mod:`scratchnn.engine.sample_weights`); ``validation_data`` may be
        ``(x, y, sample_weight)``.  Raises :class:`NonFiniteLossError` when the
        loss or a weight becomes NaN or infinite (``TerminateOnNaN`` stops quietly instead).
        The loop itself is :meth:`fit_steps`.
        """
        for _ in self.fit_steps(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                                callbacks=callbacks, validation_split=validation_split,
                                validation_data=validation_data, shuffle=shuffle,
                                class_weight=class_weight, sample_weight=sample_weight,
                                initial_epoch=initial_epoch, seed=seed):
            pass
        return self.history

    def fit_steps(self, x=None, y=None, batch_size: int | None = 32, epochs: int = 1,
                  verbose: int | str = "auto", callbacks: list | None = None,
                  validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
                  class_weight: dict | None = None, sample_weight=None, initial_epoch: int = 0,
                  seed: int | None = None) -> Iterator[TrainStep]:
        """``fit`` one optimizer step at a time: checks the arguments and prepares the data at
        once, then returns a generator that runs ``fit``'s loop (callbacks included) and yields
        a :class:`scratchnn.engine.training.TrainStep` ``(epoch, batch, logs)`` after each step's
        ``on_train_batch_end``.  Exhausting it is ``fit``; ``self.history`` is the result."""
        return training.fit_steps(self, x, y, batch_size=batch_size, epochs=epochs,
                                  verbose=verbose, callbacks=callbacks,
                                  validation_split=validation_split,
                                  validation_data=validation_data, shuffle=shuffle,
                                  class_weight=class_weight, sample_weight=sample_weight,
                                  initial_epoch=initial_epoch, seed=seed)

    # -- inference ----------------------------------------------------------------------------
    def loss_and_metrics(self, x: np.ndarray, y: np.ndarray, batch_size: int,
                         sample_weight: np.ndarray | None = None) -> list[float]:
        """``[loss, *metrics]``: batch-size-weighted means over batches of prepared arrays (see
        :meth:`prepare_data`), in inference mode, under the caller's thread policy; with
        per-sample weights, as :meth:`fit` weights them.  NumPy arrays are moved to the backend
        within its data budget (:func:`scratchnn.engine.training.batch_source`)."""
        mean = training.EpochMean(self.metrics_names[1:])
        arrays = (x, y) if sample_weight is None else (x, y, sample_weight)
        for xb, yb, *wb in training.batch_source(self.backend, arrays, batch_size)():
            w = wb[0] if wb else None
            loss, y_pred = self._loss_and_outputs(xb, yb, False, w)
            mean.add(loss, self.metric_sums(yb, y_pred, w), xb.shape[0],
                     self.metric_counts(xb.shape[0], w))
        return mean.values()

    def evaluate(self, x=None, y=None, batch_size: int | None = 32, verbose: int | str = "auto",
                 sample_weight=None, return_dict: bool = False):
        """Loss and metrics on (x, y): ``[loss, accuracy]`` (a float when there are no metrics).

        The loss is the batch-size-weighted mean over batches, i.e. the mean over all samples
        (with ``sample_weight``: Keras's weighted loss, see :meth:`fit`).
        """
        self.require_compiled("evaluate")
        batch_size = check_batch_size(batch_size)
        verbose = check_verbose(verbose, auto=1 if sys.stdout.isatty() else 0)
        return_dict = check_bool(return_dict, "return_dict")
        x, y = self.prepare_data(x, y)
        w = prepare_sample_weight(sample_weight, None, y, self.dtype)
        return self._evaluate_prepared(x, y, batch_size, verbose, return_dict, w)

    def _evaluate_prepared(self, x, y, batch_size: int, verbose: int, return_dict: bool,
                           sample_weight: np.ndarray | None = None):
        effective_batch = min(batch_size, x.shape[0])
        with perf.blas_limit(self.blas_threads(effective_batch)):
            values = self.loss_and_metrics(x, y, batch_size, sample_weight)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in zip(self.metrics_names, values)))
        if return_dict:
            return dict(zip(self.metrics_names, values))
        return values if len(values) > 1 else values[0]

    def predict(self, x, batch_size: int | None = 32, verbose: int | str = "auto") -> np.ndarray:
        """The model's outputs (probabilities after a softmax), in batches; shape (N, units)."""
        batch_size = check_batch_size(batch_size)
        check_verbose(verbose, auto=0)
        x = self.prepare_inputs(x)
        out = np.empty((x.shape[0],) + self._leaves[-1].output_shape, dtype=self.dtype)
        lo = 0
        effective_batch = min(batch_size, x.shape[0])
        with perf.blas_limit(self.blas_threads(effective_batch)):
            for (xb,) in training.batch_source(self.backend, (x,), batch_size)():
                rows = xb.shape[0]
                out[lo:lo + rows] = to_numpy(self._forward(xb, training=False))
                lo += rows
        return out

    def predict_on_batch(self, x) -> np.ndarray:
        """The model's outputs for one batch, as NumPy."""
        x = self.on_backend(self.prepare_inputs(x))[0]
        return np.array(to_numpy(self._forward(x, training=False)), copy=None)

    def test_on_batch(self, x, y, sample_weight=None):
        """Loss and metrics on one batch (no update), as ``evaluate`` returns them."""
        self.require_compiled("test_on_batch")
        x, y = self.prepare_data(x, y)
        w = prepare_sample_weight(sample_weight, None, y, self.dtype)
        x, y, w = self.on_backend(x, y, w)
        return self._evaluate_prepared(x, y, x.shape[0], 0, False, w)

    def __call__(self, x, training: bool = False):
        """The outputs for ``x``: NumPy for NumPy input (or lists), else an array of the
        model's backend."""
        out = self._forward(self.on_backend(self.prepare_inputs(x))[0], training)
        return out if hasattr(x, "__array_namespace__") and not is_numpy(x) else to_numpy(out)

    # -- weights --------------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """Live views of every weight in Keras's order: layer by layer, each layer's
        trainable ones then its non-trainable ones (Dense: kernel, bias; BatchNormalization:
        gamma, beta, moving_mean, moving_variance)."""
        self.require_built()
        return [w for layer in self._leaves for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The weights the optimizer updates, layer by layer (the order of the gradients
        :meth:`compute_gradients` returns)."""
        self.require_built()
        return [w for layer in self._leaves for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """The weights only training-mode forward passes change (moving statistics)."""
        self.require_built()
        return [w for layer in self._leaves for w in layer.non_trainable_weights]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter, in Keras's order and shapes."""
        return [np.array(to_numpy(w)) for w in self.weights]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (Keras's order and shapes) into the model's parameters.

        All of ``weights`` is checked first (the count, every shape, a real numeric dtype:
        bool/int/float, cast to the model's dtype; complex, object and string arrays are
        rejected), so a failed call changes nothing.  NaN and inf are accepted, as in Keras.
        """
        own = self.weights
        arrays = self._checked_weights(weights, own)
        if not self.backend.is_numpy:  # same dtype, on the device (array API assignment)
            arrays = [self.backend.asarray(np.asarray(a, dtype=self.dtype)) for a in arrays]
        for dst, src in zip(own, arrays):
            dst[...] = src

    @staticmethod
    def _checked_weights(weights, own: list[np.ndarray]) -> list[np.ndarray]:
        """``weights`` as arrays matching ``own`` in count and shapes, or a clear error."""
        if isinstance(weights, (str, bytes, dict)) or not hasattr(weights, "__iter__"):
            raise TypeError(f"set_weights expects a list of arrays (weights), got "
                            f"{type(weights).__name__}")
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"set_weights got {len(weights)} arrays, the model has {len(own)}")
        arrays = []
        for i, (dst, src) in enumerate(zip(own, weights)):
            try:
                src = np.asarray(src)
            except (TypeError, ValueError) as exc:  # ragged nested lists
                raise TypeError(f"weights[{i}] could not be converted to an array: {exc}") \
                    from exc
            if src.dtype.kind not in "biuf":
                raise TypeError(f"weights[{i}] must be real numbers, got dtype {src.dtype}")
            if src.shape != tuple(dst.shape):
                raise ValueError(f"weight {i} has shape {src.shape}, expected {dst.shape}")
            arrays.append(src)
        return arrays

    def count_params(self) -> int:
        """Trainable and non-trainable weights together, as Keras counts them."""
        self.require_built()
        return int(sum(math.prod(w.shape) for w in self.weights))

    # -- description, saving --------------------------------------------------------------------
    def summary(self, print_fn: Callable[[str], None] | None = None) -> None:
        """Print a Keras-like table of layers (a nested model as one row), output shapes and
        parameter counts, then the total, trainable and non-trainable counts."""
        self.require_built()
        print_fn = print_fn or print
        rows, shape = [], self._input_shape
        for entry in self.layers:
            shape = entry.compute_output_shape(shape)
            kind = type(entry).__name__
            rows.append((f"{entry.name} ({kind})", str((None,) + tuple(shape)),
                         f"{entry.count_params():,}"))
        w0 = max(28, *(len(r[0]) + 2 for r in rows))
        w1 = max(26, *(len(r[1]) + 2 for r in rows))
        width = w0 + w1 + 12
        lines = [f'Model: "{self.name}"', "_" * width,
                 f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>10}", "=" * width]
        for i, (a, b, c) in enumerate(rows):
            lines.append(f"{a:<{w0}}{b:<{w1}}{c:>10}")
            lines.append("_" * width if i < len(rows) - 1 else "=" * width)
        for label, weights in (("Total", self.weights), ("Trainable", self.trainable_weights),
                               ("Non-trainable", self.non_trainable_weights)):
            count = sum(math.prod(w.shape) for w in weights)
            lines.append(f"{label} params: {count:,} ({_human_bytes(count * self.dtype.itemsize)})")
        lines.append("_" * width)
        for line in lines:
            print_fn(line)

    # -- configs (Keras's names): what a model file stores ------------------------------------
    def get_config(self) -> dict:
        """The architecture as JSON-ready data: ``name``, ``dtype``, ``input_shape`` and
        ``layers`` as ``[{"class_name", "config"}]``; :meth:`from_config` inverts it."""
        return {"name": self.name, "dtype": None if self.dtype is None else self.dtype.name,
                "input_shape": None if self._input_shape is None else list(self._input_shape),
                "layers": [_serialize_entry(entry) for entry in self.layers]}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """A new model with the architecture ``config`` describes (see :meth:`get_config`).

        Not built yet: its weights are created on first use or by ``build()``, with the
        layers' initializers."""
        layers = [cls.from_config(spec["config"]) if spec.get("class_name") == "Sequential"
                  else layers_module.deserialize(spec) for spec in config["layers"]]
        model = cls(layers, name=config.get("name"), dtype=config.get("dtype"))
        if config.get("input_shape") is not None:
            model._input_shape = tuple(int(d) for d in config["input_shape"])
        return model

    def get_compile_config(self) -> dict | None:
        """The compile settings as JSON-ready data (None when not compiled): ``loss`` and
        ``optimizer`` as ``{"name", "config"}``, ``metrics`` as names."""
        if not self.compiled:
            return None
        return {"loss": losses_module.serialize(self.loss),
                "optimizer": optimizers_module.serialize(self.optimizer),
                "metrics": [m if isinstance(m, str) else name
                            for m, (name, _) in zip(self._metric_specs, self._metrics)],
                **({"weighted_metrics": [m if isinstance(m, str) else getattr(m, "__name__", "?")
                                         for m in self._weighted_metric_specs]}
                   if self._weighted_metric_specs else {})}

    def compile_from_config(self, config: dict) -> None:
        """``compile`` with settings from :meth:`get_compile_config` (a fresh optimizer)."""
        self.compile(optimizer=optimizers_module.deserialize(config["optimizer"]),
                     loss=losses_module.deserialize(config["loss"]),
                     metrics=config.get("metrics", []),
                     weighted_metrics=config.get("weighted_metrics", []))

    def optimizer_state(self) -> dict[str, np.ndarray]:
        """``optimizer.get_state()`` as NumPy arrays in the NumPy backend's layout (what files
        store, the same for every backend): off NumPy, the per-variable slots ``{i}/{slot}``
        concatenated, flattened, into the flat buffer's ``0/{slot}``."""
        state = {key: to_numpy(value) for key, value in self.optimizer.get_state().items()}
        if self.backend.is_numpy or self.optimizer.needs_per_variable_gradients:
            return state
        flat = {"iterations": state.pop("iterations")}
        for slot in self.optimizer.slot_names:
            flat[f"0/{slot}"] = np.concatenate([state[f"{i}/{slot}"].reshape(-1)
                                                for i in range(len(self._packed))])
        return flat

    def set_optimizer_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`optimizer_state` (or ``optimizer.get_state()``; step count and
        slots) for these parameters."""
        self.require_compiled("set_optimizer_state")
        if not self.backend.is_numpy:
            state = self._state_on_backend(state)
        self.optimizer.set_state(state, self._optimizer_variables()[1])

    def _state_on_backend(self, state: dict[str, np.ndarray]) -> dict:
        """NumPy ``state`` on the backend, a flat ``0/{slot}`` split into one per variable."""
        state = dict(state)
        flat_layout = not any(key.startswith("1/") for key in state)
        for slot in self.optimizer.slot_names if flat_layout else []:
            flat, lo = np.asarray(state.pop(f"0/{slot}")).reshape(-1), 0
            for i, p in enumerate(self._packed):
                size = math.prod(p.shape)
                state[f"{i}/{slot}"] = flat[lo:lo + size].reshape(tuple(p.shape))
                lo += size
        return {key: value if key == "iterations" else self.backend.asarray(np.asarray(value))
                for key, value in state.items()}

    def save(self, filepath) -> None:
        """Save architecture, weights, compile settings and optimizer state (see saving)."""
        saving.save_model(self, filepath)

    def save_weights(self, filepath) -> None:
        """Save only the weights (atomic ``.npz``; see :mod:`scratchnn.engine.saving`)."""
        saving.save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        """Load weights from ``save_weights``/``save`` files; on any error nothing changes."""
        saving.load_weights(self, filepath)

    def __repr__(self) -> str:
        return f"<Sequential {self.name!r} layers={[layer.name for layer in self.layers]}>"


def _metric_list(metrics, argument: str) -> list:
    """``compile``'s ``metrics``/``weighted_metrics`` as a list (None -> [])."""
    if metrics is None:
        return []
    if isinstance(metrics, (str, Callable)):
        return [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"{argument} must be a list of metric names or functions, got "
                        f"{type(metrics).__name__}")
    return list(metrics)


def _serialize_entry(entry: Layer | Sequential) -> dict:
    """``{"class_name", "config"}`` of a layer, or of a nested ``Sequential`` (Keras's form)."""
    if isinstance(entry, Sequential):
        return {"class_name": "Sequential", "config": entry.get_config()}
    return layers_module.serialize(entry)


def _human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"

