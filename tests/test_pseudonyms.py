"""Pseudonymised datasets: no raw identifier left, joins still hold, results the same up to the names, and the
key's holder (only) can re-identify."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import graphkit as gk
from graphkit.cli import main
from graphkit.errors import GraphkitError
from graphkit.io.erase import ERASURE_KEY_ENV, erase
from graphkit.io.files import read_dataset, read_table, write_dataset
from graphkit.marketing.common import example_market
from graphkit.model.pseudonyms import PSEUDONYM_KEY_ENV, pseudonym, pseudonym_table, pseudonymise

KEY = "test-pseudonym-key"


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, KEY)
    monkeypatch.setenv(ERASURE_KEY_ENV, "test-erasure-key")


def _market_with_handles_and_orders():
    g = example_market()
    handles = pl.DataFrame({"person_id": ["lea", "lea", "zoe"], "channel": ["x", "insta", "x"],
                            "handle": ["@lea", "@lea.b", "@zoe"]})
    tx = g.transactions.with_columns(order_id=pl.concat_str(pl.lit("order-"), pl.col("customer_id")))
    return g.replace(handles=handles, transactions=tx)


def _identifiers(g) -> set[str]:
    ids = set(g.people["person_id"].to_list()) | set(g.people["customer_id"].drop_nulls().to_list())
    ids |= set(g.handles["handle"].to_list()) | set(g.transactions["order_id"].drop_nulls().to_list())
    return ids | set(g.people["name"].drop_nulls().to_list())


def _text(df: pl.DataFrame) -> set[str]:
    return {str(v) for c in df.columns for v in df[c].drop_nulls().to_list()}


def test_no_raw_identifier_is_left_and_joins_hold():
    g = _market_with_handles_and_orders()
    p = pseudonymise(g)
    raw = _identifiers(g)
    for name, df in p.tables().items():
        assert not raw & _text(df), f"{name} keeps raw ids: {sorted(raw & _text(df))[:3]}"
    assert p.people["name"].null_count() == p.people.height
    # one id, one pseudonym, in every table
    lea, c_lea = pseudonym("lea", "person"), pseudonym("c_lea", "customer")
    assert p.people.filter(pl.col("person_id") == lea)["customer_id"].to_list() == [c_lea]
    assert set(p.handles.filter(pl.col("person_id") == lea)["handle"].to_list()) == {
        pseudonym("@lea", "handle"), pseudonym("@lea.b", "handle")}
    assert p.edges.filter(pl.col("src") == lea).height == g.edges.filter(pl.col("src") == "lea").height
    assert p.edges.filter(pl.col("dst") == lea).height == g.edges.filter(pl.col("dst") == "lea").height
    assert p.transactions.filter(pl.col("customer_id") == c_lea).height == \
        g.transactions.filter(pl.col("customer_id") == "c_lea").height
    # items and communities keep their ids: reviews and memberships still point at them
    assert_frame_equal(p.items, g.items)
    kept = ~pl.col("kind").is_in(["follows", "mentions", "replies", "shares", "referred"])
    assert p.edges.filter(kept)["dst"].to_list() == g.edges.filter(kept)["dst"].to_list()
    assert p.transactions.select("item_id", "amount", "ts").equals(g.transactions.select("item_id", "amount", "ts"))


def test_results_are_the_same_up_to_the_names():
    g = _market_with_handles_and_orders()
    p = pseudonymise(g)
    table = pseudonym_table(g, kinds=("person", "customer"))
    people = dict(table.filter(pl.col("kind") == "person").select("value", "pseudonym").iter_rows())
    raw = gk.topic_influence(g).table
    pseudo = gk.topic_influence(p).table
    back = pseudo.with_columns(pl.col("person_id").replace_strict({v: k for k, v in people.items()}))
    ties = ["rank", "percentile"]  # ties are broken by id, so tied people may swap ranks: the rest is equal
    assert_frame_equal(back.drop(ties).sort("topic", "person_id"), raw.drop(ties).sort("topic", "person_id"),
                       check_exact=True)
    untied = raw.filter(pl.col("score").is_unique().over("topic"))
    assert_frame_equal(back.join(untied.select("topic", "person_id"), on=["topic", "person_id"]).sort("topic", "rank"),
                       untied.sort("topic", "rank"), check_exact=True)
    loyal = gk.loyalty(p)
    customers = dict(table.filter(pl.col("kind") == "customer").select("pseudonym", "value").iter_rows())
    assert_frame_equal(loyal.with_columns(pl.col("customer_id").replace_strict(customers),
                                          pl.col("person_id").replace_strict({v: k for k, v in people.items()}))
                       .sort("customer_id"), gk.loyalty(g).sort("customer_id"), check_exact=True)


def test_the_key_decides():
    g = example_market()
    assert pseudonym("lea", "person", key="a") != pseudonym("lea", "person", key="b")
    assert pseudonym("lea", "person") != pseudonym("lea", "customer")  # kinds are kept apart
    assert pseudonymise(g).people.equals(pseudonymise(g).people)  # deterministic
    with pytest.raises(GraphkitError, match="kind must be one of"):
        pseudonym("lea", "email")


def test_no_key_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.delenv(PSEUDONYM_KEY_ENV)
    with pytest.raises(GraphkitError, match=PSEUDONYM_KEY_ENV):
        pseudonymise(example_market())


def test_cli_writes_a_pseudonymised_dataset_and_the_key_holders_table(tmp_path, capsys):
    g = _market_with_handles_and_orders()
    src = write_dataset(g, tmp_path / "raw")
    out, mapping = tmp_path / "pseudo", tmp_path / "keyholder" / "map.csv"
    assert main(["pseudonymise", str(src), str(out), "--mapping", str(mapping), "--json", "--quiet"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["people"] == 16 and answer["handles"] == 3 and answer["written"]["mapping"] == str(mapping)
    p = read_dataset(out)
    raw = _identifiers(g)
    for f in out.iterdir():
        if f.suffix == ".parquet":
            assert not raw & _text(read_table(f)), f.name
    # the key's holder re-identifies with the table: every pseudonym in the data maps back to one id
    table = read_table(mapping)
    back = p.people.join(table.filter(pl.col("kind") == "person"), left_on="person_id", right_on="pseudonym")
    assert sorted(back["value"].to_list()) == sorted(g.people["person_id"].to_list())
    assert set(table["kind"].to_list()) == {"person", "customer", "handle", "order"}


def test_cli_refuses_without_the_key_and_writes_nothing(tmp_path, capsys, monkeypatch):
    src = write_dataset(example_market(), tmp_path / "raw")
    monkeypatch.delenv(PSEUDONYM_KEY_ENV)
    assert main(["pseudonymise", str(src), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: set the environment variable {PSEUDONYM_KEY_ENV}") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_erase_from_a_pseudonymised_dataset_by_the_raw_id(tmp_path, capsys):
    src = write_dataset(example_market(), tmp_path / "raw")
    out = tmp_path / "pseudo"
    assert main(["pseudonymise", str(src), str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["erase", "lea", "--source", str(out), "--json"]) == 0  # the raw id is not in it
    assert json.loads(capsys.readouterr().out)["total"] == 0
    assert main(["erase", "lea", "--source", str(out), "--pseudonymised", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"][str(out)]["people"] == 1
    left = read_dataset(out)
    assert pseudonym("lea", "person") not in left.people["person_id"].to_list()
    assert pseudonym("c_lea", "customer") not in left.transactions["customer_id"].to_list()
    assert erase([pseudonym("lea", "person")], out).total == 0
