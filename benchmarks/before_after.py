"""Before/after table for a change: scratchnn's quick sweep in two checkouts, interleaved.

    git worktree add /tmp/base <commit>
    SCRATCHNN_DATA=... python -m benchmarks.before_after /tmp/base . --rounds 2

Each round runs ``python -m benchmarks.report --quick --frameworks scratchnn --no-rss`` in the
*before* tree, then the same in the *after* tree with ``scratchnn-plain`` (fast paths off) as
well, so that a machine whose speed drifts over minutes affects both alike; every cell is the
minimum over rounds.  Prints a markdown table with after / before and plain / fast ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path


def _sweep(tree: Path, frameworks: str, out: Path) -> list[dict]:
    subprocess.run([sys.executable, "-m", "benchmarks.report", "--quick", "--frameworks",
                    frameworks, "--no-rss", "--out", str(out)], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads((out / "quick.json").read_text())["benchmarks"]


def measure(before: Path, after: Path, rounds: int) -> dict[tuple, dict[str, float]]:
    """``{(op, batch, widths): {"before": s, "after": s, "plain": s}}``, minimum over rounds."""
    best: dict[tuple, dict[str, float]] = defaultdict(dict)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for label, tree, fws in (("before", before, "scratchnn"),
                                     ("after", after, "scratchnn,scratchnn-plain")):
                for b in _sweep(tree, fws, Path(tmp) / f"{label}{r}"):
                    e = b["extra_info"]
                    key = (e["op"], e["batch"], "x".join(map(str, e["widths"])))
                    col = label if e["framework"] == "scratchnn" else "plain"
                    best[key][col] = min(best[key].get(col, float("inf")), b["stats"]["min"])
    return best


def _time(s: float) -> str:
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def table(best: dict[tuple, dict[str, float]]) -> str:
    rows = ["| op | batch | hidden | before | after | after / before | plain | plain / fast |",
            "|---|---|---|---|---|---|---|---|"]
    for key in sorted(best):
        v = best[key]
        if "before" not in v or "after" not in v:
            continue
        plain = (f"{_time(v['plain'])} | {v['plain'] / v['after']:.2f}" if "plain" in v
                 else "— | —")
        rows.append(f"| {key[0]} | {key[1]} | {key[2]} | {_time(v['before'])} | "
                    f"{_time(v['after'])} | {v['after'] / v['before']:.2f} | {plain} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.before_after",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="checkout of the base commit")
    parser.add_argument("after", type=Path, help="checkout of the change")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(table(measure(args.before.resolve(), args.after.resolve(), args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
