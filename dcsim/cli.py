"""The `dcsim` command line: one sub-command per module in `dcsim.commands`.

Part of the application layer (DESIGN §6). Every sub-command module exposes
`register(subparsers)`, which adds its parser and sets `func(args) -> int`.

Errors: bad input anywhere below raises ValueError / KeyError / OSError with a one-line
message naming the field, the value and what is allowed; here it becomes
`dcsim: error: <message>` on stderr and exit status 2, never a traceback (set DCSIM_DEBUG=1 to
see one); so does a MemoryError (an input too large for this machine). A closed stdout
(`dcsim validate | head -1`) ends the command quietly with status 0.
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
    "area-table",
    "validate",
    "sensitivity",
    "sweep",
    "report",
)

EXIT_BAD_INPUT = 2


class UsageError(ValueError):
    """A user-facing error raised by a command (bad flag combination, missing file, ...)."""


class _OneLineParser(argparse.ArgumentParser):
    """argparse with its errors (unknown flag, bad choice, not a number) on one line, like
    every other dcsim error, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(
            EXIT_BAD_INPUT,
            f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
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


def _quiet_closed_stdout() -> None:
    """The reader of our stdout went away (`dcsim validate | head -1`): point stdout at
    /dev/null so that the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line for the user (not Python's file:line and source line)."""
    print(f"dcsim: warning: {_one_line(message)}", file=sys.stderr)


#: numpy advises the kernel to back every array of 4 MB or more with transparent huge pages;
#: where the kernel then compacts memory on each fault (THP defrag "madvise", as on the 2-core
#: VM of benchmarks/README.md) a fresh 200 MB array costs 0.43 s of page faults instead of
#: 0.08 s, and the report's validation rows 6.7 s instead of 5.2 s. dcsim's processes (the
#: command and the workers it starts, which inherit the environment) turn the advice off
#: unless the user has set this variable; numpy reads it when it is first imported.
HUGEPAGE_VARIABLE = "NUMPY_MADVISE_HUGEPAGE"


def main(argv: list[str] | None = None) -> int:
    import warnings

    user_choice = os.environ.get(HUGEPAGE_VARIABLE)
    if user_choice is None:
        os.environ[HUGEPAGE_VARIABLE] = "0"
    try:
        with warnings.catch_warnings():  # restored on return (main may run inside a program)
            warnings.showwarning = _show_warning
            return _main(argv)
    finally:
        if user_choice is None:  # main may run inside a program: leave its environment as it was
            os.environ.pop(HUGEPAGE_VARIABLE, None)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:
        _quiet_closed_stdout()
        return 0
    except MemoryError as error:
        if os.environ.get("DCSIM_DEBUG"):
            raise
        detail = f" ({_one_line(error)})" if str(error) else ""
        print(
            f"dcsim: error: out of memory in `dcsim {args.command}`{detail}; allowed: inputs "
            "whose arrays fit in this machine's memory (smaller layers, fewer PEs or points)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
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
