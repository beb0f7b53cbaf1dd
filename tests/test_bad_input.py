"""A corpus of bad inputs, each driven through the command line.

Every case asserts the documented exit code, exactly one ``Error:`` line that
names the file, the column and (for row defects) the rows, no traceback, a
JSON error object with ``--json``, and that no input file changed. Inputs that
look odd but are valid (a trailing empty line, a long text field, blank
weights) are accepted, and ``validate`` agrees with ``score`` on them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit import TopicGraph
from graphkit.cli import EXIT_ERROR, main
from graphkit.errors import ValidationError
from graphkit.io.neo4j.store import mask_uri

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------- the base dataset
def base(folder: Path) -> Path:
    """A small valid dataset in CSV: 3 people, follows and reviews, one item, purchases."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "people.csv").write_text("person_id,customer_id\na,c1\nb,c2\nc,c3\n")
    (folder / "edges.csv").write_text(
        "src,dst,kind,topic,weight,sign,ts\n"
        "b,a,follows,,1,1,\n"
        "c,a,follows,,1,1,\n"
        "a,i1,reviews,frogs,2,-1,2024-01-01\n"
        "b,i1,reviews,frogs,1,1,2024-01-02\n")
    (folder / "items.csv").write_text("item_id,topic\ni1,frogs\n")
    (folder / "transactions.csv").write_text(
        "customer_id,item_id,amount,ts\nc1,i1,3,2024-01-01\nc1,i1,4,2024-01-03\nc2,i1,5,2024-01-02\n")
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry of the folder: a file's SHA-256, a link's target, a FIFO's kind."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            out[p.name] = "link:" + os.readlink(p)
        elif p.is_file():
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[p.name] = "special"
    return out


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    assert "Traceback" not in err and "panicked" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, err
    return lines[0]


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def rewrite(name: str, text: str) -> Callable[[Path], None]:
    return lambda d: (d / name).write_text(text)


def header(name: str, old: str, new: str) -> Callable[[Path], None]:
    """Respell one column in the header of ``name``."""
    def change(d: Path) -> None:
        head, rest = (d / name).read_text().split("\n", 1)
        (d / name).write_text(",".join(new if c == old else c for c in head.split(",")) + "\n" + rest)
    return change


def parquet_ts(unit: str, value: int) -> Callable[[Path], None]:
    """transactions as Parquet with one timestamp stored as ``value`` in ``unit`` (row 2)."""
    def change(d: Path) -> None:
        (d / "transactions.csv").unlink()
        pq.write_table(pa.table({
            "customer_id": ["c1", "c1"], "item_id": ["i1", "i1"], "amount": [1.0, 2.0],
            "ts": pa.array([1_700_000_000 * {"s": 1, "ms": 10**3, "us": 10**6}[unit], value],
                           type=pa.timestamp(unit)),
        }), d / "transactions.parquet")
    return change


def link(name: str, target: str) -> Callable[[Path], None]:
    def change(d: Path) -> None:
        (d / name).unlink()
        os.symlink(target, d / name)
    return change


def rename(old: str, new: str) -> Callable[[Path], None]:
    return lambda d: (d / old).rename(d / new)


def garbage(name: str, data: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(data())


#: (case, change to the base dataset, words the one Error: line must hold: file, column, rows...)
BAD: list[tuple[str, Callable[[Path], None], tuple[str, ...]]] = [
    # --- input silently changed: near misses of known columns
    ("Sign", header("edges.csv", "sign", "Sign"), ("edges.csv", "'Sign'", "'sign'")),
    ("Weight", header("edges.csv", "weight", "Weight"), ("edges.csv", "'Weight'", "'weight'")),
    ("space ts", header("edges.csv", "ts", " ts"), ("edges.csv", "' ts'", "'ts'")),
    ("customer_id space", header("people.csv", "customer_id", "customer_id "),
     ("people.csv", "'customer_id '", "'customer_id'")),
    ("Amount", header("transactions.csv", "amount", "Amount"), ("transactions.csv", "'Amount'", "'amount'")),
    ("SRC required", header("edges.csv", "src", "SRC"), ("edges.csv", "'SRC'", "'src'")),
    # --- duplicate names, padded ids, wrong-case and dead table files
    ("duplicate column", rewrite("items.csv", "item_id,topic,topic\ni1,frogs,toads\n"),
     ("items.csv", "two columns named 'topic'")),
    ("padded person id", rewrite("people.csv", "person_id,customer_id\na,c1\nb,c2\nc,c3\na ,c4\n"),
     ("people.csv", "'person_id'", "'a '", "rows 4")),
    ("padded topic", rewrite("items.csv", "item_id,topic\ni1,frogs\ni2, frogs\n"), ("items.csv", "'topic'", "rows 2")),
    ("padded order id", rewrite("transactions.csv", "customer_id,item_id,ts,order_id\nc1,i1,2024-01-01,o1 \n"),
     ("transactions.csv", "'order_id'", "rows 1")),
    ("Transactions.csv", rename("transactions.csv", "Transactions.csv"), ("Transactions.csv", "transactions.csv")),
    ("EDGES.CSV", rename("edges.csv", "EDGES.CSV"), ("EDGES.CSV", "edges.csv")),
    ("edges.tsv", rename("edges.csv", "edges.tsv"), ("edges.tsv", "edges.parquet or edges.csv")),
    ("transactions.txt", rename("transactions.csv", "transactions.txt"),  # optional: it was silently absent
     ("transactions.txt", "transactions.parquet or transactions.csv")),
    ("people.csv.gz", rename("people.csv", "people.csv.gz"), ("people.csv.gz", "people.parquet or people.csv")),
    ("broken link", link("items.csv", "nowhere.csv"), ("items.csv", "does not exist")),
    ("looping link", link("items.csv", "items.csv"), ("items.csv", "loops")),
    # --- crashes: timestamps no calendar holds, reserved names, garbage
    ("year 287000 (us)", parquet_ts("us", 9 * 10**18), ("transactions.parquet", "'ts'", "rows 2", "1000 and 9999")),
    ("beyond us (ms)", parquet_ts("ms", 9 * 10**18), ("transactions.parquet", "'ts'", "rows 2", "1000 and 9999")),
    ("beyond us (s)", parquet_ts("s", 10**15), ("transactions.parquet", "'ts'", "rows 2", "1000 and 9999")),
    ("year 500 as text", rewrite("transactions.csv", "customer_id,item_id,ts\nc1,i1,2024-01-01\nc1,i1,0500-01-01\n"),
     ("transactions.csv", "'ts'", "rows 2", "1000 and 9999")),
    ("__row column", rewrite("items.csv", "item_id,topic,__row\ni1,frogs,x\n"), ("items.csv", "'__row'")),
    ("__src_row column", header("edges.csv", "ts", "__src_row"), ("edges.csv", "'__src_row'")),
    ("binary garbage", garbage("edges.csv", lambda: os.urandom(3 << 20)), ("edges.csv", "NUL")),
    ("one endless line", garbage("edges.csv", lambda: b"x" * (3 << 20)), ("edges.csv", "first line")),
    ("blank line inside", rewrite("people.csv", "person_id,customer_id\na,c1\n\nb,c2\nc,c3\n"),
     ("people.csv", "2 (0 fields, blank)")),  # a file defect: refused even when lenient
    ("sign 0", rewrite("edges.csv", "src,dst,kind,sign\nb,a,follows,1\nc,a,follows,0\n"), ("edges.csv", "'sign'", "rows 2")),
]


@pytest.mark.parametrize("case, change, words", BAD, ids=[c[0] for c in BAD])
@pytest.mark.parametrize("command", ["validate", "validate --lenient", "info"])
def test_bad_input_is_one_error_line_naming_it_and_changes_nothing(capsys, tmp_path, case, change, words, command):
    folder = base(tmp_path / "ds")
    change(folder)
    before = snapshot(folder)
    argv = [*command.split()[:1], str(folder), *command.split()[1:]]
    if "--lenient" in argv:
        argv += ["--rejects", str(tmp_path / "rejects.csv")]
    code, out, err = run(capsys, *argv)
    rows = [int(w.split()[1]) for w in words if w.startswith("rows ")]
    if "--lenient" in argv and rows:  # a row defect: the row goes to the rejects file, with its file and column
        assert code == EXIT_ERROR and "Error:" not in err and "Traceback" not in err, err
        rejects = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False)
        assert rejects["row"].to_list() == [str(r) for r in rows]
        assert words[0] in rejects["file"][0] and words[1].strip("'") == rejects["column"][0]
        assert snapshot(folder) == before
        return
    line = error_line(err)
    assert code == EXIT_ERROR, err
    for word in words:
        assert word in line, (word, line)
    assert snapshot(folder) == before
    code, out, err = run(capsys, *argv, "--json")
    answer = strict_json(out)
    assert code == EXIT_ERROR and answer["exit_code"] == EXIT_ERROR and error_line(err)[len("Error: "):] == answer["error"]


@pytest.mark.parametrize("case", ["year 287000 (us)", "Sign", "padded person id"])
def test_score_refuses_what_validate_refuses_before_writing_anything(capsys, tmp_path, case):
    change, words = {c: (f, w) for c, f, w in BAD}[case]
    folder = base(tmp_path / "ds")
    change(folder)
    before = snapshot(folder)
    code, out, err = run(capsys, "score", "--source", str(folder), "--write", str(tmp_path / "scores"),
                         "--score", "topic_influence", "--quiet")
    line = error_line(err)
    assert code == EXIT_ERROR and all(w in line for w in words), line
    assert not (tmp_path / "scores").exists() and snapshot(folder) == before


def test_a_fifo_as_a_table_is_refused_not_waited_on(tmp_path):
    folder = base(tmp_path / "ds")
    (folder / "items.csv").unlink()
    os.mkfifo(folder / "items.csv")
    proc = subprocess.run([sys.executable, "-m", "graphkit", "validate", str(folder)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    line = error_line(proc.stderr)
    assert proc.returncode == EXIT_ERROR and "items.csv" in line and "not a regular file" in line


def test_garbage_is_refused_from_its_first_mebibyte(tmp_path, monkeypatch):
    """A huge garbage file is refused without being parsed: polars is never asked to read it."""
    folder = base(tmp_path / "ds")
    with open(folder / "edges.csv", "wb") as fh:  # 64 MiB of NUL-free bytes that are not UTF-8
        fh.write(b"src,dst,kind\n" + bytes([0xFF]) * (64 << 20))
    calls = []
    monkeypatch.setattr(pl, "read_csv", lambda *a, **k: calls.append(a) or pytest.fail("parsed the garbage"))
    with pytest.raises(Exception, match="not UTF-8"):
        from graphkit.io.files import read_table
        read_table(folder / "edges.csv")
    assert calls == []


# -------------------------------------------------------------- valid inputs accepted
OK: list[tuple[str, Callable[[Path], None]]] = [
    ("trailing empty line", lambda d: (d / "edges.csv").write_text((d / "edges.csv").read_text() + "\n")),
    ("three trailing empty lines", lambda d: (d / "people.csv").write_text((d / "people.csv").read_text() + "\n\n\n")),
    ("field over 131072 characters", lambda d: (d / "items.csv").write_text(
        "item_id,topic,name\ni1,frogs," + "x" * 200_000 + "\n")),
    ("long field and a blank last cell", lambda d: (d / "items.csv").write_text(
        "item_id,topic,name\ni1,frogs," + "x" * 200_000 + "\ni2,frogs,\n")),
    ("utf-8 byte order mark", lambda d: (d / "people.csv").write_bytes(b"\xef\xbb\xbf" + (d / "people.csv").read_bytes())),
    ("a backup beside the table", lambda d: (d / "edges.csv.bak").write_bytes((d / "edges.csv").read_bytes())),
]


@pytest.mark.parametrize("case, change", OK, ids=[c[0] for c in OK])
def test_odd_but_valid_input_is_accepted(capsys, tmp_path, case, change):
    folder = base(tmp_path / "ds")
    change(folder)
    code, out, err = run(capsys, "validate", str(folder), "--json")
    assert code == 0, err
    assert strict_json(out)["valid"] is True and strict_json(out)["people"] == 3


def test_blank_weight_and_sign_take_their_defaults_in_validate_and_score(capsys, tmp_path):
    folder = base(tmp_path / "ds")
    (folder / "edges.csv").write_text(
        "src,dst,kind,topic,weight,sign,ts\n"
        "b,a,follows,,,,\n"
        "c,a,follows,, , ,\n"
        "a,i1,reviews,frogs,2,-1,2024-01-01\n"
        "b,i1,reviews,frogs,,,2024-01-02\n")
    code, out, err = run(capsys, "validate", str(folder), "--json")
    assert code == 0 and strict_json(out)["edges"] == 4, err
    from graphkit.io.files import read_dataset
    edges = read_dataset(folder).edges
    assert edges["weight"].to_list() == [1.0, 1.0, 2.0, 1.0] and edges["sign"].to_list() == [1, 1, -1, 1]
    code, out, err = run(capsys, "score", "--source", str(folder), "--write", str(tmp_path / "s"), "--json",
                         "--quiet", "--score", "topic_influence")
    assert code == 0, err


def test_near_miss_columns_would_have_flipped_signs(tmp_path):
    """The Bitcoin OTC failure in small: a 'Sign' column must not let every sign default to +1."""
    people = pl.DataFrame({"person_id": ["a", "b"]})
    edges = pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["mentions"], "topic": ["t"], "Sign": [-1]})
    with pytest.raises(ValidationError) as info:
        TopicGraph.from_tables(people, edges)
    assert info.value.column == "Sign" and "'sign'" in str(info.value)


def test_pandas_tables_are_converted_and_other_objects_refused():
    g = TopicGraph.from_tables(pd.DataFrame({"person_id": ["a", "b"]}),
                               pd.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"], "weight": [None]}))
    assert g.edges["weight"].to_list() == [1.0]
    with pytest.raises(ValidationError, match="table 'people'.*a polars or pandas DataFrame, found a builtins.list"):
        TopicGraph.from_tables([["a"]], pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
    with pytest.raises(ValidationError, match="cannot convert"):
        TopicGraph.from_tables(pd.DataFrame({"person_id": ["a", 1]}),
                               pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))


# ------------------------------------------------------------------ bad arguments
def test_write_pointing_at_a_file_is_refused_and_the_file_kept(capsys, tmp_path):
    folder = base(tmp_path / "ds")
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    code, _, err = run(capsys, "score", "--source", str(folder), "--write", str(target), "--quiet",
                       "--score", "topic_influence")
    assert code == EXIT_ERROR and str(target) in error_line(err) and target.read_text() == "mine"


@pytest.mark.parametrize("command", [
    ["loyal", "--source", "{ds}", "--topic", "frogs", "--score", "topic_influence", "--out", "{out}"],
    ["influence", "{ds}", "--out", "{out}"],
    ["communities", "{ds}", "--out", "{out}"],
])
@pytest.mark.parametrize("where", ["under a file", "a folder", "not a table name"])
def test_an_unwritable_out_is_refused_before_the_work(capsys, tmp_path, command, where):
    folder = base(tmp_path / "ds")
    (tmp_path / "afile").write_text("mine")
    (tmp_path / "adir").mkdir()
    out = {"under a file": tmp_path / "afile" / "x.csv", "a folder": tmp_path / "adir",
           "not a table name": tmp_path / "x.txt"}[where]
    argv = [a.format(ds=folder, out=out) for a in command] + ["--quiet"]
    code, _, err = run(capsys, *argv)
    line = error_line(err)
    assert code == EXIT_ERROR and str(out) in line, line
    assert (tmp_path / "afile").read_text() == "mine" and list((tmp_path / "adir").iterdir()) == []


def test_scores_of_another_dataset_are_refused_not_an_empty_answer(capsys, tmp_path):
    mine, other = base(tmp_path / "mine"), base(tmp_path / "other")
    (other / "people.csv").write_text("person_id,customer_id\nx,c1\ny,c2\nz,c3\n")
    (other / "edges.csv").write_text("src,dst,kind,topic,ts\ny,x,follows,,\nx,i1,reviews,frogs,2024-01-01\n")
    scores = tmp_path / "scores"
    assert run(capsys, "score", "--source", str(other), "--write", str(scores), "--quiet",
               "--score", "topic_influence")[0] == 0
    code, out, err = run(capsys, "loyal", "--source", str(mine), "--scores", str(scores), "--topic", "frogs", "--json")
    assert code == EXIT_ERROR and "computed from other data" in error_line(err)
    assert strict_json(out)["exit_code"] == EXIT_ERROR


def test_an_absent_brand_is_an_error_not_the_unfiltered_table(capsys, tmp_path):
    folder = base(tmp_path / "ds")
    code, _, err = run(capsys, "segments", str(folder), "--topic", "frogs", "--brand", "nobrand", "--quiet")
    assert code == EXIT_ERROR and "unknown brand 'nobrand'" in error_line(err)


@pytest.mark.parametrize("png", [False, True])
def test_explaining_a_zero_score_is_the_same_error_with_or_without_a_figure(capsys, tmp_path, png):
    folder = base(tmp_path / "ds")
    argv = ["explain", str(folder), "c", "frogs", "--quiet"] + (["--png", str(tmp_path / "x.png")] if png else [])
    code, _, err = run(capsys, *argv)
    assert code == EXIT_ERROR and "'c' has no influence on 'frogs'" in error_line(err)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("person, words", [("nobody", "'nobody'"), ("a", None)])
def test_absent_people_and_topics_are_named(capsys, tmp_path, person, words):
    folder = base(tmp_path / "ds")
    topic = "frogs" if words else "toads"
    code, _, err = run(capsys, "explain", str(folder), person, topic, "--quiet")
    assert code == EXIT_ERROR and (words or "'toads'") in error_line(err)


# -------------------------------------------------------------------- credentials
SECRETS = ("p@ss", "w0rd", "s3cretQ", "x?y#z")
URIS = [
    "bolt://neo4j:p@ss/w0rd@127.0.0.1:1",
    "bolt://127.0.0.1:1?password=s3cretQ",
    "neo4j://u:x?y#z@127.0.0.1:1/db?auth=s3cretQ",
    "bolt://127.0.0.1:1/?token=s3cretQ",
    "neo4j:p@ss/w0rd@127.0.0.1:1",
]


@pytest.mark.parametrize("uri", URIS)
@pytest.mark.parametrize("command", [["loyal", "--source", "neo4j", "--topic", "x"], ["runs", "neo4j"]])
def test_credentials_in_the_uri_are_never_printed(capsys, monkeypatch, uri, command):
    monkeypatch.setenv("NEO4J_URI", uri)
    monkeypatch.setenv("NEO4J_PASSWORD", "pw-in-env")
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, *command, *extra)
        assert code != 0 and error_line(err)
        for secret in (*SECRETS, "pw-in-env"):
            assert secret not in out and secret not in err, (secret, out, err)


@pytest.mark.parametrize("uri", URIS)
def test_mask_uri_keeps_only_scheme_host_port_and_path(uri):
    shown = mask_uri(uri)
    assert not any(s in shown for s in SECRETS) and "127.0.0.1:1" in shown


# ------------------------------------------------------ every command over bad data
#: Every command that reads a dataset folder, {ds} being it and {tmp} a fresh folder (erase rewrites
#: the table files it finds without validating them, by design: it is tested in tests/test_erase.py).
READERS = {
    "validate": ["{ds}"],
    "info": ["{ds}"],
    "influence": ["{ds}", "--topics", "frogs"],
    "communities": ["{ds}", "--topics", "frogs"],
    "score": ["--source", "{ds}", "--write", "{tmp}/scores", "--score", "topic_influence"],
    "loyal": ["--source", "{ds}", "--topic", "frogs", "--score", "topic_influence"],
    "backtest": ["{ds}", "--cutoff", "2024-01-02", "--scorers", "random", "--out", "{tmp}/bt"],
    "matrix": ["{ds}", "--topic", "frogs", "--score", "topic_influence"],
    "segments": ["{ds}", "--topics", "frogs"],
    "experts": ["{ds}", "--topic", "frogs"],
    "acts": ["{ds}", "--topics", "frogs"],
    "explain": ["{ds}", "a", "frogs"],
}
EVERY = ["Sign", "year 287000 (us)", "Transactions.csv", "broken link", "binary garbage", "padded person id"]


@pytest.mark.parametrize("case", EVERY)
@pytest.mark.parametrize("command", sorted(READERS))
def test_every_command_refuses_bad_data_the_same_way(capsys, tmp_path, command, case):
    change, words = {c: (f, w) for c, f, w in BAD}[case]
    folder = base(tmp_path / "ds")
    change(folder)
    before = snapshot(folder)
    argv = [command, *(a.format(ds=folder, tmp=tmp_path) for a in READERS[command])]
    if command not in ("validate", "info"):
        argv.append("--quiet")
    code, out, err = run(capsys, *argv, "--json")
    line = error_line(err)
    assert code == EXIT_ERROR and words[0] in line, line
    assert strict_json(out)["exit_code"] == EXIT_ERROR
    assert snapshot(folder) == before


# ------------------------------------------------------------- --lenient on batch jobs
def with_a_stranger(folder: Path) -> Path:
    """The base dataset plus one edge from a person who is not in the people table (row 5)."""
    with open(folder / "edges.csv", "a") as fh:
        fh.write("zz,a,follows,,1,1,\n")
    return folder


LENIENT = {**{c: [c, *a] for c, a in READERS.items() if c not in ("validate", "info")},  # validate: tested above
           "loyal": ["loyal", "--source", "{ds}", "--topic", "frogs", "--score", "topic_influence", "--min-loyalty", "0"]}


@pytest.mark.parametrize("command", sorted(LENIENT))
def test_every_reader_takes_lenient_and_accounts_for_every_rejected_row(capsys, tmp_path, command):
    folder = with_a_stranger(base(tmp_path / "ds"))
    before = snapshot(folder)
    argv = [a.format(ds=folder, tmp=tmp_path) for a in LENIENT[command]] + ["--quiet", "--json"]
    code, out, err = run(capsys, *argv)
    assert code == EXIT_ERROR and "'zz'" in error_line(err) and "rows 5" in error_line(err)
    assert "--lenient" in error_line(err)
    code, out, err = run(capsys, *argv, "--lenient", "--rejects", str(tmp_path / "rejects.csv"))
    if command == "backtest":  # the tiny dataset has too few candidates: an answer about the data, not its rows
        assert code == EXIT_ERROR and "candidates" in error_line(err)
    else:
        assert code == 0, err
    assert "1 bad row(s)" in err and str(tmp_path / "rejects.csv") in err
    rejects = pl.read_csv(tmp_path / "rejects.csv")
    assert rejects.select("file", "row", "column").rows() == [(str(folder / "edges.csv"), 5, "src")]
    if command[0] == "score":
        assert strict_json(out)["rejected"] == 1
    assert snapshot(folder) == before
    code, out, err = run(capsys, *argv, "--lenient", "--rejects", str(folder / "edges.csv"))
    assert code == EXIT_ERROR and "input file" in error_line(err) and snapshot(folder) == before


def test_score_refuses_a_folder_it_cannot_write_before_scoring(capsys, tmp_path, monkeypatch):
    import graphkit.scoring.influence as influence

    monkeypatch.setattr(influence, "topic_influence", lambda *a, **k: pytest.fail("scored before checking --write"))
    (tmp_path / "afile").write_text("mine")
    code, _, err = run(capsys, "score", "--source", str(base(tmp_path / "ds")), "--write",
                       str(tmp_path / "afile" / "scores"), "--quiet")
    assert code == EXIT_ERROR and "afile is a file" in error_line(err) and (tmp_path / "afile").read_text() == "mine"
