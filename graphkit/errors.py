"""The graphkit exception tree.

Every error graphkit raises on purpose is a :class:`GraphkitError`, so a batch
job can catch one class. Subclasses carry the data a caller needs to react
(file, table, column, offending rows, iteration counts) as attributes, not only
as text.

>>> from graphkit.errors import GraphkitError, ValidationError
>>> issubclass(ValidationError, GraphkitError)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GraphkitError(Exception):
    """Base class of every error graphkit raises on purpose."""


class DataFileError(GraphkitError):
    """A data file cannot be read (missing, unreadable, truncated, wrong format)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Problem:
    """One kind of defect found in one column of one table."""

    table: str
    column: str
    expected: str
    found: str
    rows: tuple[int, ...]  # 1-based data-row numbers (header excluded)
    n_rows: int  # how many rows have the defect (rows holds at most a sample)
    sample: str = ""  # the offending rows, rendered
    file: str | None = None

    def message(self) -> str:
        where = f"{self.file}: " if self.file else ""
        rows = ", ".join(str(r) for r in self.rows)
        more = f" (showing {len(self.rows)} of {self.n_rows})" if self.n_rows > len(self.rows) else ""
        head = (
            f"{where}table '{self.table}', column '{self.column}': expected {self.expected}, "
            f"found {self.found}"
        )
        if self.n_rows:
            head += f" in {self.n_rows} row(s): rows {rows}{more}"
        return head + (f"\n{self.sample}" if self.sample else "")


#: How Python callers skip bad rows; the command line says its flag instead (``--lenient``).
LENIENT_HINT = "load with lenient=True"


class ValidationError(GraphkitError):
    """Input tables do not match their declared schema.

    ``problems`` lists every defect found (table, column, expected, found and
    the offending row numbers). The message shows the first one in full.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        text = first.message()
        if len(problems) > 1:
            others = "; ".join(f"{p.table}.{p.column}: {p.found}" for p in problems[1:4])
            text += f"\n(+{len(problems) - 1} more problem(s): {others})"
        if first.n_rows:  # a defect of rows; a defect of the whole table (a column name) is not lenient's to skip
            text += f"\nFix the rows, or {LENIENT_HINT} to move bad rows to a rejects file."
        super().__init__(text)

    @property
    def file(self) -> str | None:
        return self.problems[0].file

    @property
    def table(self) -> str:
        return self.problems[0].table

    @property
    def column(self) -> str:
        return self.problems[0].column

    @property
    def rows(self) -> tuple[int, ...]:
        return self.problems[0].rows


class ConvergenceError(GraphkitError):
    """An iterative solver stopped before reaching its tolerance."""

    def __init__(self, message: str, *, iterations: int, residual: float) -> None:
        self.iterations = iterations
        self.residual = residual
        super().__init__(f"{message} (after {iterations} iterations, residual {residual:.3g})")


class StoreError(GraphkitError):
    """A storage back end (files or a database server) failed or is unreachable."""


class FolderNotOwnedError(GraphkitError):
    """A writer was asked to replace, empty or prune something graphkit did not make.

    graphkit marks every folder it writes with a ``.graphkit`` file; a
    non-empty folder without it (or with the marker of another kind of
    folder) is refused unless the caller forces it (``force=True``, ``--force``).
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class WriterBusyError(GraphkitError):
    """Another writer holds the lock of the target (a folder or a Neo4j database).

    ``target`` names what is locked, ``holder`` who holds it (as recorded by
    the holder: host, process id, since when), ``waited`` how long this
    writer waited, in seconds. Retry later, or wait longer.
    """

    def __init__(self, target: str, holder: str, waited: float, hint: str = "") -> None:
        self.target = target
        self.holder = holder
        self.waited = waited
        super().__init__(f"{target} is being written by another graphkit job ({holder}); gave up after waiting "
                         f"{waited:g} s{hint}")


class MissingDependencyError(GraphkitError):
    """An optional dependency is not installed; the message gives the install command."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = "") -> None:
        cmd = f"pip install 'graphkit[{extra}]'" if extra else f"pip install {package}"
        self.package = package
        super().__init__(f"{package} is needed{' for ' + purpose if purpose else ''}: run {cmd}")


def describe(value: Any) -> str:
    """Short, quoted rendering of a found value for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
