"""docs/math.md points at real code: every ``scratchnn/<file>.py::<name>`` reference resolves,
and every layer, activation, loss and optimizer class has its forward/backward (or update)
referenced.  The loss values quoted in its tables are recomputed."""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest
from support import REPO

from scratchnn import activations, layers, losses, optimizers

DOC = REPO / "docs" / "math.md"
REF = re.compile(r"`(scratchnn/[\w/]+)\.py::([\w.]+)`")


def references() -> list[tuple[str, str]]:
    return REF.findall(DOC.read_text())


def test_references_exist():
    refs = references()
    assert len(refs) > 50
    missing = []
    for path, qualname in refs:
        obj = importlib.import_module(path.replace("/", "."))
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                missing.append(f"{path}.py::{qualname}")
                break
    assert not missing, f"docs/math.md names code that does not exist: {missing}"


@pytest.mark.parametrize("module, classes, methods", [
    ("scratchnn/layers", [c.__name__ for c in layers.LAYERS.entries().values()],
     ("forward", "backward")),
    ("scratchnn/activations", [type(a).__name__
                               for a in activations.ACTIVATIONS.entries().values()],
     ("forward", "backward")),
    ("scratchnn/losses", [c.__name__ for c in losses.LOSSES.entries().values()],
     ("sample_losses", "mean_gradient")),
    ("scratchnn/optimizers", [c.__name__ for c in optimizers.OPTIMIZERS.entries().values()],
     ("update_step",)),
])
def test_every_building_block_is_covered(module, classes, methods):
    refs = {(p, q) for p, q in references()}
    text = DOC.read_text()
    for cls in classes:
        named = {q.split(".")[1] for p, q in refs
                 if (p == module or p.startswith(module + "/")) and q.startswith(cls + ".")}
        if module.endswith("activations") and cls in ("Linear", "ReLU", "Sigmoid", "Tanh"):
            # element-wise ones: forward is the table's formula, backward is referenced
            assert "backward" in named, cls
            continue
        if cls == "InputLayer":
            assert "forward" in named
            continue
        for m in methods:
            assert m in named or (module.endswith("optimizers") and cls in text), (cls, m)


def test_quoted_clipping_numbers():
    text = DOC.read_text()
    cat, sparse = losses.CategoricalCrossentropy(), losses.SparseCategoricalCrossentropy()
    onehot = np.array([[0.0, 0.0, 1.0]])
    for p, expected_sparse in (([0.5, 0.5, 0.0], "16.1181"), ([0.1, 0.1, 0.0], "14.5087")):
        p = np.array([p])
        assert f"{cat(onehot, p):.4f}" == "16.1181"
        np.testing.assert_array_equal(cat.backward(), 0.0)
        assert f"{sparse(np.array([2]), p):.4f}" == expected_sparse
        assert expected_sparse in text
    fused = losses.CategoricalCrossentropy(from_logits=True)
    z = np.array([[1000.0, 0.0, -1000.0]])
    assert fused(onehot, z) == 2000.0
    np.testing.assert_array_equal(fused.backward(), [[1.0, 0.0, -1.0]])
    assert cat(onehot, activations.softmax(z)) == pytest.approx(16.118, abs=1e-3)


def test_quoted_adam_small_gradient_steps():
    """t = 1, g = 1e-8: paper form (eps 1e-7) ~0.091 lr, Keras form ~0.0032 lr."""
    var = np.zeros(1)
    opt = optimizers.Adam(learning_rate=1.0)
    opt.apply([np.array([1e-8])], [var])
    assert -var[0] == pytest.approx(0.0032, abs=5e-5)
    paper = 1e-8 / (1e-8 + 1e-7)
    assert paper == pytest.approx(0.091, abs=5e-4)
