"""Peak memory (RSS) of one full-epoch fit, measured in a fresh process per framework.

``python -m benchmarks.rss FRAMEWORK BATCH [--sweep quick]`` loads the data, builds the
784-512-10 network, trains one epoch and prints one JSON line::

    {"framework": ..., "batch": ..., "before_fit_mb": ..., "peak_mb": ..., "fit_mb": ...}

``peak_mb`` is the process's peak resident set size during the fit (``VmHWM``, reset just
before the fit; not ``ru_maxrss``, which a child inherits from its parent): interpreter, framework,
data and the fit together -- what the machine must have.  ``before_fit_mb`` is the resident
size just before the fit starts (after imports, data and model), and ``fit_mb`` the difference:
what the fit itself added at its peak.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import config, frameworks
from . import data as data_module


def _status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"{field} not found in /proc/self/status")


def _reset_peak() -> None:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # not permitted: the peak then includes the data loading
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=sorted(frameworks.REGISTRY) + ["tf-function"])
    parser.add_argument("batch", type=int)
    parser.add_argument("--sweep", default="quick")
    args = parser.parse_args(argv)
    sweep = config.sweep(args.sweep)
    base = args.framework.replace("tf-function", "tf")
    op = "epoch_function" if args.framework.startswith("tf-function") else "epoch"
    if not frameworks.available(base):
        print(json.dumps({"framework": args.framework, "skipped": "not available"}))
        return 0
    data = data_module.load(sweep.n_train, sweep.n_test, real=sweep.real_data)
    widths = (config.TUTORIAL_WIDTH,) if sweep.name != "micro" else sweep.cases[0].widths
    if op == "epoch" and base.startswith("tf"):
        # model.fit without the benchmark's warm-up: a user's first epoch, tracing included
        module, _ = frameworks.impl(base)
        model = module.build(widths)
        fn = lambda: model.fit(data.x_train, data.y_train, batch_size=args.batch,  # noqa: E731
                               epochs=1, verbose=0)
    else:
        fn = frameworks.make(base, op, args.batch, widths, data)
    _reset_peak()  # measure the fit's peak, not the data loading's
    before = _status_mb("VmRSS")
    fn()
    peak = _status_mb("VmHWM")
    print(json.dumps({"framework": args.framework, "batch": args.batch, "data": data.source,
                      "before_fit_mb": round(before, 1), "peak_mb": round(peak, 1),
                      "fit_mb": round(peak - before, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
