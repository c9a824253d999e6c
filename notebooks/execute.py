"""Execute tutorial notebooks with nbclient and write them back with their outputs.

``python notebooks/execute.py [--fast] [--timeout S] [--output PATH] NB.ipynb ...``

Each notebook runs top to bottom in a fresh ``python3`` kernel whose working directory is the
notebook's folder and whose ``PYTHONPATH`` starts with the repository root (so the checkout's
``scratchnn`` is imported). ``--fast`` sets ``SCRATCHNN_NOTEBOOK_FAST=1`` for the kernel (the
notebooks then size their runs down); without it the variable is removed. The executed notebook
is stamped with ``metadata["scratchnn"] = {"source_sha256": source_sha256(nb), "fast": fast}``,
so a test can tell that the committed outputs come from the committed cells.

The helpers (:func:`source_sha256`, :func:`execute_notebook`, :func:`read_summary`,
:func:`error_outputs`) are imported by ``tests/test_notebooks.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FAST_ENV = "SCRATCHNN_NOTEBOOK_FAST"
SUMMARY_PREFIX = "SUMMARY "
DEFAULT_TIMEOUT = 1200  # seconds per cell


def source_sha256(nb) -> str:
    """SHA-256 (hex) of ``json.dumps([[cell_type, source] for cell in nb.cells])``.

    Any edit to a cell (markdown included) or to the cell order changes it; outputs, execution
    counts and metadata do not.
    """
    cells = [[cell["cell_type"], _text(cell["source"])] for cell in nb["cells"]]
    return hashlib.sha256(json.dumps(cells).encode("utf-8")).hexdigest()


def _text(source) -> str:
    """A cell's source as one string (nbformat files may store it as a list of lines)."""
    return source if isinstance(source, str) else "".join(source)


def _kernel_env(fast: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(FAST_ENV, None)
    if fast:
        env[FAST_ENV] = "1"
    parts = [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


def execute_notebook(path, *, fast: bool = False, timeout: int = DEFAULT_TIMEOUT,
                     output=None):
    """Execute the notebook at ``path``, stamp it, write it to ``output`` (default: in place).

    Returns the executed ``nbformat.NotebookNode``. Raises ``nbclient``'s
    ``CellExecutionError`` on the first failing cell (nothing is written then).
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute(env=_kernel_env(fast))  # passed on to the kernel process
    nb.metadata["scratchnn"] = {"source_sha256": source_sha256(nb), "fast": fast}
    nbformat.write(nb, Path(output) if output is not None else path)
    return nb


def read_summary(nb) -> dict:
    """The JSON printed by the last code cell's ``SUMMARY {json}`` line (KeyError if none)."""
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    for out in code[-1].get("outputs", []) if code else []:
        if out.get("output_type") == "stream":
            for line in _text(out.get("text", "")).splitlines():
                if line.startswith(SUMMARY_PREFIX):
                    return json.loads(line[len(SUMMARY_PREFIX):])
    raise KeyError("the last code cell printed no 'SUMMARY {json}' line")


def error_outputs(nb) -> list[str]:
    """``"cell N: ename: evalue"`` for every error output in the notebook."""
    return [f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
            for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--fast", action="store_true", help=f"set {FAST_ENV}=1 (checks only)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell")
    parser.add_argument("--output", type=Path, help="write here instead of in place (one notebook)")
    args = parser.parse_args(argv)
    if args.output is not None and len(args.notebooks) != 1:
        parser.error("--output needs exactly one notebook")
    for path in args.notebooks:
        start = time.perf_counter()
        nb = execute_notebook(path, fast=args.fast, timeout=args.timeout, output=args.output)
        seconds = time.perf_counter() - start
        print(f"{path}: executed in {seconds:.1f} s (fast={args.fast}); "
              f"SUMMARY {json.dumps(read_summary(nb))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
