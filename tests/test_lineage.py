"""Lineage: every run records the SHA-256 of each input table, the graphkit version and the parameters."""

from __future__ import annotations

import json

import polars as pl

from graphkit.cli import main
from graphkit.io.files import write_dataset
from graphkit.io.lineage import input_fingerprints, table_fingerprint
from graphkit.marketing.common import example_market
from graphkit.version import __version__


def test_fingerprint_sees_every_value_and_ignores_row_order():
    df = pl.DataFrame({"a": [1, 2, None], "b": ["x", "y", "z"]})
    assert table_fingerprint(df) == table_fingerprint(df.reverse())
    assert table_fingerprint(df) != table_fingerprint(df.with_columns(a=pl.Series([1, 2, 3])))
    assert table_fingerprint(df) != table_fingerprint(df.rename({"b": "c"}))
    assert table_fingerprint(df) != table_fingerprint(df.head(2))


def test_two_runs_on_changed_data_differ_in_the_changed_table_only(tmp_path, capsys):
    market = example_market()
    first = write_dataset(market, tmp_path / "one")
    changed = market.replace(transactions=market.transactions.head(market.transactions.height - 1))
    second = write_dataset(changed, tmp_path / "two")
    scores = tmp_path / "scores"
    for i, folder in enumerate((first, second)):
        assert main(["score", "--source", str(folder), "--write", str(scores), "--score", "topic_influence",
                     "--run-id", f"r{i}", "--quiet", "--json"]) == 0
    capsys.readouterr()
    assert main(["runs", str(scores), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["count"] == 2 and [r["run_id"] for r in listed["runs"]] == ["r0", "r1"]
    assert [r["current"] for r in listed["runs"]] == [False, True]
    one, two = (r["parameters"]["inputs"] for r in listed["runs"])
    assert one == input_fingerprints(market) and two == input_fingerprints(changed)
    assert {t for t in one if one[t] != two[t]} == {"transactions"}
    assert all(r["graphkit_version"] == __version__ for r in listed["runs"])
    assert listed["runs"][1]["parameters"]["score"] == "topic_influence"
    assert main(["runs", str(scores)]) == 0
    text = capsys.readouterr().out
    assert "* r1" in text and "transactions" in text


def test_runs_of_a_folder_that_is_not_a_score_folder_is_one_error(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("mine")
    assert main(["runs", str(tmp_path)]) == 1
    assert "not a score folder" in capsys.readouterr().err
