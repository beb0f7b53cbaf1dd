"""The ``graphkit`` command line: thin subcommands over the public functions.

Every module in this package that defines ``register(subparsers)`` adds its
subcommands; a subcommand's handler takes the parsed arguments and returns an
exit code. Exit codes: 0 success, 1 error (bad data, failed step; one line
``Error: ...`` on stderr), 2 usage error, 3 a server is unreachable (retry later),
4 another graphkit job is writing the same folder or database (retry later, or
wait longer with ``--wait``).

>>> {'info', 'validate'} <= set(build_parser()._subparsers._group_actions[0].choices)
True
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from typing import Sequence

from graphkit.errors import GraphkitError, StoreError, WriterBusyError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_BUSY = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    def exit(self, status: int = 0, message: str | None = None):  # usage errors exit 2, as argparse does
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
    """Run the command line; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args) or EXIT_OK)
    except WriterBusyError as exc:
        print(f"Error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BUSY
    except StoreError as exc:
        print(f"Error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_UNAVAILABLE if getattr(exc, "unavailable", False) else EXIT_ERROR
    except GraphkitError as exc:
        print(f"Error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as the Python docs advise
        return EXIT_OK


def _one_line(exc: Exception) -> str:
    """First line of the message; the rest (row samples) is kept for --verbose runs."""
    text = str(exc).strip()
    lines = text.splitlines()
    if len(lines) > 1 and "--verbose" not in sys.argv:
        extra = [line for line in lines[1:] if line.startswith("Fix ") or line.startswith("(+")]
        return " ".join([lines[0], *extra])
    return " ".join(lines)
