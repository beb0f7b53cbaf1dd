"""Reading the raw files of public datasets: one place that turns read failures into DataFileError.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "x.csv").write_text("a,b\\n1,2\\n")
>>> read_source(require(folder, "x.csv")[0], has_header=True).rows()
[(1, 2)]
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.errors import DataFileError


def require(folder: str | Path, *names: str) -> list[Path]:
    """Paths of the named files in ``folder``; a missing one raises, naming it and the folder expected."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFileError(str(folder), "is not a folder; point to the dataset's folder in shared/datasets")
    paths = [folder / name for name in names]
    for p in paths:
        if not p.is_file():
            raise DataFileError(str(p), f"missing; the {folder.name} folder of shared/datasets holds it")
    return paths


def read_source(path: Path, **options) -> pl.DataFrame:
    """``pl.read_csv(path, **options)``; a malformed file raises DataFileError naming it."""
    try:
        return pl.read_csv(path, **options)
    except Exception as exc:  # polars raises several types for malformed input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(str(path), f"cannot be read as expected ({first})") from None


def epoch_seconds(column: str) -> pl.Expr:
    """Unix seconds -> UTC microsecond timestamp (the declared timestamp type)."""
    return pl.from_epoch(column, time_unit="s").dt.cast_time_unit("us").dt.replace_time_zone("UTC")


def people_of(ids: pl.Series, acts: pl.DataFrame, *, customers: bool, joined: bool) -> pl.DataFrame:
    """One person per distinct numeric id, sorted, with their first / last act.

    ``acts`` has columns ``id`` (who acted) and ``ts``; ``last_active`` is
    their last act and, when ``joined`` is true, ``joined`` their first (else
    null: a first act inside an observation window is not a sign-up date).
    With ``customers`` every person is a customer under the same id.
    """
    span = acts.group_by("id").agg(first=pl.col("ts").min(), last=pl.col("ts").max())
    return (
        pl.DataFrame({"id": ids.unique().sort()})
        .join(span, on="id", how="left")
        .select(
            person_id=pl.col("id").cast(pl.String),
            customer_id=pl.col("id").cast(pl.String) if customers else pl.lit(None, pl.String),
            joined=pl.col("first") if joined else pl.lit(None, span.schema["first"]),
            last_active="last",
        )
    )
