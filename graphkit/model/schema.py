"""Declared table schemas and the validation that enforces them.

graphkit reads six tables (see ``TABLES``): ``people``, ``handles``, ``items``,
``communities``, ``edges`` and ``transactions``. :func:`validate_tables`
checks every table against its schema, casts it to the declared types, and
either raises a :class:`~graphkit.errors.ValidationError` naming the file,
table, column, expectation and offending rows (strict, the default), or moves
every bad row to a rejects table with its reason (lenient). No row is ever
dropped silently.

>>> import polars as pl
>>> from graphkit.model.schema import validate_tables
>>> people = pl.DataFrame({"person_id": ["a", "b"]})
>>> edges = pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]})
>>> tables, rejects = validate_tables({"people": people, "edges": edges})
>>> tables["edges"].select("weight", "sign").row(0)
(1.0, 1)
>>> rejects.height
0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

import numpy as np
import polars as pl

from graphkit.errors import Problem, ValidationError

#: Edge kinds, in the order used everywhere (e.g. for plots and counts).
EDGE_KINDS: tuple[str, ...] = (
    "follows",
    "mentions",
    "replies",
    "shares",
    "reviews",
    "member_of",
    "referred",
)
#: The table an edge's ``dst`` refers to, by kind. ``src`` is always a person.
EDGE_TARGET: dict[str, str] = {
    "follows": "people",
    "mentions": "people",
    "replies": "people",
    "shares": "people",
    "referred": "people",
    "reviews": "items",
    "member_of": "communities",
}
#: Timestamps are stored as microsecond datetimes in UTC.
TIMESTAMP = pl.Datetime("us", "UTC")
#: Row-number column used while validating (1-based data rows, header excluded).
ROW = "__row"
SAMPLE_ROWS = 5
#: Timestamps must fall in these years (inclusive): Python's datetime range from the year 1000 on, so that
#: every accepted value can be shown, added to and compared; anything else is a unit or data error.
MIN_YEAR, MAX_YEAR = 1000, 9999
_EPOCH = datetime(1970, 1, 1)
_LO_S = int((datetime(MIN_YEAR, 1, 1) - _EPOCH).total_seconds())  # seconds since 1970, inclusive
_HI_S = int((datetime(MAX_YEAR, 12, 31, 23, 59, 59) - _EPOCH).total_seconds()) + 1  # exclusive
_PER_SECOND = {"ns": 10**9, "us": 10**6, "ms": 10**3}

_TS_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


@dataclass(frozen=True)
class Column:
    """One declared column. Optional columns absent from the input get ``default``."""

    name: str
    dtype: pl.DataType
    required: bool = True
    nullable: bool = False
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class TableSchema:
    """A declared table: columns, primary key, other unique columns, minimum rows."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()  # single columns unique among non-null values
    min_rows: int = 0
    doc: str = ""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def empty(self) -> pl.DataFrame:
        """An empty frame with exactly the declared columns and types."""
        return pl.DataFrame(schema={c.name: c.dtype for c in self.columns})


TABLES: dict[str, TableSchema] = {
    "people": TableSchema(
        "people",
        (
            Column("person_id", pl.String(), doc="unique id of the person (one node per person)"),
            Column("customer_id", pl.String(), required=False, nullable=True,
                   doc="loyalty/customer id; null when the account is not a customer"),
            Column("name", pl.String(), required=False, nullable=True),
            Column("brand", pl.String(), required=False, nullable=True,
                   doc="set when the account speaks for a brand (a brand account)"),
            Column("joined", TIMESTAMP, required=False, nullable=True),
            Column("last_active", TIMESTAMP, required=False, nullable=True),
        ),
        key=("person_id",),
        unique=("customer_id",),
        min_rows=1,
        doc="one row per person, whatever the number of channels they use",
    ),
    "handles": TableSchema(
        "handles",
        (
            Column("person_id", pl.String()),
            Column("channel", pl.String()),
            Column("handle", pl.String()),
        ),
        key=("channel", "handle"),
        doc="a person's accounts on channels; one person may have several",
    ),
    "items": TableSchema(
        "items",
        (
            Column("item_id", pl.String()),
            Column("topic", pl.String()),
            Column("brand", pl.String(), required=False, nullable=True),
            Column("name", pl.String(), required=False, nullable=True),
        ),
        key=("item_id",),
        doc="products or brands, each in one topic (category)",
    ),
    "communities": TableSchema(
        "communities",
        (
            Column("community_id", pl.String()),
            Column("topic", pl.String(), required=False, nullable=True),
            Column("brand", pl.String(), required=False, nullable=True),
            Column("name", pl.String(), required=False, nullable=True),
        ),
        key=("community_id",),
        doc="explicit brand communities (groups, pages, forums)",
    ),
    "edges": TableSchema(
        "edges",
        (
            Column("src", pl.String(), doc="the person who gives attention (follows, mentions...)"),
            Column("dst", pl.String(), doc="a person, an item (reviews) or a community (member_of)"),
            Column("kind", pl.String(), doc="one of " + ", ".join(EDGE_KINDS)),
            Column("topic", pl.String(), required=False, nullable=True,
                   doc="subject of the interaction; always null for follows"),
            Column("weight", pl.Float64(), required=False, default=1.0, doc="finite, >= 0"),
            Column("sign", pl.Int8(), required=False, default=1, doc="sentiment, +1 or -1"),
            Column("ts", TIMESTAMP, required=False, nullable=True),
            Column("channel", pl.String(), required=False, nullable=True),
        ),
        min_rows=1,
        doc="typed, topic-labelled, signed, timestamped multigraph edges",
    ),
    "transactions": TableSchema(
        "transactions",
        (
            Column("customer_id", pl.String()),
            Column("item_id", pl.String()),
            Column("amount", pl.Float64(), required=False, nullable=True,
                   doc="finite, >= 0; null when the price is unknown"),
            Column("ts", TIMESTAMP),
            Column("order_id", pl.String(), required=False, nullable=True,
                   doc="groups lines of one order; null: each line is its own order"),
        ),
        doc="purchases by customers",
    ),
}

#: Order in which tables are validated: referenced tables first.
TABLE_ORDER: tuple[str, ...] = ("people", "handles", "items", "communities", "edges", "transactions")

REJECTS_SCHEMA = {
    "table": pl.String(),
    "file": pl.String(),
    "row": pl.Int64(),
    "column": pl.String(),
    "reason": pl.String(),
    "record": pl.String(),
}


@dataclass
class _Checker:
    """Collects problems for one table, keyed by row, while casting it."""

    schema: TableSchema
    file: str | None
    raw: pl.DataFrame  # input with ROW, all original values
    problems: list[Problem] = field(default_factory=list)
    bad: list[pl.DataFrame] = field(default_factory=list)  # ROW, column, reason

    def flag(
        self,
        mask: pl.Series,
        column: str,
        expected: str,
        found: str | Callable[[pl.DataFrame], str],
        row_found: pl.Series | None = None,
        values: pl.DataFrame | None = None,
    ) -> None:
        """Record the rows where ``mask`` is true as defective in ``column``.

        ``found`` summarises the defect for the error message; each rejected
        row's reason names its own value (``row_found``, one text per input
        row; by default the row's value in ``column``). Values are shown as
        given (``raw``), or from ``values`` (e.g. the typed table, so that a
        negative weight reads -2.0 whether it came from Parquet or CSV).
        """
        mask = mask.fill_null(False)
        n = int(mask.sum())
        if n == 0:
            return
        rows_df = self.raw.filter(mask)
        shown_values = values.filter(mask) if values is not None else rows_df
        own = (row_found.filter(mask) if row_found is not None else _row_values(shown_values, column)).alias("found")
        found_text = found(shown_values) if callable(found) else found
        shown = rows_df.head(SAMPLE_ROWS)
        keep = [ROW] + [c for c in (*self.schema.key, column) if c in shown.columns and c != ROW]
        sample = shown.select(list(dict.fromkeys(keep))).rename({ROW: "row"})
        self.problems.append(
            Problem(
                table=self.schema.name,
                column=column,
                expected=expected,
                found=found_text,
                rows=tuple(int(r) for r in shown[ROW]),
                n_rows=n,
                sample=_render(sample),
                file=self.file,
            )
        )
        self.bad.append(
            rows_df.select(ROW).with_columns(own).select(
                ROW, column=pl.lit(column), reason=pl.lit(f"expected {expected}, found ") + pl.col("found")
            )
        )

    def fatal(self, column: str, expected: str, found: str) -> None:
        """A defect of the whole table (no row can be blamed): never lenient."""
        raise ValidationError(
            [Problem(self.schema.name, column, expected, found, (), 0, "", self.file)]
        )


def _render(df: pl.DataFrame) -> str:
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, fmt_str_lengths=40):
        return str(df)


def _row_values(rows: pl.DataFrame, column: str) -> pl.Series:
    """Each row's value(s) in ``column`` (``"a,b"`` for a composite key), quoted like repr()."""
    parts = []
    for c in column.split(","):
        if c not in rows.columns:
            continue
        e, dtype = pl.col(c), rows.schema[c]
        if dtype == pl.String:
            text = pl.lit("'") + e + pl.lit("'")
        elif dtype.is_nested() or dtype == pl.Object:
            text = pl.lit(f"a {dtype} value")
        else:
            text = e.cast(pl.String)
        parts.append(pl.when(e.is_null()).then(pl.lit("null")).otherwise(text))
    if not parts:
        return pl.Series("found", ["?"] * rows.height, dtype=pl.String)
    return rows.select(pl.concat_str(parts, separator=", ").alias("found")).to_series()


def _values(col: str) -> Callable[[pl.DataFrame], str]:
    def found(rows: pl.DataFrame) -> str:  # the first values, written as in the rejects' reasons
        return ", ".join(_row_values(rows.head(3), col).to_list()) + (" ..." if rows.height > 3 else "")

    return found


def _parse_timestamps(s: pl.Series) -> pl.Series:
    """Cast a column to UTC microsecond datetimes; unparseable values become null."""
    dtype = s.dtype
    if isinstance(dtype, pl.Datetime):
        s = s.dt.cast_time_unit("us")
        return s.dt.convert_time_zone("UTC") if dtype.time_zone else s.dt.replace_time_zone("UTC")
    if dtype == pl.Date:
        return s.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if dtype == pl.String:
        text = s.str.strip_chars().str.replace(r"Z$", "+00:00")
        frame = pl.DataFrame({"t": text})
        attempts = []
        for fmt in _TS_FORMATS:
            e = pl.col("t").str.to_datetime(fmt, strict=False, time_unit="us")
            attempts.append(e.dt.convert_time_zone("UTC") if "%z" in fmt else e.dt.replace_time_zone("UTC"))
        return frame.select(pl.coalesce(attempts)).to_series().alias(s.name)
    return pl.Series(s.name, [None] * len(s), dtype=TIMESTAMP)


def far_timestamps(s: pl.Series) -> pl.Series | None:
    """Rows of a date or datetime column outside years ``MIN_YEAR``..``MAX_YEAR`` (None for other types).

    Computed on the stored integers, so that values no calendar can show
    (a year of 287,000, beyond the microsecond range) are found without
    being converted. Text is parsed first, then checked.

    >>> s = pl.Series([0, 9 * 10**18], dtype=pl.Int64).cast(pl.Datetime("us"))
    >>> far_timestamps(s).to_list(), timestamp_years(s).to_list()
    ([False, True], ['a timestamp in year 1970', 'a timestamp in year 287168'])
    """
    if isinstance(s.dtype, pl.Datetime):
        per_second = _PER_SECOND[s.dtype.time_unit or "us"]
        lo, hi = _LO_S * per_second, _HI_S * per_second
    elif s.dtype == pl.Date:
        lo, hi = _LO_S // 86400, _HI_S // 86400
    else:
        return None
    v = s.to_physical()
    return ((v < lo) | (v >= hi)).fill_null(False).alias(s.name)


def timestamp_years(s: pl.Series) -> pl.Series:
    """Each value of a date or datetime column as 'a timestamp in year N', from its stored integer."""
    per_second = _PER_SECOND[s.dtype.time_unit or "us"] if isinstance(s.dtype, pl.Datetime) else 1 / 86400
    year = (pl.lit(1970.0) + pl.lit(s.to_physical().cast(pl.Float64)) / (per_second * 31_556_952)).floor()
    return pl.select(pl.lit("a timestamp in year ") + year.cast(pl.Int64).cast(pl.String)).to_series().alias("found")


def _cast(s: pl.Series, dtype: pl.DataType) -> pl.Series:
    if dtype == TIMESTAMP:
        return _parse_timestamps(s)
    if dtype == pl.String:  # ids and labels: text, whole numbers (as decimal text) or categories
        if s.dtype == pl.String or s.dtype.is_integer() or isinstance(s.dtype, (pl.Categorical, pl.Enum)):
            return s.cast(pl.String)
        return pl.Series(s.name, [None] * len(s), dtype=pl.String)  # 1.0 would become "1.0": refuse
    if dtype == pl.Int8:  # signs: accept "1", "+1", 1.0; anything else is not a sign
        f = s.cast(pl.Float64, strict=False) if s.dtype != pl.Boolean else s.cast(pl.Float64) * float("nan")
        return pl.select(pl.when(f.is_in([-1.0, 1.0])).then(f).cast(pl.Int8)).to_series().alias(s.name)
    if not (s.dtype == pl.String or s.dtype.is_numeric()):  # booleans, dates, lists...: not numbers
        return pl.Series(s.name, [None] * len(s), dtype=dtype)
    try:
        return s.cast(dtype, strict=False)
    except Exception:  # incompatible dtypes (lists, structs): every value is wrong
        return pl.Series(s.name, [None] * len(s), dtype=dtype)


def _type_name(dtype: pl.DataType) -> str:
    if dtype == TIMESTAMP:
        return "a timestamp (ISO 8601 text, date or datetime)"
    if dtype == pl.Int8:
        return "a sign, +1 or -1"
    if dtype == pl.Float64:
        return "a number"
    return "text (or whole numbers)"


#: Optional columns that name something (an id, a topic): null is allowed, blank text is not.
_NAMES = frozenset({"customer_id", "order_id", "topic"})
#: Text columns whose values are free text, not ids or labels: spaces around them are allowed.
_FREE_TEXT = frozenset({"name"})
#: Labels: few distinct values in many rows, checked for spaces among the distinct values.
_LABELS = frozenset({"topic", "channel", "brand"})
#: Columns whose values must equal a key of another table, or one of a fixed list (kind): spaces there are
#: found by that check (the keys themselves are refused with spaces), so the largest tables are not scanned twice.
_REFERENCES = frozenset({("edges", "src"), ("edges", "dst"), ("edges", "kind"), ("transactions", "customer_id"),
                         ("transactions", "item_id")})


def _padded(s: pl.Series, few: bool = False) -> pl.Series:
    """Rows whose text starts or ends with white space (``'p1 '`` and ``'p1'`` would be two people).

    ``few``: the column holds few distinct values (a topic), so they are checked, not every row.

    >>> _padded(pl.Series(["a", " b", "c ", None, "d e"])).to_list()
    [False, True, True, False, False]
    """
    if few:
        values = s.unique()
        bad = values.filter(values.str.contains(r"^\s|\s\z").fill_null(False))
        return s.is_in(bad.implode()) if bad.len() else pl.Series(s.name, [False] * s.len(), dtype=pl.Boolean)
    return s.str.contains(r"^\s|\s\z").fill_null(False)


def spelling(name: str) -> str:
    """A column name as compared for near misses: no surrounding spaces, lower case, ``_`` for inner spaces.

    >>> spelling(" Customer ID ")
    'customer_id'
    """
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _check_spellings(chk: _Checker, columns: list[str]) -> None:
    """Refuse a column spelt like a declared one but not quite (``Sign``, `` ts``, ``customer_id ``).

    Left alone it would be kept as an extra column while the declared one
    took its default: the user's data silently replaced.
    """
    known = {spelling(n): n for n in chk.schema.names}
    for c in columns:
        if c not in chk.schema.names and spelling(c) in known:
            want = known[spelling(c)]
            chk.fatal(c, f"the column name {want!r} (column names are lower case, without spaces)",
                      f"{c!r}; rename it to {want!r}")

#: What each reference set holds: (key column, table it comes from).
_REFS = {"people": ("person_id", "people"), "customers": ("customer_id", "people"),
         "items": ("item_id", "items"), "communities": ("community_id", "communities")}


#: Hidden columns of the validated edges table: each endpoint's row in the people table
#: (null when it is not a person), found once here and handed to the graph as its edge index.
SRC_ROW, DST_ROW = "__src_row", "__dst_row"
#: Column names graphkit uses while validating: an input column may not be named so.
RESERVED = frozenset({ROW, SRC_ROW, DST_ROW})


def row_numbers(values: pl.Series, keys: pl.Series) -> pl.Series:
    """Row of each value in ``keys`` (UInt32; null when absent or null): membership and integer
    coding in one pass. A left join measured faster than ``is_in`` alone (2.6 s vs 3.1 s for 20M
    ids against 1M) and 3x faster than casting to an Enum.

    >>> row_numbers(pl.Series(["b", "x", None, "a"]), pl.Series(["a", "b"])).to_list()
    [1, None, None, 0]
    """
    index = pl.DataFrame({"v": keys}).with_row_index("i")
    found = pl.DataFrame({"v": values}).join(index, on="v", how="left", maintain_order="left")
    return found["i"].cast(pl.UInt32).alias(values.name)


def _check_ref(chk: _Checker, typed: pl.DataFrame, column: str, ref: str, refs: Mapping[str, pl.Series], *,
               scope: pl.Series | None = None, what: str = "", known: pl.Series | None = None) -> None:
    """Flag values of ``column`` that are not keys of the referenced table.

    ``known`` (optional) says which values are keys, when the caller has
    looked them up already; ``scope`` limits the check to some rows, and only
    those are looked up. Values whose row in the referenced table was itself
    rejected (lenient mode) are flagged apart, saying so: the rejection
    cascades, visibly.
    """
    key, table = _REFS[ref]
    values = typed[column]
    if known is None and scope is not None:  # look up only the rows in scope (e.g. reviews among 20M edges)
        inside = scope.fill_null(False).arg_true()
        known = pl.Series(np.ones(values.len(), dtype=bool)).scatter(
            inside, values.gather(inside).is_in(refs[ref].implode()).fill_null(True))
    elif known is None:
        known = values.is_in(refs[ref].implode())
    unknown = values.is_not_null() & ~known
    if scope is not None:
        unknown = unknown & scope
    rejected = refs.get("rejected:" + ref)
    article = "an" if key[0] in "aeiou" else "a"
    if rejected is not None and rejected.len():
        cascaded = unknown & values.is_in(rejected.implode())
        unknown = unknown & ~cascaded
        chk.flag(cascaded, column, f"{article} {key} of a valid row of the {table} table{what}",
                 lambda rows: _values(column)(rows) + f", whose {table} row was rejected",
                 row_found=_row_values(chk.raw, column) + f", whose {table} row was rejected")
    chk.flag(unknown, column, f"{article} {key} from the {table} table{what}", _values(column))


def _validate_one(
    df: pl.DataFrame | None,
    schema: TableSchema,
    *,
    file: str | None,
    refs: Mapping[str, pl.Series],
) -> tuple[pl.DataFrame, _Checker]:
    """Check and cast one table; return it (bad rows still in) and its checker."""
    if df is None:
        df = schema.empty()
    reserved = [c for c in df.columns if c in RESERVED]
    if reserved:
        _Checker(schema, file, df.clear()).fatal(
            reserved[0], f"no column named {reserved[0]!r} (graphkit uses that name while validating)",
            f"a column {reserved[0]!r}: rename it")
    chk = _Checker(schema, file, df.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64)))
    _check_spellings(chk, df.columns)
    missing = [c.name for c in schema.columns if c.required and c.name not in df.columns]
    if missing:
        chk.fatal(missing[0], f"a column named {missing[0]!r}", "columns " + ", ".join(map(repr, df.columns)))
    if df.height < schema.min_rows:
        chk.fatal("*", f"at least {schema.min_rows} row(s)", "an empty table")

    out = {ROW: chk.raw[ROW]}
    for col in schema.columns:
        if col.name not in df.columns:
            out[col.name] = pl.Series(col.name, [col.default] * df.height, dtype=col.dtype)
            continue
        raw = given_raw = df[col.name]
        far = far_timestamps(raw) if col.dtype == TIMESTAMP else None
        if far is not None and far.any():  # flagged here, then left out: no calendar can show them
            years = timestamp_years(raw)
            chk.raw = chk.raw.with_columns(pl.when(~far).then(pl.col(col.name)).alias(col.name))
            chk.flag(far, col.name, f"a timestamp between the years {MIN_YEAR} and {MAX_YEAR}",
                     ", ".join(years.filter(far).head(3).to_list()) + (" ..." if far.sum() > 3 else ""),
                     row_found=years)
            raw = pl.select(pl.when(~far).then(raw)).to_series().alias(col.name)
        elif far is not None:
            far = None
        cast = _cast(raw, col.dtype)
        if raw.dtype == pl.String and col.dtype != pl.String:
            given = raw.str.strip_chars().str.len_chars() > 0
            raw_null = raw.is_null() | ~given
            cast = pl.select(pl.when(given).then(cast)).to_series().alias(col.name)
        elif raw.dtype == pl.String and not col.nullable:  # an id or label of only blanks names nothing
            raw_null = raw.is_null() | (raw.str.strip_chars().str.len_chars() == 0)
        else:
            raw_null = given_raw.is_null()
        wrong = ~raw_null & cast.is_null()
        if far is not None:
            wrong = wrong & ~far  # already flagged
        chk.flag(wrong, col.name, _type_name(col.dtype),
                 lambda rows, c=col.name: f"{rows[c].dtype} values " + _values(c)(rows))
        if col.dtype == TIMESTAMP and raw.dtype == pl.String:  # text parsed into a year no timestamp may have
            parsed = far_timestamps(cast)
            if parsed is not None and parsed.any():
                chk.flag(parsed, col.name, f"a timestamp between the years {MIN_YEAR} and {MAX_YEAR}",
                         _values(col.name))
                cast = pl.select(pl.when(~parsed).then(cast)).to_series().alias(col.name)
        if col.nullable and col.name in _NAMES and raw.dtype == pl.String:  # null is fine, blank names nothing
            chk.flag(raw.str.strip_chars().str.len_chars() == 0, col.name,
                     "a non-blank value or null", _values(col.name))
        if col.dtype == pl.String and col.name not in _FREE_TEXT and (schema.name, col.name) not in _REFERENCES:
            chk.flag(_padded(cast, col.name in _LABELS) & ~raw_null, col.name,
                     "no spaces before or after the value", _values(col.name))
        if col.default is not None:  # a blank or null weight or sign takes its documented default
            cast = cast.fill_null(col.default)
        elif not col.nullable:
            chk.flag(raw_null, col.name, "a value (nulls not allowed)", _values(col.name))
        out[col.name] = cast
    extras = [c for c in df.columns if c not in schema.names and c != ROW]
    typed = pl.DataFrame(out).hstack(df.select(extras)) if extras else pl.DataFrame(out)

    for c in ("weight", "amount"):
        if c in schema.names:
            v = typed[c]
            chk.flag(v.is_nan() | v.is_infinite(), c, "a finite number", _values(c), values=typed)
            chk.flag(v < 0, c, "a number >= 0", _values(c), values=typed)
    if schema.name == "edges":
        kind = typed["kind"]
        chk.flag(~kind.is_in(EDGE_KINDS) & kind.is_not_null(), "kind", "one of " + ", ".join(EDGE_KINDS), _values("kind"))
        chk.flag((kind == "follows") & typed["topic"].is_not_null(), "topic",
                 "no topic on follows edges (a follow is not about a subject)", _values("topic"))
        # Endpoints that are people are looked up once (not once per kind) and kept as row numbers.
        src_row = row_numbers(typed["src"], refs["people"])
        to_person = kind.is_in([k for k, t in EDGE_TARGET.items() if t == "people"])
        dst_row = row_numbers(typed["dst"], refs["people"])
        _check_ref(chk, typed, "src", "people", refs, known=src_row.is_not_null())
        for kind_name, target in EDGE_TARGET.items():
            _check_ref(chk, typed, "dst", target, refs, scope=kind == kind_name, what=f" for {kind_name} edges",
                       known=dst_row.is_not_null() if target == "people" else None)
        typed = typed.with_columns(src_row.alias(SRC_ROW),
                                   pl.when(to_person).then(dst_row).otherwise(None).alias(DST_ROW))
    if schema.name == "handles":
        _check_ref(chk, typed, "person_id", "people", refs)
    if schema.name == "transactions":
        _check_ref(chk, typed, "customer_id", "customers", refs)
        _check_ref(chk, typed, "item_id", "items", refs)

    if schema.key:
        dup = typed.select(pl.struct(list(schema.key)).is_duplicated() & ~pl.struct(list(schema.key)).is_first_distinct()).to_series()
        chk.flag(dup, ",".join(schema.key), "unique values (a key)", lambda rows: "duplicates " + _values(schema.key[0])(rows))
    for c in schema.unique:
        v = typed[c]
        chk.flag(v.is_not_null() & v.is_duplicated() & ~v.is_first_distinct(), c, "unique non-null values",
                 lambda rows, c=c: "duplicates " + _values(c)(rows))
    return typed, chk


def as_polars(df: Any, table: str) -> pl.DataFrame | None:
    """A table given as a polars DataFrame, a LazyFrame or a pandas DataFrame, as a polars DataFrame.

    Anything else raises :class:`~graphkit.errors.ValidationError` naming the table.

    >>> import pandas as pd
    >>> as_polars(pd.DataFrame({"person_id": ["a"]}), "people").columns
    ['person_id']
    """
    if df is None or isinstance(df, pl.DataFrame):
        return df
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    kind = f"{type(df).__module__.split('.')[0]}.{type(df).__name__}"
    if kind == "pandas.DataFrame":
        try:
            return pl.from_pandas(df)
        except Exception as exc:  # mixed-type object columns and the like
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            found = f"a pandas DataFrame that polars cannot convert ({first}); give each column one type"
    else:
        found = f"a {kind}"
    raise ValidationError([Problem(table, "*", "a polars or pandas DataFrame", found, (), 0)])


def validate_tables(
    tables: Mapping[str, pl.DataFrame | None],
    *,
    lenient: bool = False,
    files: Mapping[str, str] | None = None,
    edge_index: dict[str, pl.Series] | None = None,
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Validate and cast every table; return ``(tables, rejects)``.

    Strict (default): the first table with problems raises
    :class:`~graphkit.errors.ValidationError` listing all its problems.
    Lenient: bad rows are removed and returned in ``rejects`` (one row per
    rejected input row, with the table, file, 1-based row number, the first
    bad column, every reason joined by "; ", and the original record as
    JSON). Rows that refer to a rejected row (an edge to a
    rejected person) are rejected in turn, with that reason.

    ``files`` maps table names to the file they were read from, for messages.
    A dict passed as ``edge_index`` receives ``src_idx`` and ``dst_idx``
    (UInt32 Series aligned with the clean edges: each endpoint's row in the
    clean people table, ``dst_idx`` null when the target is not a person),
    found while checking references, so the graph need not look ids up again.
    """
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValidationError([Problem(sorted(unknown)[0], "*", "one of the tables " + ", ".join(TABLE_ORDER),
                                       "an unknown table", (), 0)])
    files = files or {}
    tables = {name: as_polars(df, name) for name, df in tables.items()}
    clean: dict[str, pl.DataFrame] = {}
    rejects: list[pl.DataFrame] = []
    refs: dict[str, pl.Series] = {}
    for name in TABLE_ORDER:
        schema = TABLES[name]
        typed, chk = _validate_one(tables.get(name), schema, file=files.get(name), refs=refs)
        if chk.problems:
            if not lenient:
                raise ValidationError(chk.problems)
            bad = pl.concat(chk.bad).group_by(ROW, maintain_order=True).agg(
                pl.col("column").first(), pl.col("reason").str.join("; ")
            )
            records = chk.raw.join(bad.select(ROW), on=ROW, how="semi")
            rejects.append(
                bad.join(
                    records.select(ROW, pl.struct(pl.exclude(ROW)).struct.json_encode().alias("record")), on=ROW
                ).select(
                    pl.lit(name).alias("table"), pl.lit(files.get(name)).cast(pl.String).alias("file"),
                    pl.col(ROW).alias("row"), "column", "reason", "record",
                )
            )
            dropped = typed.join(bad.select(ROW), on=ROW, how="semi")
            typed = typed.join(bad.select(ROW), on=ROW, how="anti")
            for ref, (key, table) in _REFS.items():  # ids of rejected rows: references to them cascade
                if table == name:
                    refs["rejected:" + ref] = dropped[key].drop_nulls()
            if typed.height < schema.min_rows:
                raise ValidationError([Problem(
                    name, "*", f"at least {schema.min_rows} valid row(s)",
                    f"none: all {dropped.height} row(s) are bad (first: {bad['column'][0]}: {bad['reason'][0]})",
                    (), 0, "", files.get(name))])
        if name == "edges":
            if edge_index is not None:
                edge_index.update(src_idx=typed[SRC_ROW].alias("src_idx"), dst_idx=typed[DST_ROW].alias("dst_idx"))
            typed = typed.drop(SRC_ROW, DST_ROW)
        clean[name] = typed.drop(ROW)
        if name == "people":
            refs["people"] = clean[name]["person_id"]
            refs["customers"] = clean[name]["customer_id"].drop_nulls()
        elif name in ("items", "communities"):
            refs[name] = clean[name][schema.key[0]]
    rej = pl.concat(rejects) if rejects else pl.DataFrame(schema=REJECTS_SCHEMA)
    return clean, rej


def rejects_summary(rejects: pl.DataFrame) -> pl.DataFrame:
    """Counts of rejected rows per table and column.

    >>> rejects_summary(pl.DataFrame(schema=REJECTS_SCHEMA)).columns
    ['table', 'column', 'rows']
    """
    return rejects.group_by("table", "column", maintain_order=True).agg(pl.len().alias("rows"))

