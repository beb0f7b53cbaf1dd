"""The embedded store: exact round trips through Parquet and CSV, and atomic writes."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphkit.io.files as files
from graphkit import GraphkitError, TopicGraph, read_dataset, write_dataset
from graphkit.errors import DataFileError
from graphkit.io.files import read_table, write_table
from graphkit.io.synthetic import generate
from graphkit.model.schema import TABLE_ORDER, TABLES

UTC = timezone.utc


def tricky() -> TopicGraph:
    """Text that CSV must quote, unicode, empty text beside null, extreme floats and times."""
    people = pl.DataFrame({
        "person_id": ["a", "b,with comma", 'c "quoted"', "d\nnewline", "é😀", "f\r\ncrlf"],
        "customer_id": ["c1", None, "c 3", "c4", "c5", None],
        "name": ["", None, "x", " lead", "trail ", "tab\there"],
        "brand": [None, None, None, None, "acme", None],
        "joined": [datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), None, datetime(1970, 1, 1, tzinfo=UTC),
                   datetime(1900, 1, 1, tzinfo=UTC), datetime(2262, 1, 1, tzinfo=UTC),
                   datetime(2024, 6, 1, 23, 59, 59, 999999, tzinfo=UTC)],
    })
    edges = pl.DataFrame({
        "src": ["a", "b,with comma", "a", "é😀", "a"],
        "dst": ['c "quoted"', "a", "d\nnewline", "i,1", "k1"],
        "kind": ["follows", "shares", "mentions", "reviews", "member_of"],
        "topic": [None, "t", "tôpic, 2", "t", None],
        "weight": [0.1, 1 / 3, 1e-300, 1.7976931348623157e308, 0.0],
        "sign": [1, -1, 1, -1, 1],
        "ts": [None, "2024-01-01T00:00:00.000001Z", "2024-06-01T12:00:00+05:30", "1999-12-31", None],
        "channel": ["x", None, "", "y", None],
    })
    items = pl.DataFrame({"item_id": ["i,1"], "topic": ["t"], "brand": ["acme"], "name": [None]})
    communities = pl.DataFrame({"community_id": ["k1"], "topic": [None], "brand": ["acme"], "name": ["fans"]},
                               schema_overrides={"topic": pl.String})
    transactions = pl.DataFrame({
        "customer_id": ["c1", "c4", "c 3", "c1"],
        "item_id": ["i,1"] * 4,
        "amount": [12.345678901234567, None, 0.0, 1e9],
        "ts": ["2024-01-01T10:00:00Z", "2024-01-02", "2024-01-03 04:05:06.7", "2024-02-29T23:59:59.999999Z"],
        "order_id": ["o1", None, "o\n2", "o1"],
    })
    handles = pl.DataFrame({"person_id": ["a", "a"], "channel": ["social", "forum"], "handle": ["@a", "@a"]})
    return TopicGraph.from_tables(people, edges, items=items, communities=communities,
                                  transactions=transactions, handles=handles)


def assert_same(a: TopicGraph, b: TopicGraph) -> None:
    for name in TABLE_ORDER:
        left, right = getattr(a, name), getattr(b, name)
        assert left.schema == right.schema, name
        assert left.equals(right), (name, left, right)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_is_exact_for_tricky_values(tmp_path, fmt):
    g = tricky()
    folder = write_dataset(g, tmp_path / "ds", format=fmt)
    assert _tables(folder) == sorted(f"{t}.{fmt}" for t in TABLE_ORDER)
    assert_same(read_dataset(folder), g)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_of_bundled_and_generated_graphs(tmp_path, fmt, tiny):
    for i, g in enumerate([tiny, generate(n_people=300, seed=2)]):
        assert_same(read_dataset(write_dataset(g, tmp_path / f"ds{i}", format=fmt)), g)


def test_empty_optional_tables_are_not_written_and_come_back_empty(tmp_path):
    g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
                               pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
    folder = write_dataset(g, tmp_path / "ds")
    assert _tables(folder) == ["edges.parquet", "people.parquet"]
    back = read_dataset(folder)
    assert_same(back, g)
    assert back.transactions.schema == TABLES["transactions"].empty().schema


def test_extra_columns_round_trip_exactly_in_parquet_and_as_text_in_csv(tmp_path):
    g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"], "score": [1, None]}),
                               pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
    assert read_dataset(write_dataset(g, tmp_path / "p")).people.equals(g.people)
    back = read_dataset(write_dataset(g, tmp_path / "c", format="csv")).people
    assert back["score"].to_list() == ["1", None]  # CSV carries no types: extra columns come back as text


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_name = _text.filter(lambda s: s.strip() != "" and s == s.strip())  # ids and topics: non-blank, no spaces around
_times = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC))


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(_name, min_size=n, max_size=n, unique=True))
    people = pl.DataFrame({
        "person_id": ids,
        "name": draw(st.lists(st.one_of(st.none(), _text), min_size=n, max_size=n)),
        "joined": draw(st.lists(st.one_of(st.none(), _times), min_size=n, max_size=n)),
    }, schema={"person_id": pl.String, "name": pl.String, "joined": pl.Datetime("us", "UTC")})
    m = draw(st.integers(1, 8))
    edges = pl.DataFrame({
        "src": draw(st.lists(st.sampled_from(ids), min_size=m, max_size=m)),
        "dst": draw(st.lists(st.sampled_from(ids), min_size=m, max_size=m)),
        "kind": ["mentions"] * m,
        "topic": draw(st.lists(st.one_of(st.none(), _name), min_size=m, max_size=m)),
        "weight": draw(st.lists(st.floats(min_value=0, allow_nan=False, allow_infinity=False), min_size=m, max_size=m)),
        "sign": draw(st.lists(st.sampled_from([1, -1]), min_size=m, max_size=m)),
        "ts": draw(st.lists(st.one_of(st.none(), _times), min_size=m, max_size=m)),
    }, schema={"src": pl.String, "dst": pl.String, "kind": pl.String, "topic": pl.String, "weight": pl.Float64,
               "sign": pl.Int8, "ts": pl.Datetime("us", "UTC")})
    return TopicGraph.from_tables(people, edges)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=graphs(), fmt=st.sampled_from(["parquet", "csv"]))
def test_property_any_valid_graph_round_trips_exactly(tmp_path, g, fmt):
    folder = write_dataset(g, tmp_path / f"prop-{fmt}", format=fmt)  # replaced whole on each example
    assert_same(read_dataset(folder), g)


# ------------------------------------------------------------------- atomic writes
def _leftovers(folder: Path) -> list[str]:
    """Hidden entries other than the lock files writers keep beside their folders."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and not p.name.endswith(files.LOCK_SUFFIX))


def _tables(folder: Path) -> list[str]:
    """The files of a dataset folder, without graphkit's marker."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".graphkit")


class Boom(Exception):
    pass


@pytest.mark.parametrize("suffix, method", [(".parquet", "write_parquet"), (".csv", "write_csv")])
def test_failed_write_table_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, suffix, method):
    path = tmp_path / f"people{suffix}"
    old = pl.DataFrame({"person_id": ["old"]})
    write_table(old, path)
    before = path.read_bytes()
    real = getattr(pl.DataFrame, method)

    def half_then_fail(self, target, *args, **kwargs):
        real(self.head(1), target, *args, **kwargs)  # something is on disk under the temp name...
        raise Boom("disk full")  # ...when the write fails

    monkeypatch.setattr(pl.DataFrame, method, half_then_fail)
    with pytest.raises(Boom):
        write_table(pl.DataFrame({"person_id": ["new", "newer"]}), path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_failed_write_dataset_keeps_the_old_dataset_and_leaves_no_temp_folder(tmp_path, monkeypatch, tiny):
    folder = write_dataset(tiny, tmp_path / "ds")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real = files.write_table
    calls = []

    def fail_on_third(df, path):
        calls.append(path)
        if len(calls) == 3:
            raise Boom("killed while writing")
        return real(df, path)

    monkeypatch.setattr(files, "write_table", fail_on_third)
    with pytest.raises(Boom):
        write_dataset(generate(n_people=200, seed=1), folder)
    assert len(calls) == 3
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert _leftovers(tmp_path) == []
    assert_same(read_dataset(folder), tiny)


def test_write_dataset_replaces_the_folder_as_a_whole(tmp_path, tiny):
    folder = write_dataset(tiny, tmp_path / "ds", format="csv")
    (folder / "notes.txt").write_text("mine")
    small = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
                                   pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
    write_dataset(small, folder)
    assert _tables(folder) == ["edges.parquet", "people.parquet"]  # no stale tables
    assert _leftovers(tmp_path) == []
    assert_same(read_dataset(folder), small)


def test_written_files_get_the_usual_permissions(tmp_path, tiny):
    mask = os.umask(0o022)
    try:
        folder = write_dataset(tiny, tmp_path / "ds")
        assert (folder.stat().st_mode & 0o777) == 0o755
        assert all((p.stat().st_mode & 0o777) == 0o644 for p in folder.iterdir())
    finally:
        os.umask(mask)


def test_bad_names_and_formats_are_refused(tmp_path, tiny):
    with pytest.raises(GraphkitError, match="use a .parquet or .csv file name"):
        write_table(tiny.people, tmp_path / "people.json")
    with pytest.raises(GraphkitError, match="format must be one of"):
        write_dataset(tiny, tmp_path / "ds", format="json")
    (tmp_path / "people.json").write_text("{}")
    with pytest.raises(DataFileError, match="unsupported file type '.json'"):
        read_table(tmp_path / "people.json")


def test_timestamps_keep_microseconds_and_instants_across_zones(tmp_path):
    t0 = datetime(2024, 3, 31, 1, 59, 59, 999999, tzinfo=UTC)
    g = TopicGraph.from_tables(
        pl.DataFrame({"person_id": ["a", "b"]}),
        pl.DataFrame({"src": ["a", "a"], "dst": ["b", "b"], "kind": ["mentions", "mentions"],
                      "ts": pl.Series([t0, t0 + timedelta(microseconds=1)]).dt.convert_time_zone("Europe/Paris")}),
    )
    assert g.edges["ts"].dtype == pl.Datetime("us", "UTC") and g.edges["ts"][0] == t0
    for fmt in ("parquet", "csv"):
        back = read_dataset(write_dataset(g, tmp_path / fmt, format=fmt)).edges["ts"]
        assert back.to_list() == [t0, t0 + timedelta(microseconds=1)]
