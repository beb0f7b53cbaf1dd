"""Loyalty (recency, frequency, monetary, tenure, quantile scores) and the influential-loyal-customers query."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import TopicGraph
from graphkit.errors import GraphkitError
from graphkit.marketing.loyalty import (
    LOYALTY_COLUMNS,
    RESULT_COLUMNS,
    influential_loyal_customers,
    loyalty,
)
from graphkit.scoring.registry import DEFAULT_SCORE

UTC = dt.timezone.utc


def _graph(transactions: dict, customers=("c1", "c2", "c3", "c4", "c5")) -> TopicGraph:
    people = pl.DataFrame({"person_id": [f"p{c[1:]}" for c in customers] + ["lurker"],
                           "customer_id": list(customers) + [None]})
    edges = pl.DataFrame({"src": ["p" + customers[0][1:]], "dst": ["lurker"], "kind": ["follows"]})
    items = pl.DataFrame({"item_id": ["pan", "book"], "topic": ["cooking", "frogs"]})
    return TopicGraph.from_tables(people, edges, items=items, transactions=pl.DataFrame(transactions))


# ----------------------------------------------------------------- loyalty
def test_loyalty_by_hand(tiny):
    t = loyalty(tiny, as_of="2024-02-11")
    assert t.columns == list(LOYALTY_COLUMNS)
    assert t.select("customer_id", "person_id", "recency_days", "frequency", "monetary", "tenure_days").rows() == [
        ("c1", "ann", 10.0, 2, 42.5, 41.0),
        ("c2", "bob", 8.0, 1, 30.0, 8.0),
    ]
    # two customers: the better one is above half of the base -> quintile 3, the other 1
    assert t.select("r_score", "f_score", "m_score").rows() == [(1, 3, 3), (3, 1, 1)]
    assert t["loyalty_score"].to_list() == [(1 + 3 + 3 - 3) / 12, (3 + 1 + 1 - 3) / 12]


def test_default_as_of_is_latest_purchase(tiny):
    assert loyalty(tiny).equals(loyalty(tiny, as_of=dt.datetime(2024, 2, 3, tzinfo=UTC)))
    assert loyalty(tiny)["recency_days"].to_list() == [2.0, 0.0]


def test_as_of_forms_agree(tiny):
    a = loyalty(tiny, as_of="2024-02-11")
    assert a.equals(loyalty(tiny, as_of=dt.date(2024, 2, 11)))
    assert a.equals(loyalty(tiny, as_of=dt.datetime(2024, 2, 11)))  # naive = UTC
    assert a.equals(loyalty(tiny, as_of="2024-02-11T01:00:00+01:00"))


def test_orders_and_unknown_amounts():
    g = _graph({
        "customer_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c3"],
        "item_id": ["pan"] * 7,
        "amount": [1.0, 2.0, None, 4.0, None, None, 0.0],
        "ts": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01", "2024-01-02", "2024-01-01"],
        "order_id": ["A", "A", None, None, None, None, "Z"],
    })
    t = loyalty(g).sort("customer_id")
    # c1: order A (2 lines) + two lines without order id = 3 orders; unknown amounts are skipped in the sum
    assert t.select("customer_id", "frequency", "monetary").rows() == [("c1", 3, 7.0), ("c2", 2, None), ("c3", 1, 0.0)]
    # monetary unknown -> no m_score, loyalty from r and f only
    c2 = t.row(1, named=True)
    assert c2["m_score"] is None
    assert c2["loyalty_score"] == (c2["r_score"] + c2["f_score"] - 2) / 8
    # m_score ranks only customers whose monetary is known (2 of them)
    assert t.filter(pl.col("m_score").is_not_null())["m_score"].to_list() == [3, 1]


def test_window_and_as_of_bounds():
    g = _graph({
        "customer_id": ["c1", "c1", "c1", "c2", "c3"],
        "item_id": ["pan"] * 5,
        "amount": [100.0, 1.0, 50.0, 3.0, 9.0],
        "ts": ["2023-01-01", "2024-01-05", "2024-03-01", "2023-06-01", "2024-01-09"],
    })
    t = loyalty(g, as_of="2024-01-10", window_days=30)
    # c2 has no purchase in the window: no row; c1's purchase after as_of is ignored
    assert t["customer_id"].to_list() == ["c1", "c3"]
    c1 = t.row(0, named=True)
    assert (c1["frequency"], c1["monetary"], c1["recency_days"]) == (1, 1.0, 5.0)
    assert c1["tenure_days"] == (dt.date(2024, 1, 10) - dt.date(2023, 1, 1)).days  # tenure sees all history
    # the window is open at its start: a purchase exactly window_days before as_of is out
    assert loyalty(g, as_of="2024-01-10", window_days=5)["customer_id"].to_list() == ["c3"]
    assert loyalty(g, as_of="2024-01-10", window_days=5.5)["customer_id"].to_list() == ["c1", "c3"]


def test_fractional_days():
    g = _graph({"customer_id": ["c1"], "item_id": ["pan"], "ts": ["2024-01-01T06:00:00Z"]})
    assert loyalty(g, as_of="2024-01-02T00:00:00Z")["recency_days"].to_list() == [0.75]


def test_ties_share_scores_and_row_order_does_not_matter():
    tx = pl.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c5"],
        "item_id": ["pan"] * 6,
        "amount": [5.0, 5.0, 5.0, 1.0, 2.0, 2.0],
        "ts": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-04"],
    })
    a = loyalty(_graph(tx.to_dict()))
    b = loyalty(_graph(tx.reverse().to_dict()))
    assert a.equals(b)
    by = {r["customer_id"]: r for r in a.iter_rows(named=True)}
    assert by["c1"]["r_score"] == by["c2"]["r_score"] == 1  # tied last purchase, the oldest
    assert [by[c]["m_score"] for c in ("c1", "c2", "c3", "c4", "c5")] == [3, 3, 3, 1, 2]
    assert by["c5"]["f_score"] == 5 and {by[c]["f_score"] for c in ("c1", "c2", "c3", "c4")} == {1}


def test_ciao_quintiles(ciao):
    t = loyalty(ciao)
    assert t.height == ciao.transactions["customer_id"].n_unique()
    assert t["monetary"].null_count() == t.height  # Ciao has no prices
    shares = t.group_by("r_score").len().sort("r_score")["len"] / t.height
    assert shares.to_list() == pytest.approx([0.2] * 5, abs=0.01)  # recency has few ties on Ciao
    assert t["loyalty_score"].min() == 0.0 and t["loyalty_score"].max() == 1.0
    assert t["frequency"].sum() == ciao.transactions.height  # no order ids: one order per line


def _reference_loyalty(rows, as_of, window_days):
    """Plain-Python loyalty, written independently from the polars one."""
    start = as_of - dt.timedelta(days=window_days) if window_days is not None else None
    per: dict[str, dict] = {}
    for i, (cust, amount, ts, order) in enumerate(rows):
        if ts > as_of:
            continue
        d = per.setdefault(cust, {"first": ts, "last": None, "orders": set(), "amounts": []})
        d["first"] = min(d["first"], ts)
        if start is not None and ts <= start:
            continue
        d["last"] = ts if d["last"] is None else max(d["last"], ts)
        d["orders"].add(("o", order) if order is not None else ("line", i))
        if amount is not None:
            d["amounts"].append(amount)
    per = {c: d for c, d in per.items() if d["last"] is not None}

    def score(values):
        known = [v for v in values.values() if v is not None]
        return {c: None if v is None else 1 + (5 * sum(1 for w in known if w < v)) // len(known)
                for c, v in values.items()}

    def days(a):
        return (as_of - a) / dt.timedelta(microseconds=1) / 86_400_000_000

    r = score({c: d["last"] for c, d in per.items()})
    f = score({c: len(d["orders"]) for c, d in per.items()})
    m = score({c: (sum(d["amounts"]) if d["amounts"] else None) for c, d in per.items()})
    out = []
    for c in sorted(per):
        d = per[c]
        ls = (r[c] + f[c] - 2) / 8 if m[c] is None else (r[c] + f[c] + m[c] - 3) / 12
        out.append((c, days(d["last"]), len(d["orders"]), r[c], f[c], m[c], ls, days(d["first"])))
    return out


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2", "c3", "c4", "c5"]),
            st.one_of(st.none(), st.integers(0, 4).map(float)),
            st.integers(0, 40),
            st.one_of(st.none(), st.sampled_from(["A", "B"])),
        ),
        min_size=1, max_size=25,
    ),
    window=st.one_of(st.none(), st.integers(1, 30)),
    as_of_day=st.integers(10, 45),
)
def test_loyalty_matches_reference(rows, window, as_of_day):
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    as_of = base + dt.timedelta(days=as_of_day)
    data = [(c, a, base + dt.timedelta(days=d), o) for c, a, d, o in rows]
    g = _graph({
        "customer_id": [r[0] for r in data], "item_id": ["pan"] * len(data), "amount": [r[1] for r in data],
        "ts": [r[2] for r in data], "order_id": [(f"{r[0]}-{r[3]}" if r[3] else None) for r in data],
    })
    got = loyalty(g, as_of=as_of, window_days=window).select(
        "customer_id", "recency_days", "frequency", "r_score", "f_score", "m_score", "loyalty_score", "tenure_days"
    ).rows()
    ref_rows = [(c, a, t, f"{c}-{o}" if o else None) for c, a, t, o in data]
    assert got == _reference_loyalty(ref_rows, as_of, window)


def test_loyalty_bad_arguments(tiny):
    with pytest.raises(GraphkitError, match="window_days must be a positive"):
        loyalty(tiny, window_days=0)
    with pytest.raises(GraphkitError, match="as_of must be an ISO 8601"):
        loyalty(tiny, as_of="last tuesday")
    no_tx = TopicGraph.from_tables(tiny.people, tiny.edges, items=tiny.items, communities=tiny.communities)
    assert loyalty(no_tx).height == 0  # nothing bought: no rows, and no date needed
    assert loyalty(no_tx, as_of="2024-01-01").height == 0


# ------------------------------------------------- influential loyal customers
def _influence(topic: str, person_ids: list[str], n_people: int | None = None) -> pl.DataFrame:
    """A hand-made influence table in the topic_influence contract: first id is the most influential."""
    n = n_people or len(person_ids)
    k = len(person_ids)
    return pl.DataFrame({
        "person_id": person_ids,
        "topic": [topic] * k,
        "score": [1.0 / (i + 1) for i in range(k)],
        "rank": list(range(1, k + 1)),
        "percentile": [100.0 * (1 - i / n) for i in range(k)],
        "audience": [(7 * i) % 11 for i in range(k)],
        "active_audience": [(3 * i) % 5 for i in range(k)],
        "credibility": [1.0] * (k - 1) + [None],
    }, schema_overrides={"rank": pl.UInt32, "audience": pl.UInt32, "active_audience": pl.UInt32})


@pytest.fixture
def shop() -> TopicGraph:
    # c1 loyal and recent; c2 frequent but long gone; c3 middling; c4 one old purchase; c5 loyal
    tx = {
        "customer_id": ["c1"] * 4 + ["c2"] * 5 + ["c3"] * 2 + ["c4"] + ["c5"] * 3,
        "item_id": ["pan"] * 15,
        "amount": [10.0] * 4 + [5.0] * 5 + [8.0] * 2 + [1.0] + [30.0] * 3,
        "ts": ["2024-03-01", "2024-03-05", "2024-03-08", "2024-03-10",
               "2023-01-01", "2023-01-02", "2023-01-03", "2023-01-04", "2023-01-05",
               "2024-02-01", "2024-03-09", "2023-06-01", "2024-03-02", "2024-03-06", "2024-03-09"],
    }
    return _graph(tx)


def test_query_filters_and_explains(shop):
    infl = _influence("cooking", ["lurker", "p2", "p1", "p5", "p3", "p4"])
    out = influential_loyal_customers(shop, topics="cooking", influence=infl, top_percentile=70, min_loyalty=0.6)
    assert out.columns == list(RESULT_COLUMNS)
    loyal = loyalty(shop).select("person_id", "loyalty_score")
    # top 70 % of 6 people = ranks 1..4; lurker is not a customer; p2 is not loyal enough
    expected = (infl.filter(pl.col("rank") <= 4).join(loyal, on="person_id")
                .filter(pl.col("loyalty_score") >= 0.6))
    assert set(out["person_id"]) == set(expected["person_id"]) == {"p1", "p5"}
    assert loyal.filter(pl.col("person_id") == "p2")["loyalty_score"].item() == 0.5  # old purchases
    row = out.row(0, named=True)
    infl_row = infl.filter(pl.col("person_id") == row["person_id"]).row(0, named=True)
    for col in ("score", "rank", "percentile", "audience", "active_audience", "credibility"):
        assert row[col] == infl_row[col]
    assert row["fit"] == row["percentile"] / 100 * row["loyalty_score"]
    assert out["fit"].is_sorted(descending=True)
    assert out["loyal_rank"].to_list() == [1, 2]


def test_query_ranks_by_influence_and_loyalty_together(shop):
    # p5 is more influential than p1, but p1 is more loyal: fit decides, not influence alone
    infl = _influence("cooking", ["p5", "p1"], n_people=2).with_columns(percentile=pl.Series([100.0, 99.0]))
    loyal = {r["person_id"]: r["loyalty_score"] for r in loyalty(shop).iter_rows(named=True)}
    assert loyal["p1"] * 0.99 > loyal["p5"] * 1.0
    out = influential_loyal_customers(shop, topics="cooking", influence=infl, top_percentile=100, min_loyalty=0)
    assert out["person_id"].to_list() == ["p1", "p5"]


def test_query_thresholds_are_monotone(shop):
    infl = _influence("cooking", ["p1", "p2", "p3", "p4", "p5"])
    sizes = [influential_loyal_customers(shop, topics="cooking", influence=infl, top_percentile=p, min_loyalty=0).height
             for p in (20, 40, 60, 80, 100)]
    assert sizes == [1, 2, 3, 4, 5]
    sizes = [influential_loyal_customers(shop, topics="cooking", influence=infl, top_percentile=100, min_loyalty=m).height
             for m in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 5 and sizes[-1] < 5


def test_query_several_topics_and_limit(shop):
    infl = pl.concat([_influence("cooking", ["p1", "p2", "p3", "p4", "p5"]),
                      _influence("frogs", ["p5", "p4", "p3", "p2", "p1"])])
    out = influential_loyal_customers(shop, topics=["frogs", "cooking"], influence=infl, top_percentile=100, min_loyalty=0)
    assert out.group_by("topic").len().sort("topic").rows() == [("cooking", 5), ("frogs", 5)]
    assert out["topic"].to_list() == ["cooking"] * 5 + ["frogs"] * 5
    assert out.filter(pl.col("topic") == "frogs")["loyal_rank"].to_list() == [1, 2, 3, 4, 5]
    limited = influential_loyal_customers(shop, topics=["frogs", "cooking"], influence=infl, top_percentile=100,
                                          min_loyalty=0, limit=2)
    assert limited.equals(out.filter(pl.col("loyal_rank") <= 2))
    only = influential_loyal_customers(shop, topics="frogs", influence=infl, top_percentile=100, min_loyalty=0)
    assert only.equals(out.filter(pl.col("topic") == "frogs"))


def test_query_window_changes_loyalty(shop):
    infl = _influence("cooking", ["p1", "p2", "p3", "p4", "p5"])
    everything = influential_loyal_customers(shop, topics="cooking", influence=infl, top_percentile=100, min_loyalty=0)
    recent = influential_loyal_customers(shop, topics="cooking", influence=infl, top_percentile=100, min_loyalty=0,
                                         window_days=30)
    assert "p2" in everything["person_id"].to_list() and "p2" not in recent["person_id"].to_list()


def test_query_on_ciao_matches_a_plain_join(ciao):
    # an influence table over every Ciao person: pseudo-random but deterministic order
    people = ciao.people.select("person_id").with_columns(h=pl.col("person_id").hash(7)).sort("h", "person_id")
    infl = _influence("DVDs", people["person_id"].to_list())
    out = influential_loyal_customers(ciao, topics="DVDs", influence=infl, top_percentile=5, min_loyalty=0.75)
    top = infl.filter(pl.col("rank") <= math.ceil(0.05 * ciao.people.height))
    joined = top.join(loyalty(ciao), on="person_id").filter(pl.col("loyalty_score") >= 0.75)
    assert out.height == joined.height > 0
    assert set(out["person_id"]) == set(joined["person_id"])


def test_query_bad_input(shop):
    infl = _influence("cooking", ["p1", "p2"])
    with pytest.raises(GraphkitError, match="lacks column"):
        influential_loyal_customers(shop, topics="cooking", influence=infl.drop("credibility"))
    with pytest.raises(GraphkitError, match="no rows for topic"):
        influential_loyal_customers(shop, topics="frogs", influence=infl)
    with pytest.raises(GraphkitError, match="top_percentile"):
        influential_loyal_customers(shop, topics="cooking", influence=infl, top_percentile=0)
    with pytest.raises(GraphkitError, match="min_loyalty"):
        influential_loyal_customers(shop, topics="cooking", influence=infl, min_loyalty=2)
    with pytest.raises(GraphkitError, match="limit"):
        influential_loyal_customers(shop, topics="cooking", influence=infl, limit=0)
    with pytest.raises(GraphkitError, match="topics must be"):
        influential_loyal_customers(shop, topics=[], influence=infl)
    with pytest.raises(GraphkitError, match="unknown topic"):
        influential_loyal_customers(shop, topics="knitting")


# --------------------------------------------------- the batch commands (files)
def _cli(args: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    from graphkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_score_to_a_folder_and_loyal_from_it(tmp_path):
    import json

    from graphkit.io.datasets import load_ciao

    scores = tmp_path / "scores"
    code, out, err = _cli(["score", "--source", "bundled", "--write", str(scores), "--topics", "DVDs", "Books",
                           "--run-id", "r1", "--json"])
    assert code == 0, err
    summary = json.loads(out)
    assert summary["run_id"] == "r1" and summary["rows"]["influence"] == 2 * 7375 and "loyalty" in summary["rows"]
    first = (scores / "CURRENT").read_text().strip()
    assert first.startswith("r1.") and json.loads((scores / "runs" / first / "run.json").read_text())["run_id"] == "r1"
    for run in ("r2", "r3"):
        assert _cli(["score", "--source", "bundled", "--write", str(scores), "--topics", "DVDs", "--run-id", run,
                     "--quiet"])[0] == 0
    kept = sorted(d.name.split(".")[0] for d in (scores / "runs").iterdir() if not d.name.startswith("."))
    assert kept == ["r2", "r3"]  # keep_runs=2: the current run and the one before
    assert (scores / "CURRENT").read_text().startswith("r3.")

    code, out, err = _cli(["loyal", "--topic", "DVDs", "--scores", str(scores), "--top-percentile", "5", "--json",
                           "--quiet"])
    assert code == 0, err
    got = json.loads(out)
    g = load_ciao()
    expected = influential_loyal_customers(g, topics="DVDs", top_percentile=5)  # default ranking, as the job
    assert json.loads((scores / "runs" / (scores / "CURRENT").read_text().strip() / "run.json").read_text()
                      )["parameters"]["score"] == DEFAULT_SCORE
    assert got["count"] == expected.height > 0
    assert [r["person_id"] for r in got["rows"]] == expected["person_id"].to_list()

    target = tmp_path / "rows.csv"
    code, out, _ = _cli(["loyal", "--topic", "DVDs", "--scores", str(scores), "--out", str(target), "--quiet"])
    assert code == 0 and pl.read_csv(target).height == int(out.split()[0])


def test_batch_commands_refuse_bad_arguments(tmp_path):
    code, _, err = _cli(["score", "--source", "bundled", "--write", str(tmp_path / "s"), "--topics", "DVDs",
                         "--run-id", "../escape"])
    assert code == 1 and "cannot name a folder" in err
    code, _, err = _cli(["loyal", "--topic", "DVDs", "--run-id", "r1"])
    assert code == 1 and err.startswith("Error: --run-id is for --source neo4j")
    code, _, err = _cli(["loyal", "--topic", "DVDs", "--scores", str(tmp_path)])
    assert code == 1 and "is not a score folder" in err
    code, _, err = _cli(["loyal", "--topic", "no such topic", "--quiet"])
    assert code == 1 and "unknown topic 'no such topic'" in err
    assert _cli(["loyal"])[0] == 2  # --topic is required
