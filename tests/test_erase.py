"""Erasing a person: from a graph in memory, a dataset folder and a folder of score runs.

Done means: after the erasure her id (and her customer id) is nowhere in any table of the dataset or of any
stored run; everyone else's rows are exactly as before; erasing twice changes nothing; the log proves the
erasure with keyed hashes only; a hostile id is just text.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import graphkit as gk
from graphkit.cli import main
from graphkit.errors import GraphkitError, WriterBusyError
from graphkit.io.erase import ERASURE_KEY_ENV, erase, erasure_log, keyed_hash
from graphkit.io.files import LOCK_SUFFIX, read_dataset, read_table, write_dataset
from graphkit.io.ownership import FolderLock
from graphkit.io.score_folder import list_runs
from graphkit.marketing.common import example_market
from graphkit.model.graph import PERSON_KINDS, TopicGraph

KEY = "test-erasure-key"
HOSTILE = ["lea' OR 1=1 --", "x`}) DETACH DELETE n //", "../m", "/etc/passwd", "*", "lea\x00", "$ids", "lea\n"]


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv(ERASURE_KEY_ENV, KEY)


def _score(data: Path, scores: Path, run_id: str) -> None:
    assert main(["score", "--source", str(data), "--write", str(scores), "--score", "topic_influence",
                 "--run-id", run_id, "--quiet", "--json"]) == 0


@pytest.fixture
def stores(tmp_path, capsys) -> tuple[Path, Path]:
    """A dataset folder (the example market) and a score folder with two runs of it."""
    data = write_dataset(example_market(), tmp_path / "market")
    scores = tmp_path / "scores"
    _score(data, scores, "r1")
    _score(data, scores, "r2")
    capsys.readouterr()
    return data, scores


def _tables(folder: Path) -> dict[str, pl.DataFrame]:
    return {p.name: read_table(p) for p in sorted(folder.glob("*.parquet")) + sorted(folder.glob("*.csv"))}


def _everything(data: Path, scores: Path) -> dict[str, pl.DataFrame]:
    """Every table of the dataset and of every stored run, by a readable name."""
    out = {f"data/{k}": v for k, v in _tables(data).items()}
    for run in sorted((scores / "runs").iterdir()):
        out.update({f"{run.name}/{k}": v for k, v in _tables(run).items()})
    return out


def _values(df: pl.DataFrame) -> set[str]:
    """Every text value of a table, list entries included."""
    found: set[str] = set()
    for col, dtype in df.schema.items():
        s = df[col]
        if isinstance(dtype, pl.List):
            s = s.explode()
        found |= {str(v) for v in s.drop_nulls().to_list()}
    return found


def _files(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file under the folders (to prove nothing changed)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for f in folders for p in sorted(f.rglob("*")) if p.is_file() and not p.name.endswith(LOCK_SUFFIX)}


def _without_lea(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """What the erasure must leave of a table, computed independently of graphkit's rules."""
    keep = pl.lit(True)
    if "person_id" in df.columns:
        keep &= pl.col("person_id") != "lea"
    if "src" in df.columns:
        keep &= ~((pl.col("src") == "lea") | ((pl.col("dst") == "lea") & pl.col("kind").is_in(list(PERSON_KINDS))))
    if "customer_id" in df.columns:
        keep &= pl.col("customer_id").fill_null("") != "c_lea"
    out = df.filter(keep.fill_null(True))
    if "top_influencers" in df.columns:
        out = out.with_columns(pl.col("top_influencers").list.eval(pl.element().filter(pl.element() != "lea")))
    return out


# ------------------------------------------------------------------ folders
def test_erase_from_a_dataset_and_its_runs_leaves_her_nowhere_and_the_others_unchanged(stores):
    data, scores = stores
    before = _everything(data, scores)
    named = [k for k, df in before.items() if "lea" in _values(df)]
    assert {"data/people.parquet", "data/edges.parquet"} <= set(named) and len(named) == 2 + 2 * 4  # 4 per run
    report = erase(["lea"], data, runs=scores)
    after = _everything(data, scores)
    assert set(after) == set(before)
    for name, df in after.items():
        assert not {"lea", "c_lea"} & _values(df), f"{name} still names her"
        assert_frame_equal(df, _without_lea(name, before[name]), check_exact=True)
    # her rows, counted; in both runs; her community-summary entries too
    ours = report.removed[str(data)]
    assert ours == {"people": 1, "edges": before["data/edges.parquet"].height - after["data/edges.parquet"].height,
                    "transactions": 1}
    runs = report.removed[str(scores)]
    assert {k.split("/")[1] for k in runs} == {"influence", "loyalty", "communities", "community_summary"}
    assert len({k.split("/")[0] for k in runs}) == 2
    # the graph still reads, and the runs still list, with their row counts lowered
    g = read_dataset(data)
    assert "lea" not in g.people["person_id"].to_list() and g.people.height == 15
    for run in list_runs(scores):
        path = Path(run["path"])
        assert run["rows"]["influence"] == read_table(path / "influence.parquet").height
        assert json.loads((path / "run.json").read_text())["erasures"][0]["erased"] == [keyed_hash("lea")]


def test_erasing_twice_changes_nothing(stores):
    data, scores = stores
    first = erase(["lea"], data, runs=scores)
    assert first.total > 0
    files = _files(data, scores)
    again = erase(["lea"], data, runs=scores)
    assert again.total == 0 and again.removed == {}
    assert _files(data, scores) == files
    assert len(erasure_log(data)) == 1 and len(erasure_log(scores)) == 1


def test_the_log_proves_the_erasure_without_the_id(stores):
    data, scores = stores
    report = erase(["lea", "max"], data, runs=scores)
    for folder in (data, scores):
        text = (folder / "erasures.jsonl").read_text()
        assert "lea" not in text and "max" not in text and "c_lea" not in text
        (entry,) = erasure_log(folder)
        assert entry["erased"] == sorted([keyed_hash("lea"), keyed_hash("max")])
        assert entry["at"] == report.at and entry["graphkit_version"] == gk.__version__
    assert erasure_log(data)[0]["removed"] == report.removed[str(data)]
    assert keyed_hash("lea", key="another key") not in erasure_log(data)[0]["erased"]


def test_the_log_outlives_a_rewrite_of_the_dataset(stores):
    data, _ = stores
    erase(["lea"], data)
    log = erasure_log(data)
    write_dataset(example_market(), data)  # a fresh export written over it (she is back: erase again)
    assert erasure_log(data) == log
    assert erase(["lea"], data).removed[str(data)]["people"] == 1 and len(erasure_log(data)) == 2


def test_no_key_no_erasure(stores, monkeypatch):
    data, scores = stores
    monkeypatch.delenv(ERASURE_KEY_ENV)
    files = _files(data, scores)
    with pytest.raises(GraphkitError, match=ERASURE_KEY_ENV):
        erase(["lea"], data, runs=scores)
    assert _files(data, scores) == files


def test_a_linked_table_is_refused_not_skipped(stores, tmp_path):
    """A table behind a link lives outside the folder the erasure swaps: refuse, change nothing."""
    data, scores = stores
    outside = tmp_path / "elsewhere.parquet"
    (data / "transactions.parquet").rename(outside)
    (data / "transactions.parquet").symlink_to(outside)
    files = _files(data, scores)
    before = outside.read_bytes()
    with pytest.raises(GraphkitError, match="transactions.parquet is a link"):
        erase(["lea"], data, runs=scores)
    assert _files(data, scores) == files and outside.read_bytes() == before


def test_hostile_ids_inject_nothing(stores):
    data, scores = stores
    files = _files(data, scores)
    report = erase(HOSTILE, data, runs=scores)
    assert report.total == 0 and _files(data, scores) == files
    assert {p.name for p in data.parent.iterdir()} == {"market", "scores", ".market" + LOCK_SUFFIX}


def test_a_person_whose_id_looks_hostile_is_erased_exactly(tmp_path):
    odd = "a'b`c/../d\"; MATCH (n) DETACH DELETE n //"
    g = example_market()
    people = g.people.with_columns(person_id=pl.when(pl.col("person_id") == "lea").then(pl.lit(odd))
                                   .otherwise(pl.col("person_id")))
    rename = {"src": pl.when(pl.col("src") == "lea").then(pl.lit(odd)).otherwise(pl.col("src")),
              "dst": pl.when(pl.col("dst") == "lea").then(pl.lit(odd)).otherwise(pl.col("dst"))}
    g = g.replace(people=people, edges=g.edges.with_columns(**rename))
    data = write_dataset(g, tmp_path / "odd")
    report = erase([odd], data)
    assert report.removed[str(data)]["people"] == 1
    left = read_dataset(data)
    assert odd not in _values(left.people) | _values(left.edges)
    assert left.people.height == g.people.height - 1


def test_reviews_of_an_item_named_like_her_are_not_hers(tmp_path):
    """Ciao numbers people and items alike (7369 ids are both): her erasure keeps others' reviews of item 'lea'."""
    g = TopicGraph.from_tables(
        pl.DataFrame({"person_id": ["lea", "bob"], "customer_id": ["lea", "b"]}),
        pl.DataFrame({"src": ["bob", "bob", "lea"], "dst": ["lea", "lea", "bob"],
                      "kind": ["reviews", "follows", "follows"], "topic": ["toys", None, None]}),
        items=pl.DataFrame({"item_id": ["lea"], "topic": ["toys"]}),
        transactions=pl.DataFrame({"customer_id": ["lea", "b"], "item_id": ["lea", "lea"],
                                   "ts": ["2024-01-01", "2024-01-02"]}),
    )
    h = g.without_people(["lea"])
    assert h.edges.select("src", "dst", "kind").rows() == [("bob", "lea", "reviews")]
    assert h.transactions["customer_id"].to_list() == ["b"] and h.items.height == 1
    assert h.people["person_id"].to_list() == ["bob"]
    assert g.without_people(["nobody"]) is g
    data = write_dataset(g, tmp_path / "d")
    assert erase(["lea"], data).removed[str(data)] == {"people": 1, "edges": 2, "transactions": 1}
    assert_frame_equal(read_dataset(data).edges, h.edges)


def test_without_people_matches_the_folder_erasure(stores):
    data, _ = stores
    g = read_dataset(data)
    h = g.without_people(["lea", "zoe"])
    erase(["lea", "zoe"], data)
    for name, df in read_dataset(data).tables().items():
        assert_frame_equal(df, getattr(h, name), check_exact=True)
    assert gk.topic_influence(h, topics=["lego"]).table.filter(pl.col("person_id") == "lea").height == 0


def test_a_csv_folder_with_rejects_and_handles(tmp_path):
    """A dataset graphkit did not write: CSV, a handles table, a rejects file quoting her rows."""
    folder = tmp_path / "csv"
    folder.mkdir()
    g = example_market()
    for name, df in g.tables().items():
        if df.height:
            df.write_csv(folder / f"{name}.csv")
    pl.DataFrame({"person_id": ["lea", "lea", "zoe"], "channel": ["x", "insta", "x"],
                  "handle": ["@lea", "@lea_b", "@zoe"]}).write_csv(folder / "handles.csv")
    pl.DataFrame({"src": ["lea", "zoe", "ghost"], "dst": ["zoe", "nobody", "lea"],
                  "kind": ["follows", "follows", "follows"], "weight": ["-1", "1", "x"]}
                 ).write_csv(folder / "bad_edges.csv")
    read_dataset(folder)  # valid
    (folder / "edges.csv").write_text((folder / "edges.csv").read_text() + "lea,zoe,follows,,NaN,1,,\n")
    read_dataset(folder, lenient=True)  # writes rejects.csv naming her
    assert "lea" in (folder / "rejects.csv").read_text()
    report = erase(["lea"], folder)
    removed = report.removed[str(folder)]
    assert removed["handles"] == 2 and removed["rejects"] == 1 and removed["bad_edges"] == 2
    for p in folder.glob("*.csv"):
        assert "lea" not in _values(read_table(p)), p.name
        if p.name != "rejects.csv":
            assert "lea" not in p.read_text(), p.name
    assert read_table(folder / "handles.csv")["handle"].to_list() == ["@zoe"]
    g2 = read_dataset(folder)
    assert g2.people.height == 15 and "lea" not in g2.edges["src"].to_list()


def test_a_busy_store_is_waited_for_then_refused_unchanged(stores):
    data, scores = stores
    files = _files(data, scores)
    with FolderLock(data.parent / f".{data.name}{LOCK_SUFFIX}", target="test", wait=0):
        with pytest.raises(WriterBusyError):
            erase(["lea"], data, wait=0.2)
    with FolderLock(scores / ".graphkit-lock", target="test", wait=0):
        with pytest.raises(WriterBusyError):
            erase(["lea"], runs=scores, wait=0.2)
    assert _files(data, scores) == files


def test_leftovers_of_a_crashed_erasure_are_removed(stores):
    data, _ = stores
    leftover = data.parent / f".{data.name}.erase-abc123"
    leftover.mkdir()
    (leftover / "people.parquet").write_bytes((data / "people.parquet").read_bytes())
    erase(["lea"], data)
    assert not leftover.exists()


def test_bad_places_are_refused_before_anything_changes(stores, tmp_path):
    data, scores = stores
    files = _files(data, scores)
    with pytest.raises(GraphkitError, match="not a score folder"):
        erase(["lea"], data, runs=[scores, data])
    with pytest.raises(GraphkitError, match="not a dataset folder"):
        erase(["lea"], tmp_path / "absent", runs=scores)
    with pytest.raises(GraphkitError, match="person ids"):
        erase([""], data)
    with pytest.raises(GraphkitError, match="name where"):
        erase(["lea"])
    assert _files(data, scores) == files


# ---------------------------------------------------------------------- CLI
def test_cli_erases_and_says_what(stores, capsys):
    data, scores = stores
    assert main(["erase", "lea", "--source", str(data), "--runs", str(scores)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("erased 1 id(s):") and f"{data}: edges" in out
    assert main(["erase", "lea", "--source", str(data), "--runs", str(scores), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["total"] == 0 and answer["removed"] == {} and answer["people"] == 1


def test_cli_errors_are_one_line(stores, capsys, monkeypatch):
    data, scores = stores
    assert main(["erase", "lea"]) == 2
    assert "--source PATH|neo4j and/or --runs PATH" in capsys.readouterr().err
    monkeypatch.delenv(ERASURE_KEY_ENV)
    assert main(["erase", "lea", "--source", str(data)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: set the environment variable GRAPHKIT_ERASURE_KEY")
    assert "Traceback" not in err
