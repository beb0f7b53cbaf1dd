"""The JSON contract of every command: with --json, stdout is exactly one strict JSON object — the answer on
success, an error object on failure — and progress stays on stderr. One name for the bundled data.

A new command must have --json and a row in SUCCESS and FAILURE below.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

from graphkit.cli import build_parser, main
from graphkit.io.files import write_dataset
from graphkit.marketing.common import example_market

matplotlib.use("Agg")

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)

#: argv after the command name; {data} = a dataset folder (example market), {tmp} = a fresh folder.
SUCCESS = {
    "validate": ["{data}"],
    "info": ["{data}"],
    "generate": ["{tmp}/gen", "--people", "200", "--topics", "2"],
    "influence": ["{data}", "--topics", "lego", "--top", "2"],
    "communities": ["{data}", "--topics", "lego"],
    "score": ["--source", "{data}", "--write", "{tmp}/scores", "--score", "topic_influence"],
    "loyal": ["--source", "{data}", "--topic", "lego", "--score", "topic_influence", "--min-loyalty", "0"],
    "backtest": ["bundled", "--cutoff", "2010-01-01", "--scorers", "random,audience", "--n-bootstrap", "5",
                 "--out", "{tmp}/bt"],
    "demo": ["--out", "{tmp}/demo", "--topics", "Books", "--top", "2"],
    "matrix": ["{data}", "--topic", "lego", "--score", "topic_influence", "--png", "{tmp}"],
    "segments": ["{data}", "--topics", "lego"],
    "experts": ["{data}", "--topic", "lego", "--budget", "99.99"],
    "acts": ["{data}", "--topics", "lego", "--window-days", "30"],
    "explain": ["{data}", "lea", "lego"],
    "runs": ["{tmp}"],
    "erase": ["nobody", "--source", "{data}"],
    "pseudonymise": ["{data}", "{tmp}/pseudo"],
}

#: A failing run of each command (bad data, bad value, absent path) and its exit code.
FAILURE = {
    "validate": (["{tmp}/absent"], 1),
    "info": (["{tmp}/absent"], 1),
    "generate": (["{tmp}/gen", "--people", "1"], 2),
    "influence": (["{data}", "--topics", "toads"], 1),
    "communities": (["{data}", "--topics", "toads"], 1),
    "score": (["--source", "{tmp}/absent", "--write", "{tmp}/scores"], 1),
    "loyal": (["--source", "{data}", "--topic", "toads", "--score", "topic_influence"], 1),
    "backtest": (["{data}", "--cutoff", "2024-01-01", "--scorers", "fame", "--out", "{tmp}/bt"], 1),
    "demo": (["--out", "{tmp}/demo", "--topics", "Toads"], 1),
    "matrix": (["{data}", "--topic", "toads"], 1),
    "segments": (["{tmp}/absent"], 1),
    "experts": (["{data}", "--topic", "lego", "--budget", "1.005"], 1),
    "acts": (["{data}", "--window-days", "many"], 2),
    "explain": (["{data}", "zed", "lego"], 1),
    "runs": (["{data}"], 1),
    "erase": (["lea", "--source", "{tmp}/absent"], 1),
    "pseudonymise": (["{tmp}/absent", "{tmp}/pseudo"], 1),
}


@pytest.fixture(autouse=True)
def _erasure_key(monkeypatch):
    monkeypatch.setenv("GRAPHKIT_ERASURE_KEY", "test-key")  # erase refuses to run without it
    monkeypatch.setenv("GRAPHKIT_PSEUDONYM_KEY", "test-key")  # so does pseudonymise


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(example_market(), tmp_path_factory.mktemp("market") / "market")


def strict_json(text: str):
    """One line of JSON, refusing NaN and Infinity (Python's json accepts them; JSON does not)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line of JSON on stdout, got {len(lines)}: {text[:300]}"
    return json.loads(lines[0], parse_constant=refuse)


def argv(command: str, words: list[str], data: Path, tmp: Path) -> list[str]:
    return [command, *(w.format(data=data, tmp=tmp) for w in words), "--json", "--quiet"
            if "--quiet" in _options(command) else "--json"]


def _options(command: str) -> set[str]:
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    return {o for a in sub._actions for o in a.option_strings}


def test_every_command_has_json_and_a_contract_test():
    missing = [c for c in COMMANDS if "--json" not in _options(c)]
    assert not missing, f"commands without --json: {missing} (add graphkit.cli.common.add_output)"
    assert set(SUCCESS) == set(COMMANDS) == set(FAILURE), "add the new command to SUCCESS and FAILURE here"


@pytest.mark.parametrize("command", COMMANDS)
def test_success_is_one_json_object_on_stdout(command, data, tmp_path, capsys):
    code = main(argv(command, SUCCESS[command], data, tmp_path))
    out, err = capsys.readouterr()
    assert code == 0, err
    answer = strict_json(out)
    assert isinstance(answer, dict) and answer and "error" not in answer
    assert "Error" not in err


@pytest.mark.parametrize("command", COMMANDS)
def test_failure_is_one_json_error_object(command, data, tmp_path, capsys):
    words, expected = FAILURE[command]
    code = main(argv(command, words, data, tmp_path))
    out, err = capsys.readouterr()
    assert code == expected
    obj = strict_json(out)
    assert set(obj) >= {"error", "type", "exit_code"} and obj["exit_code"] == expected
    assert isinstance(obj["error"], str) and obj["error"]
    assert f"Error: {obj['error']}" in err  # the same one line on stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_options_are_json_usage_errors(command, capsys):
    assert main([command, "--json", "--no-such-option"]) == 2
    obj = strict_json(capsys.readouterr().out)
    assert obj["exit_code"] == 2 and ("--no-such-option" in obj["error"] or "required" in obj["error"])


def test_answers_carry_the_numbers(data, tmp_path, capsys):
    """Spot checks that the JSON says what the text says."""
    assert main(["info", str(data), "--json"]) == 0
    info = strict_json(capsys.readouterr().out)
    assert info["counts"]["people"] == example_market().people.height and info["topics"] == ["cooking", "lego"]
    assert main(["explain", str(data), "lea", "lego", "--json", "--quiet"]) == 0
    why = strict_json(capsys.readouterr().out)
    assert why["score"] == pytest.approx(sum(t["contribution"] for t in why["terms"]))
    assert sum(t["share"] for t in why["terms"]) == pytest.approx(1.0)
    assert main(["experts", str(data), "--topic", "lego", "--budget", "99.99", "--json", "--quiet"]) == 0
    experts = strict_json(capsys.readouterr().out)
    amounts = [r["amount"] for r in experts["recognition"]]
    assert all(isinstance(a, str) for a in amounts)  # exact cents, as text
    assert sum(round(float(a) * 100) for a in amounts) == 9999 and experts["budget"] == "99.99"
    assert main(["matrix", str(data), "--topic", "lego", "--score", "topic_influence", "--png", str(tmp_path),
                 "--json", "--quiet"]) == 0
    matrix = strict_json(capsys.readouterr().out)
    assert sum(q["customers"] for q in matrix["quadrants"]) == matrix["customers"]
    assert matrix["written"]["figure"] == str(tmp_path / "matrix.png") and (tmp_path / "matrix.png").exists()


# ---------------------------------------------------------------- one name for the bundled data
def test_bundled_is_the_one_name_and_old_names_still_work(capsys):
    assert main(["info", "bundled", "--json"]) == 0
    assert strict_json(capsys.readouterr().out)["counts"]["people"] == 7375
    assert main(["influence", "--bundled", "--topics", "Books", "--top", "1", "--json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert strict_json(out)["top"][0]["topic"] == "Books" and "--bundled is deprecated" in err
    assert main(["explain", "ciao", "343", "Books", "--top", "1", "--json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert strict_json(out)["person_id"] == "343" and "'ciao' for the bundled data is deprecated" in err
    assert main(["influence", "bundled", "--bundled", "--json"]) == 2
    for command in ("validate", "info", "influence", "communities", "backtest", "matrix", "segments", "experts",
                    "acts", "explain"):
        sub = build_parser()._subparsers._group_actions[0].choices[command]
        assert "'bundled' for the bundled Ciao data" in sub.format_help().replace("\n", " ").replace("  ", " ")


# ---------------------------------------------------------------- --png: the path written is the path reported
@pytest.mark.parametrize("given, written", [("{tmp}", "{tmp}/segments.png"), ("{tmp}/fig", "{tmp}/fig.png"),
                                            ("{tmp}/new/fig.png", "{tmp}/new/fig.png")])
def test_png_reports_the_real_path(given, written, data, tmp_path, capsys):
    assert main(["segments", str(data), "--png", given.format(tmp=tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    path = Path(written.format(tmp=tmp_path))
    assert f"written: {path}\n" in out and path.is_file() and path.stat().st_size > 10_000


def test_png_refuses_other_formats(data, tmp_path, capsys):
    assert main(["segments", str(data), "--png", str(tmp_path / "fig.jpg"), "--quiet"]) == 1
    assert "--png writes a PNG image" in capsys.readouterr().err
    assert not (tmp_path / "fig.jpg").exists()


# ---------------------------------------------------------------- --uncertainty: how sure each rank is, in the JSON
def test_uncertainty_columns_are_in_the_json(data, tmp_path, capsys):
    columns = {"score_low", "score_high", "rank_low", "rank_high", "p_top_1", "p_top_10"}
    loyal = ["loyal", "--source", str(data), "--topic", "lego", "--score", "topic_influence", "--min-loyalty", "0",
             "--top-percentile", "100", "--json", "--quiet"]
    assert main([*loyal, "--uncertainty", "30", "--seed", "3"]) == 0
    rows = strict_json(capsys.readouterr().out)["rows"]
    assert rows and all(columns <= set(r) for r in rows)
    assert all(0 <= r["p_top_1"] <= 1 and r["rank_low"] <= r["rank"] + 30 for r in rows)
    assert main([*loyal, "--uncertainty", "30", "--seed", "3"]) == 0
    assert strict_json(capsys.readouterr().out)["rows"] == rows  # seeded: the same answer
    assert main(loyal) == 0
    assert not columns & set(strict_json(capsys.readouterr().out)["rows"][0])  # only when asked
    folder = tmp_path / "scores"
    assert main(["score", "--source", str(data), "--write", str(folder), "--score", "topic_influence",
                 "--uncertainty", "20", "--json", "--quiet"]) == 0
    summary = strict_json(capsys.readouterr().out)
    assert set(summary["uncertainty"]["columns"]) == columns and summary["uncertainty"]["resamples"] == 20
    assert {s["k"] for s in summary["uncertainty"]["stability"]} == {1, 10} and summary["rows"]["stability"] > 0
    assert main(["loyal", "--source", str(data), "--scores", str(folder), "--topic", "lego", "--min-loyalty", "0",
                 "--json", "--quiet"]) == 0
    assert columns <= set(strict_json(capsys.readouterr().out)["rows"][0])  # the run's intervals pass through
    assert main([*loyal, "--uncertainty", "1"]) == 1
    assert "--uncertainty is a number of bootstrap resamples" in strict_json(capsys.readouterr().out)["error"]
    assert main(["loyal", "--source", "neo4j", "--topic", "lego", "--uncertainty", "10", "--json"]) == 1
    assert "graphkit score --uncertainty N" in strict_json(capsys.readouterr().out)["error"]
