"""The layers of the house: imports run one way only, and there are no import cycles.

Every module under ``scratchnn/`` is read with ``ast`` (nothing is imported) and mapped to its
tier::

    0 foundation   config, seeding, checks, arguments, atomic, registry, fastpath
    1 math         activations, initializers, layers, losses, optimizers, metrics, utils,
                   gradcheck, regularizers
    2 engine       scratchnn.engine.*, scratchnn.datasets.*
    3 workflow     scratchnn.workflow.*
    4 cli          scratchnn.cli.*
    api shims      scratchnn (the package), __main__, models, callbacks, saving: Keras-style
                   re-exports, which may import anything and which nothing may import

A module may import its own tier or lower ones.  Every ``import`` statement counts, at module
level or inside a function (a deferred import is still a dependency), ``TYPE_CHECKING`` ones
too.  A module that is in no tier fails the test: classify it in ``TIERS`` below.
"""

from __future__ import annotations

import ast
from pathlib import Path

from support import REPO

SHIM = 5  # above every tier: a shim may import anything, no tiered module may import a shim

#: Tier of each module or package (a package's entry covers everything under it).
TIERS: dict[str, int] = {
    **{f"scratchnn.{m}": 0 for m in ("config", "seeding", "checks", "arguments", "atomic",
                                     "registry", "fastpath", "backend")},
    **{f"scratchnn.{m}": 1 for m in ("activations", "initializers", "layers", "losses",
                                     "optimizers", "metrics", "utils", "gradcheck",
                                     "regularizers")},
    "scratchnn.engine": 2,
    "scratchnn.datasets": 2,
    "scratchnn.workflow": 3,
    "scratchnn.cli": 4,
    **{m: SHIM for m in ("scratchnn", "scratchnn.__main__", "scratchnn.models",
                         "scratchnn.callbacks", "scratchnn.saving")},
}
SHIMS = {m for m, tier in TIERS.items() if tier == SHIM}

#: Upward imports tolerated for now.
KNOWN_UPWARD: set[tuple[str, str]] = set()  # none: keep it that way


# -- the checker ---------------------------------------------------------------------------------
def module_names(root: Path) -> dict[str, Path]:
    """``dotted name -> file`` for every ``.py`` file under the package directory ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _known_prefix(name: str, known: set[str]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return None


def _from_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` reads from (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` (file ``path``) imports, anywhere in the file.

    ``from p import n`` counts as importing ``p.n`` when that is a module, else ``p``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    targets: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(_known_prefix(alias.name, known) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, module, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in known else _known_prefix(base, known))
    return {t for t in targets if t is not None and t != module}


def import_graph(root: Path) -> dict[str, set[str]]:
    """``module -> modules it imports`` for the package directory ``root``."""
    names = module_names(root)
    return {m: imports_of(path, m, set(names)) for m, path in names.items()}


def tier_of(module: str, tiers: dict[str, int]) -> int | None:
    if module in tiers:
        return tiers[module]
    prefix = _known_prefix(module, set(tiers) - SHIMS)
    return None if prefix is None else tiers[prefix]


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(cycles)


def layering_problems(root: Path, tiers: dict[str, int] = TIERS,
                      known_upward: set[tuple[str, str]] = frozenset()) -> list[str]:
    """Unclassified modules, upward imports (not in ``known_upward``) and import cycles."""
    graph = import_graph(root)
    problems = [f"{m} is in no tier: classify it in tests/test_layering.py TIERS"
                for m in sorted(graph) if tier_of(m, tiers) is None]
    for importer in sorted(graph):
        low = tier_of(importer, tiers)
        if low is None or low == SHIM:
            continue
        for imported in sorted(graph[importer]):
            high = tier_of(imported, tiers)
            if high is not None and high > low and (importer, imported) not in known_upward:
                problems.append(f"upward import: {importer} (tier {low}) imports {imported} "
                                f"(tier {high})")
    problems += [f"import cycle: {' <-> '.join(c)}" for c in find_cycles(graph)]
    return problems


# -- the package ---------------------------------------------------------------------------------
def test_scratchnn_imports_run_one_way_with_no_cycles():
    problems = layering_problems(REPO / "scratchnn", known_upward=KNOWN_UPWARD)
    assert not problems, "\n".join(problems)


def test_the_checker_sees_the_real_package():
    graph = import_graph(REPO / "scratchnn")
    assert {"scratchnn.engine.model", "scratchnn.layers", "scratchnn.cli.train"} <= set(graph)
    assert "scratchnn.engine.saving" in graph["scratchnn.engine.model"]
    assert "scratchnn.engine.model" not in graph["scratchnn.engine.saving"]
    assert "scratchnn.losses" in graph["scratchnn.engine.model"]  # from scratchnn import losses


# -- the checker itself, on synthetic trees --------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "scratchnn"
    for rel in ("__init__.py", "cli/__init__.py", "engine/__init__.py", *files):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files.get(rel, ""))
    return root


def test_checker_flags_math_importing_the_cli(tmp_path):
    root = _tree(tmp_path, {"layers.py": "from scratchnn.cli import x\n"})
    assert layering_problems(root) == [
        "upward import: scratchnn.layers (tier 1) imports scratchnn.cli (tier 4)"]


def test_checker_flags_imports_inside_functions_and_of_submodules(tmp_path):
    root = _tree(tmp_path, {
        "layers.py": "def f():\n    from scratchnn.cli import common\n",
        "cli/common.py": "",
    })
    assert layering_problems(root) == [
        "upward import: scratchnn.layers (tier 1) imports scratchnn.cli.common (tier 4)"]


def test_checker_flags_relative_and_shim_imports(tmp_path):
    root = _tree(tmp_path, {"engine/model.py": "from .. import models\n",
                            "models.py": "", "config.py": "import scratchnn.engine.model\n"})
    assert layering_problems(root) == [
        "upward import: scratchnn.config (tier 0) imports scratchnn.engine.model (tier 2)",
        "upward import: scratchnn.engine.model (tier 2) imports scratchnn.models (tier 5)"]


def test_checker_flags_cycles_within_a_tier(tmp_path):
    root = _tree(tmp_path, {"engine/model.py": "from scratchnn.engine import saving\n",
                            "engine/saving.py": "def load():\n"
                                                "    from scratchnn.engine.model import S\n"})
    assert layering_problems(root) == [
        "import cycle: scratchnn.engine.model <-> scratchnn.engine.saving"]


def test_checker_flags_unclassified_modules_and_honours_known_upward(tmp_path):
    root = _tree(tmp_path, {"newthing.py": "", "losses.py": "from scratchnn.engine import perf\n",
                            "engine/perf.py": ""})
    known = {("scratchnn.losses", "scratchnn.engine.perf")}
    assert layering_problems(root, known_upward=known) == [
        "scratchnn.newthing is in no tier: classify it in tests/test_layering.py TIERS"]
    assert len(layering_problems(root)) == 2


def test_the_checker_accepts_a_clean_tree(tmp_path):
    root = _tree(tmp_path, {"engine/model.py": "from scratchnn import layers, config\n",
                            "layers.py": "from scratchnn.config import floatx\n",
                            "config.py": "",
                            "__init__.py": "from scratchnn.engine.model import S\n"})
    assert layering_problems(root) == []


# -- no hidden coupling through private names ------------------------------------------------------
#: Files that work with a model (or the math) only through public names.
PUBLIC_ONLY = ["scratchnn/engine/training.py", "scratchnn/engine/saving.py",
               "scratchnn/engine/model_file.py", "scratchnn/engine/head.py",
               "scratchnn/gradcheck.py", "benchmarks/*.py", "tfref/*.py"]
#: Private names still read across modules (none: keep it that way).
KNOWN_PRIVATE: set[tuple[str, str]] = set()


def private_accesses(path: Path) -> list[tuple[int, str]]:
    """``(line, text)`` of each ``obj._name`` (obj not self/cls) and each
    ``from scratchnn... import _name``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scratchnn"):
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_no_private_names_read_across_modules():
    problems = []
    for pattern in PUBLIC_ONLY:
        for path in sorted(REPO.glob(pattern)):
            rel = path.relative_to(REPO).as_posix()
            problems += [f"{rel}:{line}: {text}" for line, text in private_accesses(path)
                         if (rel, text.rsplit(".", 1)[-1]) not in KNOWN_PRIVATE]
    assert not problems, "\n".join(problems)


def test_private_access_checker(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from scratchnn.a import _b\nx = model._flat_params\ny = self._ok\n"
                    "z = m.__dict__\nw = model.public\nfrom tables import _local\n")
    assert private_accesses(path) == [(1, "from scratchnn.a import _b"),
                                      (2, "model._flat_params")]
