"""Adapters: the loaded counts agree with what each dataset's SOURCE file says, and bad files are named.

Counts are read out of the SOURCE files themselves (not copied here), so a
test fails if the adapter and the documented data part ways. Tests that need
``shared/datasets`` skip with the reason when it is absent.
"""

from __future__ import annotations

import gzip
import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from graphkit import read_dataset, write_dataset
from graphkit.errors import DataFileError, ValidationError
from graphkit.io.adapters import bitcoin_otc, cdnow, ciao, ciaodvd, higgs

UTC = timezone.utc


def number(text: str, pattern: str) -> int:
    """The integer (written with thousands commas) captured by ``pattern`` in ``text``."""
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not found in the SOURCE file: has it changed?"
    return int(m.group(1).replace(",", ""))


def source(folder: Path) -> str:
    files = sorted(folder.glob("SOURCE*"))
    assert files, f"no SOURCE file in {folder}"
    return files[0].read_text(encoding="utf-8")


def inactive(g) -> int:
    return int((g.activity().count_nonzero(axis=1) == 0).sum())


# ------------------------------------------------------------------ Higgs
@pytest.fixture(scope="module")
def higgs_graph(shared_datasets):
    return higgs.load(shared_datasets / "higgs_twitter")


def test_higgs_counts_match_source(higgs_graph, shared_datasets):
    text = source(shared_datasets / "higgs_twitter")
    g = higgs_graph
    kinds = dict(g.edges.group_by("kind").len().iter_rows())
    assert g.edges.height == number(text, r"([\d,]+) lines")
    assert kinds == {"shares": number(text, r"RT ([\d,]+)"), "mentions": number(text, r"MT ([\d,]+)"),
                     "replies": number(text, r"RE ([\d,]+)")}
    assert g.people.height == number(text, r"([\d,]+) users")
    assert g.topics == ("higgs",)
    assert g.edges["ts"].min() == datetime(2012, 7, 1, 0, 2, 52, tzinfo=UTC)
    assert g.edges["ts"].max() == datetime(2012, 7, 7, 23, 59, 53, tzinfo=UTC)
    assert "2012-07-01 00:02:52 .. 2012-07-07 23:59:53 UTC" in text
    assert g.transactions.height == 0 and g.people["customer_id"].null_count() == g.people.height


def test_higgs_actions_aggregate_to_the_published_networks(higgs_graph, shared_datasets):
    """The weighted retweet / reply / mention networks are the actions counted per (actor, target) pair."""
    text = source(shared_datasets / "higgs_twitter")
    for layer, kind in (("retweet", "shares"), ("reply", "replies"), ("mention", "mentions")):
        path = shared_datasets / "higgs_twitter" / f"higgs-{layer}_network.edgelist.gz"
        with gzip.open(path) as fh:
            net = pl.read_csv(fh.read(), separator=" ", has_header=False, new_columns=["src", "dst", "w"],
                              schema_overrides={"src": pl.String, "dst": pl.String, "w": pl.Int64})
        assert net.height == number(text, rf"{layer}_network\.edgelist\.gz\s+[\d,]+ B\s+([\d,]+)")
        ours = higgs_graph.edges.filter(pl.col("kind") == kind).group_by("src", "dst").agg(w=pl.len().cast(pl.Int64))
        assert ours.sort("src", "dst").equals(net.sort("src", "dst"))


def test_higgs_inactive_accounts_are_the_ones_who_never_act(higgs_graph):
    g = higgs_graph
    actors = g.edges["src"].unique()
    assert inactive(g) == g.people.height - actors.len()
    assert inactive(g) == g.people["last_active"].null_count() > 0
    selfloops = g.edges.filter(pl.col("src") == pl.col("dst")).group_by("kind").len()
    assert dict(selfloops.iter_rows()) == {"mentions": 7081, "replies": 507}  # kept, as the module says


# ------------------------------------------------------------------ Bitcoin OTC
def test_bitcoin_otc_counts_signs_and_weights_match_source(shared_datasets):
    folder = shared_datasets / "bitcoin_otc"
    text = source(folder)
    g = bitcoin_otc.load(folder)
    assert g.edges.height == number(text, r"([\d,]+) edges")
    assert g.people.height == number(text, r"([\d,]+) nodes")
    assert (g.edges["sign"] == -1).sum() == number(text, r"\(([\d,]+) negative\)")
    assert set(g.edges["kind"]) == {"mentions"} and g.topics == ("bitcoin-otc",)
    assert g.edges["weight"].min() == 1.0 and g.edges["weight"].max() == 10.0
    assert g.edges["ts"].min().date().isoformat() == "2010-11-08"
    assert g.edges["ts"].max().date().isoformat() == "2016-01-25"
    assert "time 2010-11-08 .. 2016-01-25" in text
    # rating = sign * weight, row by row, against the file itself
    raw = pl.read_csv(folder / bitcoin_otc.FILE, has_header=False, new_columns=["s", "t", "r", "time"])
    assert (g.edges["sign"].cast(pl.Int64) * g.edges["weight"].cast(pl.Int64)).to_list() == raw["r"].to_list()
    assert inactive(g) == g.people.height - raw["s"].n_unique()


# ------------------------------------------------------------------ CDNOW
def test_cdnow_counts_money_and_dates_match_source(shared_datasets):
    folder = shared_datasets / "cdnow"
    text = source(folder)
    g = cdnow.load(folder)
    t = g.transactions
    assert t.height == number(text, r"([\d,]+) transactions")
    assert g.people.height == number(text, r"([\d,]+) customers") == g.people["customer_id"].n_unique()
    total = re.search(r"dollar_value total ([\d,]+\.\d\d)", text).group(1).replace(",", "")
    assert round(t["amount"].sum(), 2) == float(total)
    assert (t["amount"] == 0).sum() == number(text, r"\(([\d,]+) zero-value rows\)")
    assert t["ts"].min().strftime("%Y%m%d") + ".." + t["ts"].max().strftime("%Y%m%d") in text
    assert t["quantity"].min() >= 1
    # the stated cohort: every customer's first purchase is in Q1 1997
    assert g.people["joined"].max() < datetime(1997, 4, 1, tzinfo=UTC)
    assert set(g.edges["kind"]) == {"member_of"} and g.edges.height == g.people.height
    assert g.adjacency(("follows", "mentions", "replies", "shares", "referred")).nnz == 0  # no invented influence


# ------------------------------------------------------------------ CiaoDVD
def test_ciaodvd_counts_match_source(shared_datasets):
    folder = shared_datasets / "ciaodvd"
    text = source(folder)
    g = ciaodvd.load(folder)
    kinds = dict(g.edges.group_by("kind").len().iter_rows())
    raters = number(text, r"([\d,]+) users \(ids 1")
    trusters = number(text, r"among ([\d,]+) users")
    both = number(text, r"([\d,]+) trust-network users also rate")
    assert kinds == {"follows": number(text, r"([\d,]+) directed edges"), "reviews": g.transactions.height}
    assert g.transactions.height == number(text, r"\| `movie-ratings.txt` \| [\d,]+ \| ([\d,]+)")
    assert g.people.height == raters + trusters - both
    assert g.items.height == number(text, r"([\d,]+) movies")
    assert len(g.topics) == number(text, r"(\d+) genre ids")
    per_genre = dict(g.edges.filter(pl.col("kind") == "reviews").group_by("topic").len().iter_rows())
    for genre in range(1, 18):
        assert per_genre[ciaodvd.genre_topic(genre)] == number(text, rf"\| {genre} \| ([\d,]+) \|")
    low = number(text, r"1: ([\d,]+);") + number(text, r"2: ([\d,]+);")
    assert (g.edges.filter(pl.col("kind") == "reviews")["sign"] == -1).sum() == low
    repeated = g.edges.filter(pl.col("kind") == "reviews").group_by("src", "dst").len().filter(pl.col("len") > 1)
    # SOURCE.md's "320 pairs occur more than once" counts the repeats (rows beyond the first: 303 pairs)
    assert (repeated["len"] - 1).sum() == number(text, r"([\d,]+) \(user, movie\) pairs occur more than once")
    dates = g.transactions["ts"]
    assert f"from {dates.min().date()} to {dates.max().date()}" in text


# ------------------------------------------------------------------ Ciao (the lead's adapter, same checks)
def test_ciao_counts_match_source(shared_datasets):
    folder = shared_datasets / "ciao"
    text = source(folder)
    g = ciao.load(folder)
    kinds = dict(g.edges.group_by("kind").len().iter_rows())
    assert kinds["reviews"] == g.transactions.height == number(text, r"rating\.mat\s+([\d,]+) x 5")
    assert kinds["follows"] == number(text, r"([\d,]+) directed trust edges")
    assert g.people.height == number(text, r"([\d,]+) reviewing users")
    assert g.items.height == number(text, r"([\d,]+) products")
    assert len(g.topics) == 28


def test_an_adapted_graph_round_trips_through_the_store(tmp_path, shared_datasets):
    g = cdnow.load(shared_datasets / "cdnow")
    back = read_dataset(write_dataset(g, tmp_path / "cdnow"))
    for name in ("people", "edges", "items", "communities", "transactions"):
        assert getattr(back, name).equals(getattr(g, name)), name


# ------------------------------------------------------------------ bad folders and files (no shared data needed)
@pytest.mark.parametrize("module, needs", [
    (higgs, higgs.ACTIVITY_FILE), (bitcoin_otc, bitcoin_otc.FILE), (cdnow, cdnow.FILE), (ciaodvd, ciaodvd.RATINGS),
])
def test_missing_files_are_named(tmp_path, module, needs):
    with pytest.raises(DataFileError, match="is not a folder"):
        module.load(tmp_path / "nowhere")
    with pytest.raises(DataFileError) as info:
        module.load(tmp_path)
    assert info.value.path == str(tmp_path / needs) and "missing" in str(info.value)


def test_bitcoin_otc_malformed_file_is_named(tmp_path):
    (tmp_path / bitcoin_otc.FILE).write_text("6,2,4,1289241912\n6,5,two,1289241942\n")
    with pytest.raises(DataFileError) as info:
        bitcoin_otc.load(tmp_path)
    assert info.value.path == str(tmp_path / bitcoin_otc.FILE)


def test_bitcoin_otc_zero_rating_is_refused_not_guessed(tmp_path):
    (tmp_path / bitcoin_otc.FILE).write_text("6,2,4,1289241912\n6,5,0,1289241942\n")
    with pytest.raises(ValidationError) as info:
        bitcoin_otc.load(tmp_path)
    assert info.value.column == "sign" and info.value.rows == (2,)
    assert info.value.file == str(tmp_path / bitcoin_otc.FILE)


def test_higgs_unknown_action_code_is_refused(tmp_path):
    with gzip.open(tmp_path / higgs.ACTIVITY_FILE, "wt") as fh:
        fh.write("1 2 1341100972 RT\n3 1 1341100980 LIKE\n")
    with pytest.raises(ValidationError) as info:
        higgs.load(tmp_path)
    assert (info.value.column, info.value.rows) == ("kind", (2,)) and "'LIKE'" in str(info.value)


def test_higgs_small_file_maps_codes_and_inactive(tmp_path):
    with gzip.open(tmp_path / higgs.ACTIVITY_FILE, "wt") as fh:
        fh.write("1 2 1341100972 RT\n3 1 1341100980 MT\n3 2 1341100990 RE\n")
    g = higgs.load(tmp_path)
    assert g.edges.select("src", "dst", "kind").rows() == [("1", "2", "shares"), ("3", "1", "mentions"),
                                                          ("3", "2", "replies")]
    assert g.people["person_id"].to_list() == ["1", "2", "3"]
    assert g.people["last_active"].is_null().to_list() == [False, True, False]  # 2 never acts
    assert inactive(g) == 1


def test_cdnow_bad_line_is_named_with_its_row(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / cdnow.FILE).write_text(" customer_id  date number_of_cds  dollar_value\n"
                                       " 00001 19970101  1   11.77\n 00002 1997-01-12  1   12.00\n")
    with pytest.raises(DataFileError, match=r"1 line\(s\) are not .* data rows \[2\]"):
        cdnow.load(tmp_path)


def test_ciaodvd_small_files_map_trust_reviews_and_bad_dates(tmp_path):
    (tmp_path / ciaodvd.TRUSTS).write_text("1,3,1\n3,1,1")
    (tmp_path / ciaodvd.RATINGS).write_text("1,10,2,1,5,2001-01-02\n2,11,13,2,1,2002-03-04\n2,10,2,3,3,2002-05-06")
    g = ciaodvd.load(tmp_path)
    assert g.people["person_id"].to_list() == ["1", "2", "3"]
    assert g.people["joined"].is_null().to_list() == [False, False, True]  # 3 only trusts
    assert g.items.rows() == [("10", "genre-02", None, None), ("11", "genre-13", None, None)]
    assert g.edges.filter(pl.col("kind") == "reviews")["sign"].to_list() == [1, -1, 1]
    (tmp_path / ciaodvd.RATINGS).write_text("1,10,2,1,5,2001-01-02\n2,11,13,2,1,someday")
    with pytest.raises(ValidationError) as info:
        ciaodvd.load(tmp_path)
    # the first table to hold the date is people (joined = first review): the file and value are named
    assert info.value.file == str(tmp_path / ciaodvd.RATINGS) and "'someday'" in str(info.value)
    assert (info.value.table, info.value.column, info.value.rows) == ("people", "joined", (2,))
    (tmp_path / ciaodvd.RATINGS).write_text("1,10,2,1,5,2001-01-02\n2,10,13,2,1,2001-01-03")  # movie in 2 genres
    with pytest.raises(ValidationError) as info:
        ciaodvd.load(tmp_path)
    assert (info.value.table, info.value.column) == ("items", "item_id")
