"""The tutorial notebooks (``notebooks/*.ipynb``) are committed executed, from their current cells,
and still run.

For every notebook (conventions in ``notebooks/README.md``):

* the committed copy: ``metadata["scratchnn"]["source_sha256"]`` equals the hash of the current
  cell sources (``notebooks/execute.py:source_sha256``) and ``fast`` is false, so the outputs come
  from these cells at full size; every code cell was executed and none has an error output; the
  last code cell printed ``SUMMARY {json}`` with ``"fast": false``;
* a fresh execution with ``SCRATCHNN_NOTEBOOK_FAST=1`` (nbclient, a temporary copy) raises no
  error, keeps the number of cells and prints a SUMMARY with the same keys, ``"fast": true``, the
  same ``"exact"`` numbers (those that do not depend on FAST: hand-derived gradients, parameter
  counts, class counts) and every ``"floors"`` entry at or above its floor, in both runs.

The re-execution is skipped, with the reason, without nbclient/ipykernel, and for a notebook that
loads MNIST when MNIST is not found (``SCRATCHNN_DATA``; nothing is downloaded here).
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell of a FAST run


def _load_execute():
    spec = importlib.util.spec_from_file_location("notebooks_execute", NOTEBOOK_DIR / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute = _load_execute()


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _mnist_missing() -> str | None:
    """Why MNIST cannot be loaded here, or None when it can (never downloads)."""
    from scratchnn.datasets import DatasetError, mnist

    try:
        mnist.load_data(download=False)
    except (DatasetError, FileNotFoundError) as exc:
        return f"MNIST not found ({type(exc).__name__}); set SCRATCHNN_DATA"
    return None


def _ids(paths):
    return [p.stem for p in paths]


def test_there_are_notebooks_and_the_readme_links_them():
    assert NOTEBOOKS, "notebooks/*.ipynb: none found"
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f"({path.name})" in readme, f"notebooks/README.md does not link {path.name}"


def test_source_hash_sees_every_cell_and_ignores_outputs():
    nb = {"cells": [{"cell_type": "markdown", "source": "# a"},
                    {"cell_type": "code", "source": ["x = 1\n", "print(x)"], "outputs": []}]}
    digest = execute.source_sha256(nb)
    assert len(digest) == 64
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    nb["cells"][1]["execution_count"] = 1
    assert execute.source_sha256(nb) == digest
    nb["cells"][1]["source"] = "x = 1\nprint(x)"  # the same text as one string
    assert execute.source_sha256(nb) == digest
    nb["cells"][0]["source"] = "# b"
    assert execute.source_sha256(nb) != digest
    nb["cells"][0]["source"] = "# a"
    nb["cells"][0]["cell_type"] = "raw"
    assert execute.source_sha256(nb) != digest


def test_read_summary_takes_the_last_code_cells_summary_line():
    stream = {"output_type": "stream", "name": "stdout",
              "text": ["note\n", 'SUMMARY {"fast": false, "exact": {"n": 3}}\n']}
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [stream]},
                    {"cell_type": "markdown", "source": "end"}]}
    assert execute.read_summary(nb) == {"fast": False, "exact": {"n": 3}}
    nb["cells"].append({"cell_type": "code", "source": "", "outputs": []})
    with pytest.raises(KeyError):
        execute.read_summary(nb)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_notebook_is_executed_from_its_current_cells(path):
    nb = _read(path)
    stamp = nb["metadata"].get("scratchnn")
    assert stamp is not None, f"{path.name}: not stamped; run python notebooks/execute.py {path}"
    assert stamp["source_sha256"] == execute.source_sha256(nb), (
        f"{path.name}: cells changed since it was executed; re-run notebooks/execute.py")
    assert stamp["fast"] is False, f"{path.name}: committed from a FAST run"
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell.get("execution_count") for cell in code), (
        f"{path.name}: a code cell was not executed")
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), (
        f"{path.name}: cells were not executed once, top to bottom")
    assert execute.error_outputs(nb) == []
    summary = execute.read_summary(nb)
    assert summary["fast"] is False
    assert isinstance(summary["exact"], dict) and isinstance(summary["floors"], dict)
    for key, floor in summary["floors"].items():
        assert summary[key] >= floor, f"{path.name}: committed {key} {summary[key]} < {floor}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_reexecutes_fast_with_the_committed_summary(path, tmp_path):
    pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e .[dev])")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e .[dev])")
    committed = _read(path)
    if "mnist" in json.dumps([c["source"] for c in committed["cells"]]).lower():
        reason = _mnist_missing()
        if reason:
            pytest.skip(reason)
    start = time.perf_counter()
    fresh = execute.execute_notebook(path, fast=True, timeout=CELL_TIMEOUT,
                                     output=tmp_path / path.name)
    print(f"{path.name}: FAST execution {time.perf_counter() - start:.1f} s")
    assert execute.error_outputs(fresh) == []
    assert len(fresh.cells) == len(committed["cells"])
    old, new = execute.read_summary(committed), execute.read_summary(fresh)
    assert new["fast"] is True
    assert set(new) == set(old), f"{path.name}: SUMMARY keys differ"
    assert new["exact"] == old["exact"], f"{path.name}: FAST-independent numbers differ"
    assert new["floors"] == old["floors"]
    for key, floor in new["floors"].items():
        assert new[key] >= floor, f"{path.name}: FAST {key} {new[key]} < floor {floor}"
