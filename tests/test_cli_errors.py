"""Every command fails the same way: one ``Error:`` line, a documented exit code, JSON errors with ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import graphkit.cli.data as data_cli
from graphkit.cli import EXIT_ERROR, EXIT_INTERNAL, EXIT_USAGE, main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def strict_json(text: str):
    """Parse as JSON, refusing NaN and Infinity (Python's json accepts them; JSON does not)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def huge_amounts(tmp_path) -> Path:
    """Two purchases of 1.7e308 each: their sum is infinite."""
    d = tmp_path / "huge"
    d.mkdir()
    pl.DataFrame({"person_id": ["a", "b", "c"], "customer_id": ["c1", "c2", "c3"]}).write_csv(d / "people.csv")
    pl.DataFrame({"src": ["b", "c", "a", "b"], "dst": ["a", "a", "i1", "i1"],
                  "kind": ["follows", "follows", "reviews", "reviews"], "topic": [None, None, "frogs", "frogs"],
                  "ts": [None, None, "2024-01-01", "2024-01-02"]}).write_csv(d / "edges.csv")
    pl.DataFrame({"item_id": ["i1"], "topic": ["frogs"]}).write_csv(d / "items.csv")
    pl.DataFrame({"customer_id": ["c1", "c1", "c2"], "item_id": ["i1"] * 3, "amount": [1.7e308, 1.7e308, 5.0],
                  "ts": ["2024-01-01", "2024-01-03", "2024-01-02"]}).write_csv(d / "transactions.csv")
    return d


def test_json_output_never_holds_infinity_or_nan(capsys, huge_amounts):
    code, out, _ = run(capsys, "loyal", "--source", str(huge_amounts), "--topic", "frogs", "--json", "--quiet",
                       "--min-loyalty", "0", "--top-percentile", "100", "--score", "topic_influence")
    assert code == 0
    answer = strict_json(out)
    assert {r["customer_id"]: r["monetary"] for r in answer["rows"]} == {"c1": None, "c2": 5.0}


def test_json_mode_errors_are_a_json_object_on_stdout_and_one_line_on_stderr(capsys, tmp_path):
    code, out, err = run(capsys, "loyal", "--source", str(tmp_path / "absent"), "--topic", "frogs", "--json",
                         "--quiet")
    assert code == EXIT_ERROR
    obj = strict_json(out)
    assert obj["exit_code"] == EXIT_ERROR and obj["type"] == "DataFileError"
    assert obj["file"] == str(tmp_path / "absent") and "dataset folder" in obj["error"]
    assert one_error_line(err) == f"Error: {obj['error']}"


def test_json_mode_usage_errors_are_json_too(capsys):
    code, out, err = run(capsys, "loyal", "--json", "--limit", "many")
    assert code == EXIT_USAGE
    obj = strict_json(out)
    assert obj["exit_code"] == EXIT_USAGE and "--limit" in obj["error"]
    assert "usage: graphkit loyal" in err and one_error_line(err).startswith("Error: graphkit loyal: argument --limit")


def test_an_unexpected_exception_is_one_line_exit_70_not_a_traceback(capsys, monkeypatch, tmp_path):
    def broken(args):
        raise KeyError("boom")

    monkeypatch.setattr(data_cli, "_info", broken)
    code, out, err = run(capsys, "info", str(tmp_path))
    assert code == EXIT_INTERNAL and out == ""
    line = one_error_line(err)
    assert "internal error (KeyError: 'boom')" in line and "report" in line


def test_an_os_error_names_the_path_exit_1(capsys, monkeypatch, tmp_path):
    def unwritable(args):
        open(tmp_path / "no" / "such" / "dir.csv", "w")

    monkeypatch.setattr(data_cli, "_info", unwritable)
    code, _, err = run(capsys, "info", str(tmp_path))
    assert code == EXIT_ERROR
    assert one_error_line(err) == f"Error: {tmp_path / 'no' / 'such' / 'dir.csv'}: No such file or directory"


def test_traceback_on_request(monkeypatch, tmp_path):
    def broken(args):
        raise KeyError("boom")

    monkeypatch.setattr(data_cli, "_info", broken)
    monkeypatch.setenv("GRAPHKIT_TRACEBACK", "1")
    with pytest.raises(KeyError):
        main(["info", str(tmp_path)])


def test_bad_rows_hint_names_the_cli_flag_not_python(tmp_path, capsys):
    (tmp_path / "people.csv").write_text("person_id,name\np1,A\np2,B\n")
    (tmp_path / "edges.csv").write_text("src,dst,kind,weight\np1,p2,follows,abc\n")
    code, out, err = run(capsys, "validate", str(tmp_path))
    assert code == EXIT_ERROR
    assert "--lenient" in err and "lenient=True" not in err
