"""The README's Python examples run as written (with MNIST shrunk to a few hundred images)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from support import REPO

import scratchnn as snn


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def test_tutorial_example_runs(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    fake = ((rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), rng.integers(0, 10, 300)),
            (rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50)))
    monkeypatch.setattr(snn.datasets.mnist, "load_data", lambda *a, **k: fake)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(_blocks()[0].replace("epochs=10", "epochs=2"), scope)
    assert scope["probs"].shape == (5, 10)
    np.testing.assert_allclose(scope["probs"].sum(axis=1), 1, rtol=1e-5)
    assert scope["history"].history["learning_rate"] == pytest.approx([0.001 * 0.95,
                                                                       0.001 * 0.95**2])
    assert (tmp_path / "mnist.npz").exists()


def test_math_example_runs():
    rng = np.random.default_rng(1)
    model = snn.Sequential([snn.layers.Input((3,)), snn.layers.Dense(4, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    scope = {"model": model, "x_batch": rng.random((8, 3)),
             "y_batch": np.eye(4)[rng.integers(0, 4, 8)], "x": rng.random((5, 3)),
             "dout": np.ones((5, 4)), "snn": snn, "Dense": snn.layers.Dense}
    exec(_blocks()[1], scope)
    assert len(scope["grads"]) == 2 and scope["dx"].shape == (5, 3)




def _module_map() -> str:
    text = (REPO / "README.md").read_text()
    return text[text.index("## What is inside"):text.index("## The tutorial workflow")]


def test_module_map_names_real_paths_and_every_package():
    rows = [line for line in _module_map().splitlines() if line.startswith("| ")][2:]
    named: set[str] = set()
    for row in rows:
        tier, paths = row.split("|")[1].strip(), row.split("|")[2]
        assert tier in {"foundation", "math", "engine", "workflow", "cli"}, row
        folder = ""
        for path in re.findall(r"`([\w/.]+)`", paths):
            if path.endswith("/"):
                folder = path
            full = path if path.startswith("scratchnn/") else folder + path
            named.add(full)
            assert (REPO / full).exists(), f"README names missing {full}"
    for package in ("engine", "workflow", "cli", "datasets"):
        assert any(p.startswith(f"scratchnn/{package}/") for p in named), package
    workflow = {p.name for p in (REPO / "scratchnn" / "workflow").glob("[a-z]*.py")}
    assert workflow <= {p.rsplit("/", 1)[-1] for p in named}, "a workflow module is unlisted"
