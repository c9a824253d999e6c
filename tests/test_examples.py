"""The example scripts run end to end (reduced epochs and training subset, as in CI) and
report a test accuracy well above chance; their figures are real images."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support import REPO, mnist_location

EXAMPLES = {
    # script: (epochs on 3000 training images, minimum test accuracy, figures it must write)
    "mnist_512_adam.py": (1, 0.80, ["samples.png", "curves.png", "confusion_matrix.png",
                                    "predictions.png", "probabilities.png"]),
    "mnist_128_128_sgd.py": (1, 0.50, ["curves.png", "confusion_matrix.png",
                                       "precision_recall.png"]),
    # the 4-4 / 10-10 networks need a few epochs; the sweep runs 60 epochs (1e-4 .. 1e-1)
    "mnist_small_lr_finder.py": (3, 0.60, ["lr_finder.png", "compare.png", "curves_10_10.png",
                                           "confusion_matrix.png"]),
    # TensorFlow's quickstart and Keras's mnist_mlp.py, only the imports changed
    "tf_quickstart.py": (1, 0.80, []),
    "keras_mnist_mlp.py": (1, 0.80, []),
}


def test_every_example_is_listed():
    assert sorted(p.name for p in (REPO / "examples").glob("*.py")) == sorted(EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXAMPLES))
def test_example_runs_quickly(script, tmp_path):
    where = mnist_location()
    if where is None:
        pytest.skip("MNIST not available (set SCRATCHNN_DATA)")
    epochs, minimum, figures = EXAMPLES[script]
    env = dict(os.environ, SCRATCHNN_DATA=where, SCRATCHNN_EXAMPLE_EPOCHS=str(epochs),
               SCRATCHNN_EXAMPLE_LIMIT="3000", SCRATCHNN_EXAMPLE_SWEEP_EPOCHS="60",
               SCRATCHNN_EXAMPLE_OUT=str(tmp_path), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(REPO / "examples" / script)], env=env,
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"Test accuracy: ([0-9.]+)", last)
    assert m, f"last line should report the test accuracy, got {last!r}"
    assert float(m.group(1)) >= minimum
    for name in figures:
        with Image.open(Path(tmp_path) / name) as img:
            assert img.format == "PNG" and min(img.size) >= 200
    assert f"Epoch {epochs}/{epochs}" in proc.stdout or script == "mnist_small_lr_finder.py"
