"""Progress: a tqdm bar on a terminal, two plain lines per step in a log, nothing with --quiet."""

from __future__ import annotations

import io
import sys

import pytest

from graphkit.cli import main
from graphkit.progress import mode, step, track


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal(monkeypatch) -> Terminal:
    """Make stderr a terminal (inside the test body: pytest re-installs its capture after fixtures run)."""
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    return term


def test_a_log_gets_one_start_and_one_done_line_per_step(capsys):
    assert mode() == "lines"  # pytest captures stderr: not a terminal
    with step("scoring"):
        pass
    for _ in track(range(4), "writing batches"):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4 and "\r" not in "".join(lines)
    assert lines[0] == "scoring ..." and lines[1].startswith("scoring: done in ")
    assert lines[2] == "writing batches ..." and lines[3].startswith("writing batches: done (4/4) in ")


def test_a_terminal_gets_a_tqdm_bar_with_a_percentage(monkeypatch):
    term = terminal(monkeypatch)
    assert mode() == "bar"
    for _ in track(range(4), "writing batches"):
        pass
    shown = term.getvalue()
    assert "writing batches: 100%" in shown and "4/4" in shown and "\r" in shown
    term.seek(0)
    term.truncate(0)
    with step("topic influence"):
        pass
    assert "topic influence: 00:00" in term.getvalue()  # an opaque step shows its clock


def test_quiet_means_nothing(monkeypatch):
    term = terminal(monkeypatch)
    with step("scoring", enabled=False):
        pass
    assert list(track([1, 2], "items", enabled=False)) == [1, 2]
    assert term.getvalue() == ""


def test_a_failing_step_reports_no_done_line(capsys):
    with pytest.raises(ZeroDivisionError):
        with step("dividing"):
            1 / 0
    assert capsys.readouterr().err.splitlines() == ["dividing ..."]


def test_cli_progress_goes_to_stderr_and_quiet_silences_it(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "a"), "--people", "200", "--topics", "2"]) == 0
    out, err = capsys.readouterr()
    assert "generating 200 people ..." in err and "generating" not in out
    assert main(["generate", str(tmp_path / "b"), "--people", "200", "--topics", "2", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
