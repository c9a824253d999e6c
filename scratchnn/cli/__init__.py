"""The ``scratchnn`` command line.  Each subcommand lives in its own module of this package
and exposes ``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.

Exit status: what the subcommand returns (0 on success); 1 when it fails with an error the
user can cause -- a bad option value, file, or data -- printed as ``scratchnn CMD: error: ...``,
never as a traceback (``parity`` keeps 2 for "TensorFlow is not installed"); 130 when
interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from scratchnn.engine.saving import ModelFileError
from scratchnn.workflow.digits import DigitImageError

#: Modules of this package that provide subcommands, in help order.
COMMAND_MODULES = ["train", "evaluate", "explore", "lrfind", "tune", "report", "predict", "parity"]

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130

#: Errors a user can cause (a missing or corrupt file, a folder without write access, data
#: that does not fit the model, a diverging run, too little memory): printed, exit status 1.
#: ``ModelFileError`` and ``DigitImageError`` subclass ValueError today; they are listed so
#: that stays true if their base class changes.
USER_ERRORS = (ModelFileError, DigitImageError, ValueError, TypeError, OSError, RuntimeError,
               FloatingPointError, MemoryError)


#: Exit status of every error the user can cause, the command line's included.
USER_ERROR = 1


class _Parser(argparse.ArgumentParser):
    """argparse's parser, exiting with :data:`USER_ERROR` (not 2) on a bad command line, so
    that a bad option value and a bad file are the same kind of error."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(USER_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scratchnn",
        description="Dense neural networks with hand-written NumPy backprop (Keras-shaped API).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def _message(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, MemoryError):
        return f"out of memory{': ' + text if text else ''}"
    return text or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``scratchnn`` script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad command line (1), printed by argparse
        return 0 if exc.code is None else int(exc.code)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\nscratchnn {args.command}: interrupted (Ctrl-C); stopped before finishing, "
              "so its remaining output was not written", file=sys.stderr)
        return INTERRUPTED
    except USER_ERRORS as exc:
        print(f"scratchnn {args.command}: error: {_message(exc)}", file=sys.stderr)
        return USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
