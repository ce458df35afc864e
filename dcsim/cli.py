"""The `dcsim` command line: one sub-command per module in `dcsim.commands`.

Part of the application layer (DESIGN §6). Every sub-command module exposes
`register(subparsers)`, which adds its parser and sets `func(args) -> int`.

Errors: bad input anywhere below raises ValueError / KeyError / OSError with a one-line
message naming the field, the value and what is allowed; here it becomes
`dcsim: error: <message>` on stderr and exit status 2, never a traceback (set DCSIM_DEBUG=1 to
see one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from dcsim import __version__

# Sub-command modules under dcsim/commands, in the order `dcsim --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "layers",
    "storage",
    "compress",
    "inspect",
    "simulate",
    "energy-table",
    "validate",
    "sweep",
    "report",
)

EXIT_BAD_INPUT = 2


class UsageError(ValueError):
    """A user-facing error raised by a command (bad flag combination, missing file, ...)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dcsim",
        description="Deep Compression × EIE-style accelerator design-space explorer.",
    )
    parser.add_argument("--version", action="version", version=f"dcsim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(f"dcsim.commands.{module_name.replace('-', '_')}").register(
            subparsers
        )
    return parser


def _one_line(error: BaseException) -> str:
    message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    if isinstance(error, OSError) and error.filename and error.strerror:
        message = f"{error.filename}: {error.strerror}"
    return " ".join(message.split()) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, OSError) as error:
        if os.environ.get("DCSIM_DEBUG"):
            raise
        print(f"dcsim: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("dcsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
