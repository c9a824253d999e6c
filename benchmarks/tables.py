"""The markdown report: times, ratios, GFLOP/s, fraction of peak, memory and the targets.

Every time is the *minimum* over a benchmark's rounds (pytest-benchmark's ``min``): on a shared
machine interference only ever adds time, so the minimum is the least disturbed estimate.
Ratios are scratchnn's time divided by the other framework's: below 1 means scratchnn is
faster.  When scratchnn was also timed with its fast kernels off (``scratchnn-plain``), the
tables add that column and the ratio "plain / fast" (above 1: the fast kernels save time).
When scratchnn also ran on the torch backend on the CPU (``scratchnn-torch``), the tables add
its time and the ratio "torch / NumPy": the cost of running the portable array-API code on
torch tensors instead of NumPy's fast paths.
"""

from __future__ import annotations

from collections import defaultdict

from . import config

#: (batch, comparison, limit): scratchnn / other <= limit, from the issue.
RATIO_TARGETS = [(32, "tf", 0.5), (32, "torch", 1.0), (128, "tf", 0.5), (128, "torch", 1.0),
                 (1024, "tf", 0.5), (1024, "torch", 1.0)]
PEAK_TARGET = 0.75  # fraction of the GEMM peak at batch >= 1024
OP_ORDER = {op: i for i, op in enumerate((*config.OPS, "epoch"))}
#: scratchnn on the torch CPU backend (the cost-of-portability column).
PORTABLE = "scratchnn-torch"


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None else f"{a / b:.2f}"


def first_rounds(merged: dict) -> dict[tuple, dict[str, float]]:
    """{(op, batch, widths): {framework: seconds of the first round}} (warm-up effects)."""
    table: dict[tuple, dict[str, float]] = defaultdict(dict)
    for b in merged["benchmarks"]:
        e, data = b["extra_info"], b["stats"].get("data")
        if data:
            table[(e["op"], e["batch"], tuple(e["widths"]))][e["framework"]] = data[0]
    return table


def index(merged: dict) -> dict[tuple, dict[str, float]]:
    """{(op, batch, widths): {framework: min seconds}}."""
    table: dict[tuple, dict[str, float]] = defaultdict(dict)
    for b in merged["benchmarks"]:
        e = b["extra_info"]
        table[(e["op"], e["batch"], tuple(e["widths"]))][e["framework"]] = b["stats"]["min"]
    return table


def flops_of(merged: dict) -> dict[tuple, int]:
    return {(b["extra_info"]["op"], b["extra_info"]["batch"], tuple(b["extra_info"]["widths"])):
            b["extra_info"]["flops"] for b in merged["benchmarks"]}


def torch_over_numpy(times: dict[str, float]) -> str:
    """scratchnn's time on the torch CPU backend over its time on NumPy ('—' if either is
    missing)."""
    return _ratio(times.get(PORTABLE), times.get("scratchnn"))


def plain_over_fast(times: dict[str, float]) -> str:
    """scratchnn's time with plain formulas over its time with fast kernels ('—' if either
    is missing)."""
    return _ratio(times.get(config.PLAIN), times.get("scratchnn"))


def targets(merged: dict) -> list[tuple[str, str, bool | None]]:
    """[(target, measured, met)] for the issue's performance targets (met None: not measured)."""
    info = merged["scratchnn_report"]
    t, fl = index(merged), flops_of(merged)
    w = (config.TUTORIAL_WIDTH,)
    rows = []
    names = {"tf": "Keras fit", "torch": "PyTorch eager"}
    for batch, other, limit in RATIO_TARGETS:
        times = t.get(("epoch", batch, w), {})
        s, o = times.get("scratchnn"), times.get(other)
        label = f"epoch, batch {batch}: scratchnn / {names[other]} <= {limit}"
        context = ", ".join(f"{_label(f)} {_ratio(times[f], o)}" for f in
                            ("torch", "tf-function") if f != other and f in times)
        measured = _ratio(s, o) + (f" (the same ratio for {context})" if context and o else "")
        rows.append((label, measured, None if s is None or o is None else s / o <= limit))
    peak = info["gemm_peak_gflops"]
    for key in [("epoch", 1024, w), ("train_step", 1024, w), ("train_step", 8192, w)]:
        times = t.get(key, {})
        s = times.get("scratchnn")
        label = f"{key[0]}, batch {key[1]}: scratchnn >= {PEAK_TARGET:.0%} of GEMM peak"
        if s is None:
            rows.append((label, "—", None))
            continue
        frac = fl[key] / s / 1e9 / peak
        others = ", ".join(f"{_label(f)} {fl[key] / times[f] / 1e9 / peak:.0%}"
                           for f in ("torch", "tf", "tf-function") if f in times)
        rows.append((label, f"{frac:.0%}" + (f" ({others})" if others else ""),
                     frac >= PEAK_TARGET))
    rss = {(r.get("framework"), r.get("batch")): r for r in info.get("rss", [])}
    for batch in sorted({r.get("batch") for r in info.get("rss", []) if r.get("batch")}):
        s, k = rss.get(("scratchnn", batch), {}), rss.get(("tf", batch), {})
        label = f"peak RSS of an epoch, batch {batch}: scratchnn <= Keras fit"
        if "peak_mb" in s and "peak_mb" in k:
            rows.append((label, f"{s['peak_mb']:.0f} MB vs {k['peak_mb']:.0f} MB",
                         s["peak_mb"] <= k["peak_mb"]))
    return rows


def markdown(merged: dict) -> str:
    info = merged["scratchnn_report"]
    peak = info["gemm_peak_gflops"]
    data = {b["extra_info"]["data"] for b in merged["benchmarks"]}
    lines = [f"# scratchnn benchmarks — `{info['sweep']}` sweep", ""]
    lines += [f"- Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}; "
              + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
              f"- Data: {', '.join(sorted(data))} (float32); network 784 → hidden (ReLU) → 10 "
              "(softmax), Adam, sparse categorical cross-entropy, accuracy metric",
              f"- float32 GEMM peak (NumPy's BLAS, {info['gemm_peak_runs'][0]['n']}³): "
              f"**{peak:.0f} GFLOP/s** on all cores, {info['gemm_peak_one_core_gflops']:.0f} "
              "on one",
              f"- Times are the minimum over rounds; ratios are scratchnn / other (< 1: "
              f"scratchnn faster). Run took {info['wall_s']:.0f} s: `{info['command']}`"]
    share = info.get("other_processes_share", 0)
    if share > 0.03:
        lines.append(f"- **Warning: other processes used {share:.0%} of the machine's CPU "
                     "time during this run; the timings are disturbed. Rerun on a quiet "
                     "machine.**")
    lines.append("")
    for part in (_targets_table, _epoch_table, _ops_table, _rss_table):
        lines += part(merged)
    return "\n".join(lines)


def _targets_table(merged: dict) -> list[str]:
    """The targets that were measured, met or not."""
    lines: list[str] = []
    rows = [r for r in targets(merged) if r[2] is not None]
    if rows:
        lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
        for label, measured, met in rows:
            mark = "—" if met is None else ("yes" if met else "**no**")
            lines.append(f"| {label} | {measured} | {mark} |")
        lines.append("")
    return lines


def _epoch_table(merged: dict) -> list[str]:
    """Seconds per epoch per framework, ratios, GFLOP/s."""
    info, t, fl = merged["scratchnn_report"], index(merged), flops_of(merged)
    peak = info["gemm_peak_gflops"]
    lines: list[str] = []
    epoch_keys = sorted(k for k in t if k[0] == "epoch")
    if epoch_keys:
        cols = [f for f in ("scratchnn", config.PLAIN, PORTABLE, "tf", "tf-function", "torch",
                            "keras-jax", "tf-gpu", "tf-function-gpu", "torch-gpu")
                if any(f in t[k] for k in epoch_keys)]
        plain, port = config.PLAIN in cols, PORTABLE in cols
        lines += ["## One epoch of training (60,000 samples)" if info["sweep"] != "micro"
                  else "## One epoch of training", "",
                  "| batch | hidden | " + " | ".join(_label(f) for f in cols)
                  + " | s / Keras fit | s / tf.function | s / PyTorch | scratchnn GFLOP/s "
                  "| % of peak |" + (" plain / fast |" if plain else "")
                  + (" torch / NumPy |" if port else ""),
                  "|" + "---|" * (len(cols) + 7 + plain + port)]
        for k in epoch_keys:
            times = t[k]
            s = times.get("scratchnn")
            gf = fl[k] / s / 1e9 if s else None
            lines.append(
                f"| {k[1]} | {'x'.join(map(str, k[2]))} | "
                + " | ".join(fmt_time(times[f]) if f in times else "—" for f in cols)
                + f" | {_ratio(s, times.get('tf'))} | {_ratio(s, times.get('tf-function'))} "
                f"| {_ratio(s, times.get('torch'))} | "
                + (f"{gf:.0f} | {gf / peak:.0%} |" if gf else "— | — |")
                + (f" {plain_over_fast(times)} |" if plain else "")
                + (f" {torch_over_numpy(times)} |" if port else ""))
        lines.append("")
        firsts = first_rounds(merged)
        slow_first = [(k[1], firsts[k]["tf"], t[k]["tf"]) for k in epoch_keys
                      if "tf" in firsts.get(k, {}) and firsts[k]["tf"] > 1.2 * t[k]["tf"]]
        if slow_first:
            lines += ["Keras `fit` is timed after a warm-up `fit` on a few batches (which traces "
                      "the train function). Even so its first full-data call was much slower "
                      "than the later ones; the table uses the fastest call (steady state): "
                      + "; ".join(f"batch {b}: first call {fmt_time(f)}, fastest {fmt_time(m)}"
                                  for b, f, m in slow_first) + ".", ""]
    return lines


def _ops_table(merged: dict) -> list[str]:
    """Each operation and size: times, ratios, GFLOP/s."""
    info, t, fl = merged["scratchnn_report"], index(merged), flops_of(merged)
    peak, fws = info["gemm_peak_gflops"], info["frameworks"]
    lines: list[str] = []
    op_keys = sorted((k for k in t if k[0] != "epoch"),
                     key=lambda k: (OP_ORDER.get(k[0], 99), k[1], len(k[2]), k[2]))
    if op_keys:
        cols = [f for f in fws if not f.startswith("scratchnn")]
        plain = any(config.PLAIN in t[k] for k in op_keys)
        port = any(PORTABLE in t[k] for k in op_keys)
        lines += ["## Operations", "",
                  "`predict` is over the 10,000 test images at the given batch size; the "
                  "others are one call on one batch. `dense_*` is the first hidden layer "
                  "(784 → width, ReLU; backward includes dx); `adam` updates all parameters "
                  "of the network.", "",
                  "| op | batch | hidden | scratchnn | "
                  + "".join(f"{_label(f)} | " for f in cols)
                  + "".join(f"s / {_label(f)} | " for f in cols)
                  + "scratchnn GFLOP/s | % of peak |"
                  + (f" {_label(config.PLAIN)} | plain / fast |" if plain else "")
                  + (f" {_label(PORTABLE)} | torch / NumPy |" if port else ""),
                  "|" + "---|" * (4 + 2 * len(cols) + 2 + 2 * plain + 2 * port)]
        for k in op_keys:
            times = t[k]
            s = times.get("scratchnn")
            gf = fl[k] / s / 1e9 if s else None
            lines.append(
                f"| {k[0]} | {k[1]} | {'x'.join(map(str, k[2]))} | "
                + (fmt_time(s) if s else "—") + " | "
                + "".join((fmt_time(times[f]) if f in times else "—") + " | " for f in cols)
                + "".join(_ratio(s, times.get(f)) + " | " for f in cols)
                + (f"{gf:.1f} | {gf / peak:.1%} |" if gf else "— | — |")
                + (f" {_time_or_dash(times.get(config.PLAIN))} | {plain_over_fast(times)} |"
                   if plain else "")
                + (f" {_time_or_dash(times.get(PORTABLE))} | {torch_over_numpy(times)} |"
                   if port else ""))
        lines.append("")
    return lines


def _rss_table(merged: dict) -> list[str]:
    """Peak memory of a one-epoch fit per framework."""
    info = merged["scratchnn_report"]
    lines: list[str] = []
    rss = info.get("rss") or []
    if rss:
        lines += ["## Peak memory of a one-epoch fit (fresh process each)", "",
                  "Peak RSS = interpreter + framework + data + the fit; 'before fit' is after "
                  "imports, data and model.", "",
                  "| framework | batch | before fit | peak RSS | added by the fit |",
                  "|---|---|---|---|---|"]
        for r in rss:
            if "peak_mb" in r:
                lines.append(f"| {_label(r['framework'])} | {r['batch']} | "
                             f"{r['before_fit_mb']:.0f} MB | {r['peak_mb']:.0f} MB | "
                             f"{r['fit_mb']:.0f} MB |")
            else:
                lines.append(f"| {_label(r.get('framework', '?'))} | {r.get('batch')} | "
                             f"{r.get('skipped') or 'failed'} | | |")
        lines.append("")
    return lines


def _time_or_dash(seconds: float | None) -> str:
    return "—" if seconds is None else fmt_time(seconds)


def _label(framework: str) -> str:
    return {"scratchnn": "scratchnn", config.PLAIN: "scratchnn plain",
            PORTABLE: "scratchnn torch CPU", "tf": "TF",
            "tf-function": "tf.function loop",
            "torch": "PyTorch", "tf-gpu": "TF GPU", "tf-function-gpu": "tf.function GPU",
            "torch-gpu": "PyTorch GPU", "keras-jax": "Keras on JAX"}.get(framework, framework)
