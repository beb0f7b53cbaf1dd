"""The ``graphkit`` command line: thin subcommands over the public functions.

Every module in this package that defines ``register(subparsers)`` adds its
subcommands; a subcommand's handler takes the parsed arguments and returns an
exit code. Exit codes: 0 success; 1 error (bad data, a failed step, a file
that cannot be read or written); 2 usage error (bad arguments); 3 a server is
unreachable (retry later); 4 another graphkit job is writing the same folder
or database (retry later, or wait longer with ``--wait``); 70 an internal error
(a bug: please report it);
130 interrupted. Every error is one line ``Error: ...`` on stderr, never a
traceback (set ``GRAPHKIT_TRACEBACK=1`` to see one); with ``--json`` the
error is also printed on stdout as one JSON object (see
:mod:`graphkit.cli.output`).

>>> {'info', 'validate'} <= set(build_parser()._subparsers._group_actions[0].choices)
True
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from typing import NoReturn, Sequence

from graphkit.cli.output import (
    EXIT_BUSY,
    EXIT_ERROR,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    report_error,
)
from graphkit.errors import GraphkitError, StoreError, WriterBusyError

__all__ = ["EXIT_BUSY", "EXIT_ERROR", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE",
           "build_parser", "main"]


class UsageError(Exception):
    """Bad command-line arguments (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage, then one Error: line; exit 2 as argparse does
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every subcommand module registered."""
    from graphkit.version import __version__

    parser = _Parser(prog="graphkit", description="Topic influence and loyal customers, from the command line.")
    parser.add_argument("--version", action="version", version=f"graphkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code. No exception escapes (see the exit codes above)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    json_mode = "--json" in argv  # known before parsing, so that usage errors are JSON too
    verbose = "--verbose" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        json_mode = bool(getattr(args, "json", json_mode))
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.handler(args) or EXIT_OK)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_ERROR)
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as the Python docs advise
        return EXIT_OK
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one line and an exit code
        if os.environ.get("GRAPHKIT_TRACEBACK"):
            raise
        code, message = _classify(exc)
        try:
            return report_error(exc, code, json_mode=json_mode, message=message, verbose=verbose)
        except BrokenPipeError:
            return code


def _classify(exc: BaseException) -> tuple[int, str | None]:
    """The exit code of an exception, and its message when it is not the exception's own text."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE, None
    if isinstance(exc, WriterBusyError):
        return EXIT_BUSY, None
    if isinstance(exc, StoreError):
        return (EXIT_UNAVAILABLE if getattr(exc, "unavailable", False) else EXIT_ERROR), None
    if isinstance(exc, GraphkitError):
        return EXIT_ERROR, None
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(exc, OSError):  # a path that cannot be read or written: the user can fix it
        what = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        reason = exc.strerror or str(exc) or type(exc).__name__
        if isinstance(exc, (FileExistsError, NotADirectoryError)):  # mkdir through a file
            reason = f"{reason}: a file is in the way where a folder is needed; choose another path"
        return EXIT_ERROR, f"{what}: {reason}" if what else reason
    if isinstance(exc, MemoryError):
        return EXIT_ERROR, "out of memory: use a machine with more memory, or score fewer topics (--topics)"
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return EXIT_INTERNAL, (f"internal error ({type(exc).__name__}: {first}); this is a bug in graphkit: please "
                           "report it with the command line (GRAPHKIT_TRACEBACK=1 shows where it happened)")
