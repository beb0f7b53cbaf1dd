"""The data commands: validate, info, generate; exit codes, one-line errors, help, python -m graphkit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from graphkit import read_dataset
from graphkit.cli import build_parser, main
from graphkit.io.files import REJECTS_FILE

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def good(tmp_path) -> Path:
    folder = tmp_path / "good"
    folder.mkdir()
    pl.DataFrame({"person_id": ["a", "b", "c"], "customer_id": ["c1", None, "c3"]}).write_csv(folder / "people.csv")
    pl.DataFrame({"src": ["a", "b", "c"], "dst": ["b", "c", "a"], "kind": ["follows", "shares", "mentions"],
                  "topic": [None, "frogs", "frogs"]}).write_csv(folder / "edges.csv")
    return folder


@pytest.fixture
def bad(good) -> Path:
    edges = pl.read_csv(good / "edges.csv").with_columns(weight=pl.Series(["1", "-3", "x"]))
    edges.write_csv(good / "edges.csv")
    return good


def test_validate_good_folder(capsys, good):
    code, out, err = run(capsys, "validate", str(good))
    assert code == 0 and err == ""
    assert out.strip() == f"{good}: valid (3 people, 3 edges, 0 transactions, 1 topics)"


def test_validate_bad_folder_one_line_error_exit_1(capsys, bad):
    code, out, err = run(capsys, "validate", str(bad))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    line = lines[0]
    assert f"{bad / 'edges.csv'}: table 'edges', column 'weight': expected a number, found String values 'x'" in line
    assert "rows 3" in line and "+1 more problem(s)" in line and "lenient" in line


def test_validate_verbose_shows_the_offending_rows(capsys, bad):
    code, _, err = run(capsys, "validate", str(bad), "--verbose")
    assert code == 1 and err.startswith("Error: ")
    assert len(err.strip().splitlines()) > 3 and "│ 3   ┆ x      │" in err


def test_validate_lenient_writes_rejects_and_counts_them(capsys, bad, tmp_path):
    code, out, err = run(capsys, "validate", str(bad), "--lenient")
    assert code == 1 and err == ""
    assert f"{bad}: 2 row(s) rejected, written to {bad}/{REJECTS_FILE}" in out
    assert "edges.weight: 2" in out
    rejects = pl.read_csv(bad / REJECTS_FILE)
    assert rejects["row"].to_list() == [2, 3]
    target = tmp_path / "out" / "rej.csv"
    code, out, _ = run(capsys, "validate", str(bad), "--lenient", "--rejects", str(target))
    assert code == 1 and target.exists() and str(target) in out


def test_validate_unreadable_file_exit_1(capsys, good):
    (good / "edges.csv").write_text("src,dst,kind\na,b,follows\nb,c\n")
    code, _, err = run(capsys, "validate", str(good))
    assert code == 1
    assert err.strip() == (f"Error: {good / 'edges.csv'}: 1 row(s) have fewer fields than the header's 3: "
                           "rows 2 (2 fields); is the file truncated?")


def test_validate_missing_folder_exit_1(capsys, tmp_path):
    code, _, err = run(capsys, "validate", str(tmp_path / "nowhere"))
    assert code == 1 and err.startswith(f"Error: {tmp_path / 'nowhere'}: is not a dataset folder")


def test_info_prints_counts_and_topics(capsys, good):
    code, out, err = run(capsys, "info", str(good))
    assert code == 0 and err == ""
    counts = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in out.splitlines()
              if not line.startswith("topics:")}
    assert counts["people"] == "3" and counts["customers"] == "2" and counts["edges.shares"] == "1"
    assert "topics: frogs" in out


def test_info_bad_folder_exit_1(capsys, bad):
    code, out, err = run(capsys, "info", str(bad))
    assert code == 1 and out == "" and err.startswith("Error: ") and len(err.strip().splitlines()) == 1


def test_generate_writes_a_valid_seeded_dataset_with_progress(capsys, tmp_path):
    out_dir = tmp_path / "synth"
    code, out, err = run(capsys, "generate", str(out_dir), "--people", "400", "--follows-per-person", "5",
                         "--topics", "3", "--seed", "9")
    assert code == 0
    g = read_dataset(out_dir)
    assert out.strip() == (f"{out_dir}: 400 people, {g.edges.height:,} edges, {g.transactions.height:,} "
                           "transactions, 3 topics (seed 9)")
    assert "generating 400 people ..." in err and "writing" in err and "done in" in err
    assert len(g.topics) == 3
    assert run(capsys, "validate", str(out_dir))[0] == 0
    again = tmp_path / "again"
    assert run(capsys, "generate", str(again), "--people", "400", "--follows-per-person", "5", "--topics", "3",
               "--seed", "9", "--quiet")[2] == ""
    assert read_dataset(again).edges.equals(g.edges)


def test_generate_csv_format(capsys, tmp_path):
    code, _, _ = run(capsys, "generate", str(tmp_path / "c"), "--people", "100", "--format", "csv", "--quiet")
    assert code == 0 and (tmp_path / "c" / "edges.csv").exists()
    assert run(capsys, "info", str(tmp_path / "c"))[0] == 0


@pytest.mark.parametrize("argv, message", [
    (["generate"], "the following arguments are required: OUT"),
    (["generate", "x", "--people", "1"], "argument --people: expected at least 2, got 1"),
    (["generate", "x", "--people", "many"], "argument --people: expected a whole number, got 'many'"),
    (["generate", "x", "--inactive-share", "half"], "argument --inactive-share: expected a number, got 'half'"),
    (["generate", "x", "--format", "json"], "invalid choice: 'json'"),
    (["validate"], "the following arguments are required: path"),
    (["info", "a", "b"], "unrecognized arguments: b"),
    (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
])
def test_usage_errors_exit_2(capsys, tmp_path, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "usage: graphkit" in err


def test_no_command_prints_help_and_exits_2(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "usage: graphkit" in err and "generate" in err


def test_generate_bad_value_is_a_one_line_error(capsys, tmp_path):
    code, _, err = run(capsys, "generate", str(tmp_path / "x"), "--people", "50", "--inactive-share", "1.5")
    assert code == 1
    assert err.strip().splitlines()[-1] == "Error: generate(): inactive_share must be in [0, 1), got 1.5"
    assert not (tmp_path / "x").exists()


def _subcommands() -> list[str]:
    return sorted(build_parser()._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("command", _subcommands())
def test_every_subcommand_has_working_help(capsys, command):
    code, out, err = run(capsys, command, "--help")
    assert code == 0 and err == ""
    assert out.startswith(f"usage: graphkit {command}") and "-h, --help" in out


def test_data_commands_are_registered():
    assert {"validate", "info", "generate"} <= set(_subcommands())


def _module(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "graphkit", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_python_dash_m_graphkit_runs_the_command(good):
    ok = _module("validate", str(good))
    assert ok.returncode == 0 and "valid (3 people" in ok.stdout
    version = _module("--version")
    assert version.returncode == 0 and version.stdout.startswith("graphkit ")


def test_python_dash_m_graphkit_errors_and_usage(tmp_path, bad):
    failed = _module("validate", str(bad))
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("Error: ")
    assert _module("generate").returncode == 2
