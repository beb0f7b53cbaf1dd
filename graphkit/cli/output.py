"""What every subcommand prints: strict JSON, and errors as one line or one JSON object.

Commands with ``--json`` print one JSON object on stdout built with
:func:`dumps` (or :func:`print_json`), which never writes ``NaN`` or
``Infinity`` (not JSON): a non-finite number becomes ``null``. Errors go
through :func:`error_line` (one ``Error: ...`` line on stderr) and, in
``--json`` mode, also :func:`error_object` on stdout, so a caller parsing
stdout always gets JSON.

>>> dumps({"total": float("inf"), "mean": float("nan"), "n": 3})
'{"total": null, "mean": null, "n": 3}'
>>> from graphkit.errors import GraphkitError
>>> error_object(GraphkitError("no such topic 'frogs'"), 1)
{'error': "no such topic 'frogs'", 'type': 'GraphkitError', 'exit_code': 1}
"""

from __future__ import annotations

import json
import math
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any, TextIO

import polars as pl

from graphkit.errors import LENIENT_HINT

#: Exit codes of the ``graphkit`` command (documented in the README).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
#: Another graphkit job holds the lock of the folder or database being written: retry later, or --wait longer.
EXIT_BUSY = 4
#: A bug in graphkit (an exception it did not expect): one line, and please report it.
EXIT_INTERNAL = 70
#: Interrupted with Ctrl-C (128 + SIGINT, as shells do).
EXIT_INTERRUPTED = 130


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None, times as ISO text, frames as lists of rows.

    >>> json_safe({"when": date(2024, 1, 2), "x": [1.5, float("-inf")]})
    {'when': '2024-01-02', 'x': [1.5, None]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if isinstance(value, pl.DataFrame):
        return json_safe(value.to_dicts())
    if isinstance(value, pl.Series):
        return json_safe(value.to_list())
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_safe(value.item())
    return str(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON text of ``value`` (see :func:`json_safe`); keyword arguments go to :func:`json.dumps`."""
    return json.dumps(json_safe(value), allow_nan=False, **kwargs)


def print_json(value: Any, *, file: TextIO | None = None, **kwargs: Any) -> None:
    """Print ``value`` as one line of strict JSON on stdout (or ``file``)."""
    print(dumps(value, **kwargs), file=file or sys.stdout, flush=True)


def error_object(exc: BaseException, exit_code: int, message: str | None = None) -> dict[str, Any]:
    """The JSON form of an error: message, exception type, exit code, and the data the error carries.

    A :class:`~graphkit.errors.ValidationError` adds ``file``, ``table``,
    ``column`` and ``rows``; a :class:`~graphkit.errors.DataFileError` its ``file``.
    """
    out: dict[str, Any] = {"error": message if message is not None else one_line(exc),
                           "type": type(exc).__name__, "exit_code": exit_code}
    for attr, key in (("path", "file"), ("file", "file"), ("table", "table"), ("column", "column"), ("rows", "rows")):
        value = getattr(exc, attr, None)
        if value is not None and key not in out and isinstance(value, (str, int, tuple, list)):
            out[key] = list(value) if isinstance(value, tuple) else value
    return out


def one_line(exc: BaseException, *, verbose: bool = False) -> str:
    """An exception's message on one line: the first line, plus the 'Fix ...' and '(+N more ...)' lines.

    The rest (row samples of a validation error) is kept for ``verbose``.

    >>> one_line(ValueError("bad rows\\n  row 3\\nFix the rows."))
    'bad rows Fix the rows.'
    """
    text = str(exc).strip() or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not verbose:
        lines = [lines[0], *(line for line in lines[1:] if line.startswith(("Fix ", "(+")))]
    return " ".join(lines)


def error_line(message: str, *, file: TextIO | None = None) -> None:
    """Print ``Error: message`` (one line) on stderr."""
    flat = " ".join(message.split("\n"))
    print(f"Error: {flat}", file=file or sys.stderr, flush=True)


def report_error(exc: BaseException, exit_code: int, *, json_mode: bool, message: str | None = None,
                 verbose: bool = False) -> int:
    """Print an error the way every command does; return ``exit_code``.

    One ``Error: ...`` line on stderr; with ``json_mode`` also
    :func:`error_object` on stdout.
    """
    text = message if message is not None else one_line(exc, verbose=verbose)
    text = text.replace(LENIENT_HINT, "run with --lenient")
    error_line(text)
    if json_mode:
        print_json(error_object(exc, exit_code, text))
    return exit_code
