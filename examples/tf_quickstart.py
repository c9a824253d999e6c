"""TensorFlow's beginner quickstart, line by line, with ``tf.keras`` replaced by scratchnn.

    https://www.tensorflow.org/tutorials/quickstart/beginner

Only the import changed (``import tensorflow as tf`` -> ``import scratchnn as snn``) and the
TensorFlow-only ``.numpy()`` calls were dropped (scratchnn returns NumPy arrays already).
The network is Flatten(28x28) -> Dense(128, relu) -> Dropout(0.2) -> Dense(10) (logits),
Adam, sparse categorical cross-entropy from logits, 5 epochs of batch 32.

    python examples/tf_quickstart.py                   # full run (Keras reaches ~97.5-98%)
    SCRATCHNN_EXAMPLE_EPOCHS=1 SCRATCHNN_EXAMPLE_LIMIT=3000 python examples/tf_quickstart.py

The last line printed is ``Test accuracy: ...``.
"""

import os

import scratchnn as snn

# Quick runs (CI): fewer epochs / a training subset; the defaults are the tutorial's.
EPOCHS = int(os.environ.get("SCRATCHNN_EXAMPLE_EPOCHS") or 5)
LIMIT = int(os.environ.get("SCRATCHNN_EXAMPLE_LIMIT") or 0) or None
snn.utils.set_random_seed(0)

print("scratchnn version:", snn.__version__)

# Load a dataset
mnist = snn.datasets.mnist

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0
x_train, y_train = x_train[:LIMIT], y_train[:LIMIT]

# Build a machine learning model
model = snn.models.Sequential([
    snn.layers.Flatten(input_shape=(28, 28)),
    snn.layers.Dense(128, activation='relu'),
    snn.layers.Dropout(0.2),
    snn.layers.Dense(10)
])

predictions = model(x_train[:1])
print(predictions)

print(snn.activations.softmax(predictions))

loss_fn = snn.losses.SparseCategoricalCrossentropy(from_logits=True)

print(loss_fn(y_train[:1], predictions))

model.compile(optimizer='adam',
              loss=loss_fn,
              metrics=['accuracy'])

# Train and evaluate your model
model.fit(x_train, y_train, epochs=EPOCHS)

test_loss, test_acc = model.evaluate(x_test,  y_test, verbose=2)

probability_model = snn.models.Sequential([
  model,
  snn.layers.Softmax()
])

print(probability_model(x_test[:5]))

print(f"Test accuracy: {test_acc:.4f}")
