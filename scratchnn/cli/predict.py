"""``scratchnn predict MODEL IMAGE...``: classify your own digit images.

Each PNG/JPEG (any size, dark-on-light or light-on-dark, colour or gray) is turned into an
MNIST-style 28x28 image by :mod:`scratchnn.workflow.digits` (grayscale, invert if needed,
crop to the ink, fit into 20x20 keeping the aspect ratio, centre by centre of mass), then
preprocessed with the model's saved recipe and classified.  One line per image::

    seven.png: 7  (p = 0.9731; next 1: 0.0123, 2: 0.0071)

Like the other subcommands it writes its figures into ``--out`` (default
``figures/predict``): ``<image name>.prediction.png``, the processed 28x28 input beside the
probabilities; ``--show`` also opens them in a window.  An unreadable image (missing, not an
image, blank, too large to decode) prints an error naming the file and the others still run;
the exit status is 1 if any image failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scratchnn.cli.common import HelpFormatter, positive_int, prepare_output_dir
from scratchnn.engine.saving import load_model
from scratchnn.workflow import plots
from scratchnn.workflow.digits import predict_digits
from scratchnn.workflow.tutorial import check_mnist_input, top_classes


def register(sub) -> None:
    p = sub.add_parser("predict", help="classify your own digit images (PNG/JPEG)",
                       formatter_class=HelpFormatter)
    p.add_argument("model", help="model file written by `scratchnn train --save`")
    p.add_argument("images", nargs="+", help="image files, one digit each")
    p.add_argument("--invert", default="auto", choices=["auto", "yes", "no"],
                   help="invert so the ink is bright: auto decides from the image border")
    p.add_argument("--no-thicken", action="store_true",
                   help="do not thicken thin pen strokes")
    p.add_argument("--top", type=positive_int, default=3, help="classes listed per image")
    p.add_argument("--out", default="figures/predict",
                   help="folder for the pictures of each processed input beside its "
                        "probabilities (created if missing)")
    p.add_argument("--show", action="store_true", help="also open the figures in a window")
    p.set_defaults(func=run)


def run(args) -> int:
    out_dir = prepare_output_dir(args.out)
    model = load_model(args.model, compile=False)
    check_mnist_input(model, args.model)
    invert = {"auto": "auto", "yes": True, "no": False}[args.invert]
    results = predict_digits(model, args.images, invert, thicken=not args.no_thicken)
    failed = 0
    used: set[str] = set()
    for r in results:
        if not r.ok:
            failed += 1
            print(f"scratchnn predict: error: {r.error}", file=sys.stderr)
            continue
        p = r.probabilities
        ranked = top_classes(p, args.top)
        others = ", ".join(f"{k}: {p[k]:.4f}" for k in ranked[1:])
        print(f"{r.source}: {r.digit}  (p = {r.probability:.4f}"
              + (f"; next {others})" if others else ")"), flush=True)
        name = Path(r.source).name
        while name in used:  # same file name from different folders
            name = "_" + name
        used.add(name)
        out = plots.plot_probabilities(p, out_dir / f"{name}.prediction.png", image=r.image,
                                       title=f"{Path(r.source).name}: {r.digit} "
                                             f"(p = {r.probability:.3f})", show=args.show)
        print(f"  picture: {out}")
    if failed:
        print(f"scratchnn predict: {failed} of {len(results)} image(s) could not be read",
              file=sys.stderr)
    return 1 if failed else 0
