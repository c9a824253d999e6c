"""Run the benchmark suite and write the report: ``python -m benchmarks.report [--quick]``.

``--device gpu`` runs the ``gpu`` sweep instead (scratchnn on CuPy and torch CUDA, TF -- or,
when TF sees no GPU, Keras 3 on JAX -- and PyTorch on CUDA; the GPU's GEMM peak; the tables
of :mod:`benchmarks.gpu`), and exits 1 with a message naming what is missing when no CUDA
device is visible.

Steps, all in one run so that every figure comes from the same machine state:

1. the float32 GEMM peak (:mod:`benchmarks.peak`);
2. ``benchmarks/test_bench.py`` under pytest-benchmark, once per framework, each in its own
   process (TensorFlow's and PyTorch's thread pools never share a process with another
   framework's timings); scratchnn once more with its fast kernels off
   (``SCRATCHNN_FAST_PATHS=0``, label ``scratchnn-plain``, tutorial-network rows only);
3. peak RSS of a one-epoch fit per framework, each in a fresh process (:mod:`benchmarks.rss`);
4. the GEMM peak again (the report uses the higher of the two).

Outputs in ``--out`` (default ``benchmarks/results/``), named after the sweep:

* ``<sweep>.json`` -- pytest-benchmark's JSON format (all frameworks' ``benchmarks`` merged),
  plus a top-level ``"scratchnn_report"`` entry: GEMM peak, RSS, background load, settings;
* ``<sweep>.md`` -- tables of times, ratios (scratchnn / Keras fit, / tf.function, / PyTorch),
  scratchnn's GFLOP/s and fraction of peak, and the performance targets with pass/fail;
* ``<sweep>_epoch_time.png`` and ``<sweep>_fraction_of_peak.png`` -- the plots.

Because other work on the machine slows whatever runs beside it, the report measures how much
CPU time other processes took during the run and prints a warning when it was more than a few
percent; rerun such reports on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from . import config, frameworks, peak

HERE = Path(__file__).resolve().parent
#: Raw timings kept per benchmark in the JSON (the statistics use all of them).
MAX_SAMPLES = 20
ROOT = HERE.parent


# -- measuring ----------------------------------------------------------------------------------

def _cpu_times() -> tuple[float, float]:
    """(busy seconds of the whole machine, CPU seconds of this process and its children)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / ticks  # minus idle and iowait
    t = os.times()
    return busy, t.user + t.system + t.children_user + t.children_system


def _run_pytest(framework: str, sweep: config.Sweep, json_path: Path, verbose: bool) -> None:
    env = dict(os.environ, SCRATCHNN_BENCH_SWEEP=sweep.name,
               SCRATCHNN_BENCH_FRAMEWORK=framework, PYTHONHASHSEED="0")
    if framework == config.PLAIN:  # scratchnn's plain formulas, on the tutorial rows
        env.update(SCRATCHNN_BENCH_FRAMEWORK="scratchnn", SCRATCHNN_FAST_PATHS="0",
                   SCRATCHNN_BENCH_PLAIN="1")
    cmd = [sys.executable, "-m", "pytest", str(HERE / "test_bench.py"), "-q",
           "-p", "no:cacheprovider", f"--rootdir={ROOT}", f"--benchmark-json={json_path}",
           f"--benchmark-max-time={sweep.max_time}",
           f"--benchmark-min-rounds={sweep.min_rounds}", "--benchmark-warmup=on",
           "--benchmark-warmup-iterations=3", "--benchmark-sort=name",
           "--benchmark-columns=min,median,rounds"]
    out = None if verbose else subprocess.DEVNULL
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode not in (0, 5):  # 5: every test skipped
        raise RuntimeError(f"benchmarks for {framework} failed (exit {proc.returncode}); "
                           f"rerun with --verbose")


def _run_rss(framework: str, batch: int, sweep: config.Sweep) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.rss", framework, str(batch), "--sweep", sweep.name]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"framework": framework, "batch": batch, "error": proc.stderr.strip()[-500:]}
    return json.loads(lines[-1])


def _merge(paths: list[Path]) -> dict:
    merged: dict | None = None
    for path in paths:
        if not path.exists():
            continue
        part = json.loads(path.read_text())
        if path.stem.endswith(config.PLAIN):  # timed as "scratchnn", with fast paths off
            for bench in part["benchmarks"]:
                bench["extra_info"]["framework"] = config.PLAIN
        if merged is None:
            merged = part
        else:
            merged["benchmarks"].extend(part["benchmarks"])
    if merged is None:
        raise RuntimeError("no benchmark produced results")
    return merged


def run(sweep: config.Sweep, out_dir: Path, only: list[str] | None = None,
        rss: bool = True, verbose: bool = False) -> dict:
    """Run everything; return the merged pytest-benchmark JSON (also written to ``out_dir``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = _framework_names(sweep, only)
    busy0, own0 = _cpu_times()
    wall0 = time.perf_counter()
    peak_before = _peak(sweep)
    parts = []
    for fw in names:
        path = out_dir / f".{sweep.name}-{fw}.json"
        path.unlink(missing_ok=True)
        print(f"[report] {fw}: timing the {sweep.name} sweep ...", flush=True)
        _run_pytest(fw, sweep, path, verbose)
        parts.append(path)
    rss_rows = []
    if rss:
        rss_names = [f for f in names if not f.endswith("-gpu") and f != config.PLAIN]
        if "tf" in rss_names:
            rss_names.insert(rss_names.index("tf") + 1, "tf-function")
        for fw in rss_names:
            for batch in sweep.rss_batches:
                print(f"[report] {fw}: peak RSS of an epoch at batch {batch} ...", flush=True)
                rss_rows.append(_run_rss(fw, batch, sweep))
    peak_after = _peak(sweep)
    wall = time.perf_counter() - wall0
    busy1, own1 = _cpu_times()
    merged = _merge(parts)
    for path in parts:
        path.unlink(missing_ok=True)
    for bench in merged["benchmarks"]:  # keep the committed JSON small: no per-call samples
        if len(bench["stats"].get("data", [])) > MAX_SAMPLES:
            bench["stats"]["data"] = bench["stats"]["data"][:MAX_SAMPLES]
            bench["stats"]["data_truncated"] = True
    others = max(0.0, (busy1 - busy0) - (own1 - own0))
    merged["scratchnn_report"] = {
        "sweep": sweep.name,
        **_peak_info(peak_before, peak_after),
        "rss": rss_rows,
        "frameworks": names,
        "wall_s": round(wall, 1),
        "other_processes_cpu_s": round(others, 1),
        "other_processes_share": round(others / (wall * (os.cpu_count() or 1)), 3),
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": _versions(),
        "command": "python -m benchmarks.report " + " ".join(sys.argv[1:]),
    }
    json_path = out_dir / f"{sweep.name}.json"
    json_path.write_text(json.dumps(merged, indent=2))
    from . import gpu, tables

    md = gpu.markdown(merged) if sweep.name == "gpu" else tables.markdown(merged)
    (out_dir / f"{sweep.name}.md").write_text(md)
    if sweep.name == "gpu":  # the plots show scratchnn's NumPy rows
        return merged
    try:
        from . import plots

        plots.write(merged, out_dir / f"{sweep.name}_epoch_time.png",
                    out_dir / f"{sweep.name}_fraction_of_peak.png")
    except ImportError:  # matplotlib missing: tables only
        pass
    return merged


def _framework_names(sweep: config.Sweep, only: list[str] | None) -> list[str]:
    """The frameworks to time: ``only``, or the sweep's (on the CPU sweeps with scratchnn's
    plain formulas and the GPU variants added), keeping those that can run here."""
    names = list(only or sweep.frameworks)
    if only is None and sweep.name != "gpu":
        names.insert(names.index("scratchnn") + 1 if "scratchnn" in names else 0, config.PLAIN)
        names += config.GPU_FRAMEWORKS
    names = list(dict.fromkeys(names))
    names = [f for f in names if f in ("scratchnn", config.PLAIN) or frameworks.probe(f)]
    if only is None and sweep.name == "gpu":
        from .gpu import with_keras_fallback

        names = with_keras_fallback(names, frameworks.probe)
    return names


def _peak(sweep: config.Sweep) -> dict:
    """The GEMM peak measurement for ``sweep``: the GPU's on the gpu sweep, else the CPU's."""
    if sweep.name == "gpu":
        return peak.gpu_gemm()
    small = sweep.name == "micro"
    return peak.measure(n=512 if small else 3072, repeats=2 if small else 5)


def _peak_info(before: dict, after: dict) -> dict:
    """The report's peak entries from the measurements before and after the timings."""
    if "tflops" in before:  # GPU
        best = max((before, after), key=lambda r: r["tflops"])
        return {"gemm_peak_gflops": best["tflops"] * 1e3, "gpu_peak_tflops": best["tflops"],
                "gpu_peak_n": best["n"], "gpu_peak_library": best["library"],
                "gpu": best["device"], "gemm_peak_runs": [before, after]}
    return {"gemm_peak_gflops": max(before["all_cores"], after["all_cores"]),
            "gemm_peak_one_core_gflops": max(before["one_core"], after["one_core"]),
            "gemm_peak_runs": [before, after]}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for dist in ("numpy", "scratchnn", "tensorflow-cpu", "tensorflow", "keras", "torch",
                 "array-api-compat", "cupy-cuda12x", "cupy-cuda11x", "jax"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report",
        description="Benchmark scratchnn against TensorFlow and PyTorch and write a report.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="sweep", const="quick",
                      help="headline comparisons and one-axis sweeps (default; minutes)")
    size.add_argument("--full", action="store_const", dest="sweep", const="full",
                      help="every operation over the whole batch x width grid (much longer)")
    size.add_argument("--micro", action="store_const", dest="sweep", const="micro",
                      help="tiny random-data run of scratchnn only (a smoke test)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                        help="gpu: the gpu sweep (scratchnn on CuPy and torch CUDA, TF and "
                        "PyTorch on CUDA); needs a CUDA GPU")
    parser.add_argument("--frameworks", help="comma-separated subset, e.g. scratchnn,torch "
                        f"({config.PLAIN}: scratchnn's plain formulas, fast paths off)")
    parser.add_argument("--out", type=Path, default=HERE / "results",
                        help="output folder (default benchmarks/results)")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--verbose", action="store_true", help="show pytest's output")
    args = parser.parse_args(argv)
    if args.device == "gpu":
        from . import gpu

        problem = gpu.missing()
        if problem:
            print(problem, file=sys.stderr)
            return 1
    sweep = config.sweep("gpu" if args.device == "gpu" else args.sweep or "quick")
    only = args.frameworks.split(",") if args.frameworks else None
    if only:
        for fw in only:
            if fw != config.PLAIN:
                frameworks.impl(fw)  # raises on an unknown name
    merged = run(sweep, args.out, only, rss=not args.no_rss, verbose=args.verbose)
    info = merged["scratchnn_report"]
    print((args.out / f"{sweep.name}.md").read_text())
    print(f"[report] wrote {args.out}/{sweep.name}.json, .md and plots in {info['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
