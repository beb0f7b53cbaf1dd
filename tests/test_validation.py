"""The bad-input matrix: every defect gets a precise error (strict) or a counted, reasoned reject (lenient).

Each case writes a small dataset folder (Parquet and CSV), breaks one thing,
and checks that the error names the file, table, column, what was expected,
what was found and the right data-row numbers (1-based, header excluded), and
that lenient loading moves exactly the bad rows, with reasons, to the rejects
file while keeping every good row.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Callable

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphkit import ValidationError, read_dataset
from graphkit.errors import DataFileError
from graphkit.io.files import REJECTS_FILE, read_table
from graphkit.model.schema import (
    EDGE_KINDS,
    REJECTS_SCHEMA,
    rejects_summary,
    validate_tables,
)


def base_tables() -> dict[str, pl.DataFrame]:
    """Six people, every table and edge kind; valid as it stands."""
    return {
        "people": pl.DataFrame({
            "person_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "customer_id": ["c1", "c2", None, "c4", None, "c6"],
            "joined": ["2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01", "2023-05-01", "2023-06-01"],
        }),
        "handles": pl.DataFrame({"person_id": ["p1", "p2"], "channel": ["social", "forum"], "handle": ["@p1", "f2"]}),
        "items": pl.DataFrame({"item_id": ["i1", "i2"], "topic": ["frogs", "cooking"]}),
        "communities": pl.DataFrame({"community_id": ["k1"], "topic": ["frogs"]}),
        "edges": pl.DataFrame({
            "src": ["p2", "p3", "p4", "p3", "p1", "p4", "p1", "p5"],
            "dst": ["p1", "p1", "p1", "p2", "i1", "k1", "p4", "p6"],
            "kind": ["follows", "follows", "shares", "mentions", "reviews", "member_of", "referred", "replies"],
            "topic": [None, None, "frogs", "cooking", "frogs", None, None, "cooking"],
            "weight": [1.0, 1.0, 2.0, 1.0, 5.0, 1.0, 1.0, 1.0],
            "sign": [1, 1, 1, -1, 1, 1, 1, 1],
            "ts": [None, None, "2024-01-02", "2024-01-03T10:00:00Z", "2024-01-01", None, "2024-02-01", None],
        }),
        "transactions": pl.DataFrame({
            "customer_id": ["c1", "c1", "c2", "c4"],
            "item_id": ["i1", "i2", "i2", "i1"],
            "amount": [12.5, 30.0, 30.0, 0.0],
            "ts": ["2024-01-01", "2024-02-01", "2024-02-03", "2024-03-01"],
            "order_id": ["o1", "o2", "o3", None],
        }),
    }


def write(folder: Path, tables: dict[str, pl.DataFrame], fmt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "csv":
            df.write_csv(folder / f"{name}.csv")
        else:
            df.write_parquet(folder / f"{name}.parquet")
    return folder


def setv(table: str, column: str, row: int, value) -> Callable[[dict], dict]:
    """Set one cell (1-based data row) of one table; text in a typed column makes it a text column."""

    def mutate(t: dict) -> dict:
        s = t[table][column]
        if isinstance(value, str) and s.dtype != pl.String:
            s = s.cast(pl.String)
        values = s.to_list()
        values[row - 1] = value
        t[table] = t[table].with_columns(pl.Series(column, values, dtype=s.dtype))
        return t

    return mutate


def setcol(table: str, column: str, values: list, dtype=None) -> Callable[[dict], dict]:
    def mutate(t: dict) -> dict:
        t[table] = t[table].with_columns(pl.Series(column, values, dtype=dtype, strict=False))
        return t

    return mutate


def drop(table: str, column: str) -> Callable[[dict], dict]:
    def mutate(t: dict) -> dict:
        t[table] = t[table].drop(column)
        return t

    return mutate


def empty(table: str) -> Callable[[dict], dict]:
    def mutate(t: dict) -> dict:
        t[table] = t[table].clear()
        return t

    return mutate


# (id, mutation, table, column, expected text, found text, bad rows)
ROW_CASES = [
    ("wrong type: text in a number column", setv("edges", "weight", 3, "heavy"),
     "edges", "weight", "a number", "'heavy'", (3,)),
    ("wrong type: text in a sign column", setv("edges", "sign", 2, "yes"),
     "edges", "sign", "a sign, +1 or -1", "'yes'", (2,)),
    ("null person_id", setv("people", "person_id", 3, None), "people", "person_id", "a value (nulls not allowed)", "null", (3,)),
    ("blank person_id", setv("people", "person_id", 3, "  "), "people", "person_id", "a value (nulls not allowed)", "'  '", (3,)),
    ("blank customer_id", setv("people", "customer_id", 2, ""),
     "people", "customer_id", "a non-blank value or null", "''", (2,)),
    ("blank topic", setv("edges", "topic", 3, " "), "edges", "topic", "a non-blank value or null", "' '", (3,)),
    ("null edge src", setv("edges", "src", 4, None), "edges", "src", "a value (nulls not allowed)", "null", (4,)),
    ("null item_id", setv("items", "item_id", 2, None), "items", "item_id", "a value (nulls not allowed)", "null", (2,)),
    ("null transaction time", setv("transactions", "ts", 3, None), "transactions", "ts", "a value (nulls not allowed)", "null", (3,)),
    ("duplicate person_id", setv("people", "person_id", 5, "p2"),
     "people", "person_id", "unique values (a key)", "'p2'", (5,)),
    ("duplicate customer_id", setv("people", "customer_id", 3, "c1"),
     "people", "customer_id", "unique non-null values", "'c1'", (3,)),
    ("duplicate item_id", setv("items", "item_id", 2, "i1"), "items", "item_id", "unique values", "'i1'", (2,)),
    ("duplicate handle on a channel", lambda t: setv("handles", "handle", 2, "@p1")(setv("handles", "channel", 2, "social")(t)),
     "handles", "channel,handle", "unique values (a key)", "'social'", (2,)),
    ("edge to an unknown person", setv("edges", "dst", 1, "zed"),
     "edges", "dst", "a person_id from the people table for follows edges", "'zed'", (1,)),
    ("edge from an unknown person", setv("edges", "src", 8, "zed"),
     "edges", "src", "a person_id from the people table", "'zed'", (8,)),
    ("follow of an item id", setv("edges", "dst", 2, "i1"),
     "edges", "dst", "a person_id from the people table for follows edges", "'i1'", (2,)),
    ("review of an unknown item", setv("edges", "dst", 5, "i9"),
     "edges", "dst", "an item_id from the items table for reviews edges", "'i9'", (5,)),
    ("review of a person", setv("edges", "dst", 5, "p2"),
     "edges", "dst", "an item_id from the items table for reviews edges", "'p2'", (5,)),
    ("membership of an unknown community", setv("edges", "dst", 6, "k9"),
     "edges", "dst", "a community_id from the communities table for member_of edges", "'k9'", (6,)),
    ("handle of an unknown person", setv("handles", "person_id", 2, "zed"),
     "handles", "person_id", "a person_id from the people table", "'zed'", (2,)),
    ("purchase by an unknown customer", setv("transactions", "customer_id", 2, "c9"),
     "transactions", "customer_id", "a customer_id from the people table", "'c9'", (2,)),
    ("purchase by a person who is not a customer", setv("transactions", "customer_id", 2, "p3"),
     "transactions", "customer_id", "a customer_id from the people table", "'p3'", (2,)),
    ("purchase of an unknown item", setv("transactions", "item_id", 4, "i9"),
     "transactions", "item_id", "an item_id from the items table", "'i9'", (4,)),
    ("negative weight", setv("edges", "weight", 3, -2.0), "edges", "weight", "a number >= 0", "-2.0", (3,)),
    ("NaN weight", setv("edges", "weight", 4, float("nan")), "edges", "weight", "a finite number", "NaN", (4,)),
    ("infinite weight", setv("edges", "weight", 5, float("inf")), "edges", "weight", "a finite number", "inf", (5,)),
    ("minus infinite weight", setv("edges", "weight", 5, float("-inf")), "edges", "weight", "a finite number", "-inf", (5,)),
    ("negative amount", setv("transactions", "amount", 2, -30.0),
     "transactions", "amount", "a number >= 0", "-30.0", (2,)),
    ("NaN amount", setv("transactions", "amount", 3, float("nan")),
     "transactions", "amount", "a finite number", "NaN", (3,)),
    ("infinite amount", setv("transactions", "amount", 1, float("inf")),
     "transactions", "amount", "a finite number", "inf", (1,)),
    ("sign zero", setv("edges", "sign", 4, 0), "edges", "sign", "a sign, +1 or -1", "0", (4,)),
    ("sign two", setv("edges", "sign", 1, 2), "edges", "sign", "a sign, +1 or -1", "2", (1,)),
    ("unparseable edge timestamp", setv("edges", "ts", 3, "yesterday"),
     "edges", "ts", "a timestamp", "'yesterday'", (3,)),
    ("impossible date", setv("edges", "ts", 7, "2024-13-45"), "edges", "ts", "a timestamp", "'2024-13-45'", (7,)),
    ("day-first date in a transaction", setv("transactions", "ts", 2, "31/12/2024"),
     "transactions", "ts", "a timestamp", "'31/12/2024'", (2,)),
    ("unparseable joined date", setv("people", "joined", 6, "June"), "people", "joined", "a timestamp", "'June'", (6,)),
    ("unknown edge kind", setv("edges", "kind", 2, "likes"),
     "edges", "kind", "one of " + ", ".join(EDGE_KINDS), "'likes'", (2,)),
    ("null edge kind", setv("edges", "kind", 2, None), "edges", "kind", "a value (nulls not allowed)", "null", (2,)),
    ("topic on a follow", setv("edges", "topic", 1, "frogs"),
     "edges", "topic", "no topic on follows edges", "'frogs'", (1,)),
]


def _check_problem(err: ValidationError, file: Path, table: str, column: str, expected: str, found: str, rows):
    text = str(err)
    assert str(file) in text
    assert f"table '{table}'" in text and f"column '{column}'" in text
    assert f"expected {expected}" in text
    assert found in text
    p = err.problems[0]
    assert (p.file, p.table, p.column) == (str(file), table, column)
    assert expected in p.expected and found in p.found
    assert p.rows == rows and p.n_rows == len(rows)
    assert "rows " + ", ".join(map(str, rows)) in text
    assert p.sample and all(str(r) in p.sample for r in rows)  # the offending rows are shown


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("case", ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_strict_error_names_file_table_column_expected_found_and_rows(tmp_path, case, fmt):
    _, mutate, table, column, expected, found, rows = case
    folder = write(tmp_path / "ds", mutate(base_tables()), fmt)
    with pytest.raises(ValidationError) as info:
        read_dataset(folder)
    file = folder / f"{table}.{fmt}"
    _check_problem(info.value, file, table, column, expected, found, rows)
    if fmt == "csv":  # row numbers are data rows: row r is line r + 1 of the file, after the header
        lines = file.read_text().splitlines()
        bad_value = found.strip("'")
        for r in rows:
            if bad_value.strip() and bad_value != "null":
                assert bad_value.replace(".0", "") in lines[r].replace(".0", "")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("case", ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_lenient_rejects_exactly_the_bad_rows_with_reasons_and_keeps_the_rest(tmp_path, case, fmt):
    _, mutate, table, column, expected, found, rows = case
    tables = mutate(base_tables())
    folder = write(tmp_path / "ds", tables, fmt)
    g = read_dataset(folder, lenient=True)
    rejected = pl.read_csv(folder / REJECTS_FILE, infer_schema=False)
    assert rejected.height == g.rejects.height
    own = rejected.filter(pl.col("table") == table)
    assert tuple(int(r) for r in own["row"]) == rows
    assert (own["column"] == column).all()
    assert (own["file"] == str(folder / f"{table}.{fmt}")).all()
    assert all(f"expected {expected}" in r and found in r for r in own["reason"])
    # every good row of the broken table is kept, in order
    kept = getattr(g, table)
    assert kept.height == tables[table].height - len(rows)
    # other tables lose only rows that refer to a row that is gone
    for other in rejected.filter(pl.col("table") != table).iter_rows(named=True):
        assert other["column"] in ("src", "dst", "person_id", "customer_id", "item_id"), other
        assert " from the " in other["reason"] or "row was rejected" in other["reason"], other
    # the rejected record itself is kept, as JSON
    assert all(r.startswith("{") for r in own["record"])


def test_lenient_record_holds_the_original_values(tmp_path):
    folder = write(tmp_path / "ds", setv("edges", "weight", 3, "heavy")(base_tables()), "csv")
    g = read_dataset(folder, lenient=True)
    record = g.rejects.filter(pl.col("table") == "edges")["record"][0]
    assert '"weight":"heavy"' in record and '"src":"p4"' in record and '"kind":"shares"' in record


FATAL_CASES = [
    ("missing kind column", drop("edges", "kind"), "edges", "kind", "a column named 'kind'", "columns 'src', 'dst'"),
    ("missing person_id column", drop("people", "person_id"), "people", "person_id", "a column named 'person_id'",
     "'customer_id'"),
    ("missing transaction time column", drop("transactions", "ts"), "transactions", "ts", "a column named 'ts'",
     "'amount'"),
    ("missing item topic column", drop("items", "topic"), "items", "topic", "a column named 'topic'", "'item_id'"),
    ("empty people table", empty("people"), "people", "*", "at least 1 row(s)", "an empty table"),
    ("empty edges table", empty("edges"), "edges", "*", "at least 1 row(s)", "an empty table"),
]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("case", FATAL_CASES, ids=[c[0] for c in FATAL_CASES])
@pytest.mark.parametrize("lenient", [False, True])
def test_table_level_defects_fail_even_when_lenient(tmp_path, case, fmt, lenient):
    _, mutate, table, column, expected, found = case
    folder = write(tmp_path / "ds", mutate(base_tables()), fmt)
    with pytest.raises(ValidationError) as info:
        read_dataset(folder, lenient=lenient)
    p = info.value.problems[0]
    assert (p.file, p.table, p.column) == (str(folder / f"{table}.{fmt}"), table, column)
    assert expected in p.expected and found in p.found
    assert str(folder / f"{table}.{fmt}") in str(info.value)
    assert not (folder / REJECTS_FILE).exists()


def test_empty_optional_table_is_a_dataset_without_it(tmp_path):
    folder = write(tmp_path / "ds", empty("transactions")(base_tables()), "csv")
    assert read_dataset(folder).transactions.height == 0


@pytest.mark.parametrize("lenient", [False, True])
def test_lenient_with_every_row_bad_raises_and_counts_them(tmp_path, lenient):
    folder = write(tmp_path / "ds", setcol("edges", "weight", [-1.0] * 8)(base_tables()), "parquet")
    with pytest.raises(ValidationError) as info:
        read_dataset(folder, lenient=lenient)
    if lenient:
        assert "all 8 row(s) are bad" in str(info.value) and "a number >= 0" in str(info.value)
    else:
        assert info.value.problems[0].n_rows == 8 and info.value.rows == (1, 2, 3, 4, 5)  # sample of 5
        assert "(showing 5 of 8)" in str(info.value)


# ------------------------------------------------------------ typed (Parquet) wrong types
TYPED_CASES = [
    ("float person ids", setcol("people", "person_id", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], pl.Float64),
     "people", "person_id", "text", "Float64", (1, 2, 3, 4, 5)),
    ("boolean weights", setcol("edges", "weight", [True] * 8, pl.Boolean),
     "edges", "weight", "a number", "Boolean", (1, 2, 3, 4, 5)),
    ("integer timestamps", setcol("transactions", "ts", [1, 2, 3, 4], pl.Int64),
     "transactions", "ts", "a timestamp", "Int64", (1, 2, 3, 4)),
    ("dates in an amount column", setcol("transactions", "amount", [date(2024, 1, 1)] * 4, pl.Date),
     "transactions", "amount", "a number", "Date", (1, 2, 3, 4)),
    ("fractional sign", setcol("edges", "sign", [1.0, 0.5, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0], pl.Float64),
     "edges", "sign", "a sign", "0.5", (2,)),
]


@pytest.mark.parametrize("case", TYPED_CASES, ids=[c[0] for c in TYPED_CASES])
def test_wrong_parquet_column_types_are_named(tmp_path, case):
    _, mutate, table, column, expected, found, rows = case
    tables = mutate(base_tables())
    folder = write(tmp_path / "ds", tables, "parquet")
    with pytest.raises(ValidationError) as info:
        read_dataset(folder)
    p = info.value.problems[0]
    assert (p.table, p.column, p.rows) == (table, column, rows)
    assert expected in p.expected and found in p.found


def test_integer_ids_and_typed_values_are_accepted_as_their_text(tmp_path):
    t = base_tables()
    t["people"] = t["people"].with_columns(person_id=pl.Series([1, 2, 3, 4, 5, 6]))
    t["edges"] = t["edges"].with_columns(
        src=pl.Series(["2", "3", "4", "3", "1", "4", "1", "5"]), dst=pl.Series(["1", "1", "1", "2", "i1", "k1", "4", "6"]),
        sign=pl.Series([1.0, 1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0]), weight=pl.Series([1, 1, 2, 1, 5, 1, 1, 1]))
    t["handles"] = t["handles"].with_columns(person_id=pl.Series(["1", "2"]))
    g = read_dataset(write(tmp_path / "ds", t, "parquet"))
    assert g.people["person_id"].to_list() == ["1", "2", "3", "4", "5", "6"]
    assert g.edges.schema["sign"] == pl.Int8 and g.edges["weight"].to_list()[2] == 2.0


def test_timestamps_in_all_accepted_forms_become_utc(tmp_path):
    forms = ["2024-01-02", "2024-01-02T03:04:05", "2024-01-02 03:04:05.250", "2024-01-02T05:04:05+02:00",
             "2024-01-02T03:04:05Z", "2024-01-02 03:04", " 2024-01-02 "]
    t = base_tables()
    t["edges"] = t["edges"].with_columns(ts=pl.Series(forms + [None]))
    g = read_dataset(write(tmp_path / "ds", t, "csv"))
    ts = g.edges["ts"].to_list()
    assert g.edges.schema["ts"] == pl.Datetime("us", "UTC")
    assert [str(x) for x in ts[:7]] == [
        "2024-01-02 00:00:00+00:00", "2024-01-02 03:04:05+00:00", "2024-01-02 03:04:05.250000+00:00",
        "2024-01-02 03:04:05+00:00", "2024-01-02 03:04:05+00:00", "2024-01-02 03:04:00+00:00",
        "2024-01-02 00:00:00+00:00"]


def test_several_defects_strict_reports_all_of_the_first_bad_table(tmp_path):
    t = setv("edges", "weight", 3, -1.0)(setv("edges", "kind", 2, "likes")(base_tables()))
    t = setv("transactions", "amount", 1, -5.0)(t)
    with pytest.raises(ValidationError) as info:
        read_dataset(write(tmp_path / "ds", t, "csv"))
    problems = {(p.table, p.column, p.rows) for p in info.value.problems}
    assert problems == {("edges", "kind", (2,)), ("edges", "weight", (3,))}
    assert "+1 more problem(s)" in str(info.value)


# ------------------------------------------------------------ lenient: counts, cascade, rejects file
def _broken_everywhere() -> dict[str, pl.DataFrame]:
    t = base_tables()
    t = setv("people", "joined", 4, "whenever")(t)  # p4 (customer c4) rejected
    t = setv("people", "customer_id", 5, "c1")(t)  # p5 duplicates c1: p5 rejected
    t = setv("edges", "weight", 1, float("nan"))(t)  # edge 1 rejected
    t = setv("edges", "kind", 2, "likes")(t)  # edge 2 rejected
    t = setv("transactions", "amount", 2, -1.0)(t)  # transaction 2 rejected
    return t


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_lenient_counts_cascades_and_keeps_every_good_row(tmp_path, fmt):
    folder = write(tmp_path / "ds", _broken_everywhere(), fmt)
    g = read_dataset(folder, lenient=True)
    rej = g.rejects
    by = {(t, int(r)): (c, reason) for t, r, c, reason in rej.select("table", "row", "column", "reason").iter_rows()}
    assert set(by) == {
        ("people", 4), ("people", 5),
        ("edges", 1), ("edges", 2),
        ("edges", 3), ("edges", 6), ("edges", 7),  # p4's shares, member_of, and p1 -> p4 referral: cascade
        ("edges", 8),  # p5 -> p6 replies: cascade
        ("transactions", 2),  # bad amount
        ("transactions", 4),  # c4 was p4's customer id: cascade
    }
    assert by[("edges", 3)][0] == "src" and "found 'p4', whose people row was rejected" in by[("edges", 3)][1]
    assert by[("edges", 7)][0] == "dst" and "'p4', whose people row was rejected" in by[("edges", 7)][1]
    assert "found 'c4', whose people row was rejected" in by[("transactions", 4)][1]
    assert "expected a finite number, found NaN" in by[("edges", 1)][1]
    # the good rows are all there
    assert g.people["person_id"].to_list() == ["p1", "p2", "p3", "p6"]
    assert g.edges.select("src", "dst").rows() == [("p3", "p2"), ("p1", "i1")]
    assert g.transactions["customer_id"].to_list() == ["c1", "c2"]
    assert g.handles.height == 2 and g.items.height == 2
    # the file holds the same rows, and the summary counts them
    on_disk = pl.read_csv(folder / REJECTS_FILE, infer_schema=False)
    assert on_disk.columns == list(REJECTS_SCHEMA)
    assert on_disk.height == rej.height == 10
    counts = {(t, c): n for t, c, n in rejects_summary(rej).iter_rows()}
    assert counts == {("people", "customer_id"): 1, ("people", "joined"): 1, ("edges", "weight"): 1,
                      ("edges", "kind"): 1, ("edges", "src"): 3, ("edges", "dst"): 1,
                      ("transactions", "amount"): 1, ("transactions", "customer_id"): 1}


def test_a_row_with_several_defects_is_rejected_once_with_every_reason(tmp_path):
    t = setv("edges", "weight", 3, -1.0)(setv("edges", "sign", 3, 0)(base_tables()))
    g = read_dataset(write(tmp_path / "ds", t, "parquet"), lenient=True)
    assert g.rejects.height == 1
    reason = g.rejects["reason"][0]
    assert "a number >= 0, found -1.0" in reason and "a sign, +1 or -1, found 0" in reason and "; " in reason


def test_rejects_path_option_and_no_file_when_nothing_is_rejected(tmp_path):
    good = write(tmp_path / "good", base_tables(), "csv")
    assert read_dataset(good, lenient=True).rejects.height == 0
    assert not (good / REJECTS_FILE).exists()
    bad = write(tmp_path / "bad", _broken_everywhere(), "csv")
    target = tmp_path / "elsewhere" / "bad_rows.parquet"
    g = read_dataset(bad, lenient=True, rejects_path=target)
    assert pl.read_parquet(target).equals(g.rejects)
    assert not (bad / REJECTS_FILE).exists()


def test_validate_tables_without_files_still_names_table_and_rows():
    t = setv("edges", "dst", 2, "zed")(base_tables())
    with pytest.raises(ValidationError) as info:
        validate_tables(t)
    assert info.value.file is None and info.value.table == "edges" and info.value.rows == (2,)
    assert str(info.value).startswith("table 'edges', column 'dst'")


def test_unknown_table_name_is_refused():
    with pytest.raises(ValidationError, match="unknown table"):
        validate_tables({**base_tables(), "friends": base_tables()["edges"]})


def test_extra_columns_are_kept_not_dropped(tmp_path):
    t = base_tables()
    t["edges"] = t["edges"].with_columns(note=pl.lit("x"))
    assert read_dataset(write(tmp_path / "ds", t, "parquet")).edges["note"].to_list() == ["x"] * 8


# ------------------------------------------------------------ unreadable and truncated files
def _corrupt(folder: Path, name: str, how: str) -> Path:
    path = next(folder.glob(f"{name}.*"))
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2] if path.suffix == ".parquet" else data[: data.rindex(b",")])
    elif how == "zero":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"\x00\x01garbage\xff\xfe" * 20)
    elif how == "latin1":
        path.write_bytes(data.replace(b"p1", "pé".encode("latin-1"), 1))
    elif how == "directory":
        path.unlink()
        path.mkdir()
    return path


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("how, words", [
    ("truncate", "truncated"), ("zero", "cannot be read"), ("garbage", ""), ("directory", "is a directory"),
])
@pytest.mark.parametrize("table", ["people", "edges", "transactions"])
def test_unreadable_or_truncated_file_names_the_file(tmp_path, fmt, how, words, table):
    folder = write(tmp_path / "ds", base_tables(), fmt)
    path = _corrupt(folder, table, how)
    with pytest.raises(DataFileError) as info:
        read_dataset(folder, lenient=True)  # not a row defect: lenient does not help
    assert info.value.path == str(path)
    assert str(path) in str(info.value) and words in str(info.value)
    assert not (folder / REJECTS_FILE).exists()


def test_truncated_csv_names_the_short_rows(tmp_path):
    folder = write(tmp_path / "ds", base_tables(), "csv")
    path = folder / "edges.csv"
    text = path.read_text()
    path.write_text(text[: text.rindex(",")])  # the last record lost its last field
    with pytest.raises(DataFileError, match=r"fewer fields than the header's 7: rows 8 \(6 fields\); is the file truncated"):
        read_table(path)
    lines = text.splitlines()
    lines[3] = "p4,p1"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"rows 3 \(2 fields\)"):
        read_table(path)


def test_non_utf8_csv_says_so(tmp_path):
    folder = write(tmp_path / "ds", base_tables(), "csv")
    path = _corrupt(folder, "people", "latin1")
    with pytest.raises(DataFileError, match="UTF-8"):
        read_dataset(folder)
    assert path.exists()


def test_missing_required_file_and_both_formats(tmp_path):
    folder = write(tmp_path / "ds", base_tables(), "csv")
    (folder / "edges.csv").unlink()
    with pytest.raises(DataFileError, match="edges table is required"):
        read_dataset(folder)
    folder2 = write(tmp_path / "ds2", base_tables(), "csv")
    base_tables()["items"].write_parquet(folder2 / "items.parquet")
    with pytest.raises(DataFileError, match="both items.parquet and items.csv exist"):
        read_dataset(folder2)
    with pytest.raises(DataFileError, match="not a dataset folder"):
        read_dataset(tmp_path / "nowhere")


# ------------------------------------------------------------ property: lenient and strict agree
_ids = st.sampled_from(["a", "b", "c", "d", "e", None, "", "zz"])
_weights = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.none())
_signs = st.sampled_from([1, -1, 0, 2, None])
_kinds = st.sampled_from([*EDGE_KINDS, "likes", None])


@st.composite
def dataset(draw):
    people = draw(st.lists(_ids, min_size=1, max_size=6))
    customers = draw(st.lists(st.sampled_from(["c1", "c2", "c3", None]), min_size=len(people), max_size=len(people)))
    n = draw(st.integers(1, 10))
    edges = {
        "src": draw(st.lists(_ids, min_size=n, max_size=n)),
        "dst": draw(st.lists(st.sampled_from(["a", "b", "c", "i1", "k1", "nobody", None]), min_size=n, max_size=n)),
        "kind": draw(st.lists(_kinds, min_size=n, max_size=n)),
        "weight": draw(st.lists(_weights, min_size=n, max_size=n)),
        "sign": draw(st.lists(_signs, min_size=n, max_size=n)),
        "ts": draw(st.lists(st.sampled_from([None, "2024-01-01", "2024-02-30", "soon"]), min_size=n, max_size=n)),
    }
    m = draw(st.integers(0, 5))
    transactions = {
        "customer_id": draw(st.lists(st.sampled_from(["c1", "c2", "c3", "c9", None]), min_size=m, max_size=m)),
        "item_id": draw(st.lists(st.sampled_from(["i1", "i2"]), min_size=m, max_size=m)),
        "amount": draw(st.lists(_weights, min_size=m, max_size=m)),
        "ts": draw(st.lists(st.sampled_from(["2024-01-01", "nope", None]), min_size=m, max_size=m)),
    }
    return {
        "people": pl.DataFrame({"person_id": people, "customer_id": customers}, schema={"person_id": pl.String,
                                                                                        "customer_id": pl.String}),
        "items": pl.DataFrame({"item_id": ["i1"], "topic": ["frogs"]}),
        "communities": pl.DataFrame({"community_id": ["k1"]}),
        "edges": pl.DataFrame(edges, schema={"src": pl.String, "dst": pl.String, "kind": pl.String,
                                             "weight": pl.Float64, "sign": pl.Int64, "ts": pl.String}),
        "transactions": pl.DataFrame(transactions, schema={"customer_id": pl.String, "item_id": pl.String,
                                                           "amount": pl.Float64, "ts": pl.String}),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset())
def test_property_lenient_partitions_rows_and_strict_raises_iff_anything_is_rejected(tables):
    try:
        clean, rejects = validate_tables(tables, lenient=True)
    except ValidationError as exc:  # a table-level defect (e.g. every row bad): strict must fail too
        with pytest.raises(ValidationError):
            validate_tables(tables)
        assert exc.problems[0].column == "*"
        return
    # kept + rejected == input, per table, and no row is rejected twice
    for name, df in tables.items():
        rej = rejects.filter(pl.col("table") == name)
        assert rej["row"].n_unique() == rej.height
        assert set(rej["row"]) <= set(range(1, df.height + 1))
        assert clean[name].height + rej.height == df.height, name
    # strict raises exactly when lenient rejected something
    if rejects.height:
        with pytest.raises(ValidationError):
            validate_tables(tables)
    else:
        strict, none = validate_tables(tables)
        assert none.height == 0 and all(strict[k].equals(clean[k]) for k in strict)
    # what is kept obeys the schema
    people, edges, tx = clean["people"], clean["edges"], clean["transactions"]
    assert people["person_id"].null_count() == 0 and people["person_id"].n_unique() == people.height
    assert "" not in people["person_id"].to_list()
    assert edges["src"].is_in(people["person_id"].implode()).all()
    assert edges["kind"].is_in(EDGE_KINDS).all()
    assert all(math.isfinite(w) and w >= 0 for w in edges["weight"])
    assert set(edges["sign"].to_list()) <= {-1, 1}
    person_dst = edges.filter(pl.col("kind").is_in(["follows", "mentions", "replies", "shares", "referred"]))
    assert person_dst["dst"].is_in(people["person_id"].implode()).all()
    assert tx["customer_id"].is_in(people["customer_id"].drop_nulls().implode()).all()
    assert all(a is None or (math.isfinite(a) and a >= 0) for a in tx["amount"])
