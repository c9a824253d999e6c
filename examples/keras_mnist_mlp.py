"""Keras's classic ``mnist_mlp.py`` with only the imports changed to scratchnn.

    https://github.com/keras-team/keras/blob/2.3.1/examples/mnist_mlp.py

Trains a simple deep multi-layer perceptron on the MNIST dataset:
784 -> Dense(512, relu) -> Dropout(0.2) -> Dense(512, relu) -> Dropout(0.2) -> Dense(10, softmax),
RMSprop(), categorical cross-entropy, batch 128, 20 epochs (Keras reaches ~98.2-98.4%).

    python examples/keras_mnist_mlp.py
    SCRATCHNN_EXAMPLE_EPOCHS=1 SCRATCHNN_EXAMPLE_LIMIT=3000 python examples/keras_mnist_mlp.py

The ``SCRATCHNN_EXAMPLE_*`` lines (quick CI runs) and a seed are the only additions; the
Python-2 ``from __future__ import print_function`` is dropped. The last line
printed is ``Test accuracy: ...``.
"""

import os

import scratchnn as keras
from scratchnn.datasets import mnist
from scratchnn.layers import Dense, Dropout
from scratchnn.models import Sequential
from scratchnn.optimizers import RMSprop

batch_size = 128
num_classes = 10
epochs = int(os.environ.get("SCRATCHNN_EXAMPLE_EPOCHS") or 20)
limit = int(os.environ.get("SCRATCHNN_EXAMPLE_LIMIT") or 60000)
keras.utils.set_random_seed(0)

# the data, split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train = x_train.reshape(60000, 784)
x_test = x_test.reshape(10000, 784)
x_train, y_train = x_train[:limit], y_train[:limit]
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=1,
                    validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
