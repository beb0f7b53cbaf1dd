"""Writers delete only what graphkit made, one writer at a time, and a crash never loses or mixes data.

Dataset folders (``write_dataset``, ``graphkit generate``) and score folders
(``graphkit score --write FOLDER``, ``write_run``): ownership markers, refusal
of other folders, ``--force``, the folder lock (real parallel processes),
kills at every rename and delete step (real ``SIGKILL``), fsync before the
switch, and ``--rejects`` paths that would destroy an input.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

import graphkit.io.ownership as ownership
from graphkit import read_dataset, write_dataset
from graphkit.cli import EXIT_BUSY, main
from graphkit.errors import FolderNotOwnedError, WriterBusyError
from graphkit.io.files import LOCK_SUFFIX
from graphkit.io.ownership import MARKER, FolderLock
from graphkit.io.score_folder import LOCK_NAME, current_run, write_run
from graphkit.io.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def small():
    return generate(n_people=150, seed=4)


@pytest.fixture(scope="module")
def other():
    return generate(n_people=120, seed=5)


def _user_folder(path: Path) -> dict[str, bytes]:
    """A folder someone cares about: a git repository and a thesis."""
    (path / ".git").mkdir(parents=True)
    (path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (path / "thesis.tex").write_text("\\chapter{Influence}\n")
    return _snapshot(path)


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _graphkit(args: list[str], cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphkit", *args], env=ENV, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def _same_graph(a, b) -> bool:
    return a.people.equals(b.people) and a.edges.equals(b.edges) and a.transactions.equals(b.transactions)


# ------------------------------------------------------------ dataset folders
def test_generate_refuses_a_folder_graphkit_did_not_make_and_force_replaces_it(capsys, tmp_path):
    thesis = tmp_path / "thesis"
    before = _user_folder(thesis)
    code, out, err = _cli(capsys, "generate", str(thesis), "--people", "100", "--quiet")
    assert code == 1 and out == ""
    assert err.startswith(f"Error: {thesis}: is not empty and was not written by graphkit") and "--force" in err
    assert len(err.strip().splitlines()) == 1
    assert _snapshot(thesis) == before
    code, _, err = _cli(capsys, "generate", str(thesis), "--people", "100", "--quiet", "--force")
    assert code == 0, err
    assert not (thesis / ".git").exists() and read_dataset(thesis).people.height == 100


def test_write_dataset_refuses_other_folders_and_replaces_its_own(tmp_path, small, other):
    thesis = tmp_path / "thesis"
    before = _user_folder(thesis)
    with pytest.raises(FolderNotOwnedError, match="was not written by graphkit"):
        write_dataset(small, thesis)
    assert _snapshot(thesis) == before
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FolderNotOwnedError, match="is a file"):
        write_dataset(small, tmp_path / "a-file")
    (tmp_path / "empty").mkdir()
    assert _same_graph(read_dataset(write_dataset(small, tmp_path / "empty")), small)  # an empty folder is fine
    ds = write_dataset(small, tmp_path / "ds")
    assert json.loads((ds / MARKER).read_text())["kind"] == "dataset"
    assert _same_graph(read_dataset(write_dataset(other, ds)), other)  # its own folder: replaced
    scores = write_run(tmp_path / "scores", {"influence": pl.DataFrame({"x": [1]})}, run_id="r1").parents[1]
    with pytest.raises(FolderNotOwnedError, match="is a graphkit score folder, not a dataset folder"):
        write_dataset(small, scores)
    write_dataset(small, thesis, force=True)
    assert _same_graph(read_dataset(thesis), small) and not (thesis / "thesis.tex").exists()


def test_generate_into_the_working_folder_is_refused_cleanly(capsys, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    for folder in (tmp_path, tmp_path / "sub"):  # a non-empty working folder, and an empty one (it is replaced)
        folder.mkdir(exist_ok=True)
        monkeypatch.chdir(folder)
        code, out, err = _cli(capsys, "generate", ".", "--people", "50", "--quiet")  # a traceback would raise here
        assert code == 1 and out == ""
        assert err.strip() == ("Error: .: is the working folder or holds it, and this folder is replaced as a whole; "
                               "name a new folder, e.g. ./data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "sub"]


_KILLER = textwrap.dedent("""
    # Run a graphkit writer; SIGKILL this process just before the Nth rename, exchange or delete.
    import os, shutil, signal, sys
    import graphkit.io.ownership as ownership

    n, mode = int(sys.argv[1]), sys.argv[2]
    count = [0]

    def killing(real):
        def step(*args, **kwargs):
            count[0] += 1
            if count[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return step

    if mode == "two-renames":
        ownership.exchange = lambda a, b: False  # a system without an atomic exchange
    for mod, name in ((os, "rename"), (os, "replace"), (shutil, "rmtree"), (ownership, "exchange")):
        setattr(mod, name, killing(getattr(mod, name)))
""")


def _run_killed(tmp_path: Path, body: str, n: int, mode: str = "exchange") -> int:
    script = tmp_path / "writer.py"
    script.write_text(_KILLER + textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script), str(n), mode], env=ENV, capture_output=True,
                          timeout=300).returncode


def _tiny(n: int):
    """A two-table graph: few files, so few steps to kill the writer at."""
    from graphkit import TopicGraph

    ids = [f"p{i}" for i in range(n)]
    return TopicGraph.from_tables(pl.DataFrame({"person_id": ids}),
                                  pl.DataFrame({"src": ids[1:], "dst": ids[:-1], "kind": ["follows"] * (n - 1)}))


@pytest.mark.parametrize("mode", ["exchange", "two-renames"])
def test_a_dataset_writer_killed_at_any_step_never_leaves_no_dataset(tmp_path, mode):
    old, new = _tiny(5), _tiny(7)
    ds = write_dataset(old, tmp_path / "ds")
    source = write_dataset(new, tmp_path / "new")
    body = f"""
        from graphkit import read_dataset, write_dataset
        write_dataset(read_dataset({str(source)!r}), {str(ds)!r})
    """
    for n in range(1, 30):  # each step of one write; the loop ends when the write gets through
        code = _run_killed(tmp_path, body, n, mode)
        if code == 0:
            break
        assert code == -signal.SIGKILL, code
        if mode == "exchange":  # one atomic swap: the folder holds the old dataset or the new one at every step
            back = read_dataset(ds)
            assert _same_graph(back, old) or _same_graph(back, new), n
        # the next writer (under the lock) restores or cleans what the killed one left, and writes
        write_dataset(old, ds)
        assert _same_graph(read_dataset(ds), old)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")) == [f".ds{LOCK_SUFFIX}"]
    else:
        pytest.fail("the writer was still being killed after 29 steps")
    assert n >= 5  # the marker, two tables, the swap, the old folder's removal: every step was hit
    assert _same_graph(read_dataset(ds), new)


def test_a_dataset_writer_gives_up_with_exit_4_while_another_holds_the_lock(capsys, tmp_path, small):
    ds = write_dataset(small, tmp_path / "ds")
    with FolderLock(tmp_path / f".ds{LOCK_SUFFIX}", target="test", wait=0):
        code, out, err = _cli(capsys, "generate", str(ds), "--people", "60", "--wait", "0.2", "--quiet")
        assert code == EXIT_BUSY == 4 and out == ""
        assert err.startswith(f"Error: dataset folder {ds} is being written by another graphkit job (pid "
                              f"{os.getpid()} on ")
        assert "--wait SECONDS" in err and len(err.strip().splitlines()) == 1
        with pytest.raises(WriterBusyError) as info:
            write_dataset(small, ds, wait=0)
        assert info.value.holder.startswith(f"pid {os.getpid()} on ") and info.value.waited == 0
    assert _same_graph(read_dataset(ds), small)
    write_dataset(small, ds, wait=0)  # released


def test_parallel_dataset_writers_take_turns_and_leave_one_complete_dataset(tmp_path):
    sources = [write_dataset(_tiny(5 + k), tmp_path / f"src{k}") for k in range(3)]
    target = tmp_path / "ds"
    code = textwrap.dedent("""
        import sys
        from graphkit import read_dataset, write_dataset
        g = read_dataset(sys.argv[1])
        for _ in range(5):
            write_dataset(g, sys.argv[2], wait=300)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(src), str(target)], env=ENV, stderr=subprocess.PIPE,
                              text=True) for src in sources]
    for p in procs:
        assert p.wait(timeout=600) == 0, p.stderr.read()
    back = read_dataset(target)
    assert back.people.height in (5, 6, 7) and back.edges.height == back.people.height - 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")) == [f".ds{LOCK_SUFFIX}"]


# -------------------------------------------------------------- score folders
@pytest.fixture(scope="module")
def dataset(tmp_path_factory, small) -> Path:
    return write_dataset(small, tmp_path_factory.mktemp("data") / "small")


def _score(capsys, dataset: Path, scores: Path, run_id: str, *extra: str) -> tuple[int, str, str]:
    return _cli(capsys, "score", "--source", str(dataset), "--write", str(scores), "--run-id", run_id, "--quiet",
                *extra)


def _visible_runs(scores: Path) -> list[str]:
    return sorted(p.name.split(".")[0] for p in (scores / "runs").iterdir()
                  if not p.name.startswith(".") and (p / MARKER).exists())


def test_score_write_prunes_only_its_own_runs_and_refuses_other_folders(capsys, tmp_path, dataset, small):
    scores = tmp_path / "scores"
    topic = small.topics[0]
    assert _score(capsys, dataset, scores, "r1", "--topics", topic)[0] == 0
    mine = scores / "runs" / "my-analysis"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    (scores / "runs" / "r0.handmade").mkdir()  # named like a run, but graphkit did not write it
    (scores / "runs" / "r0.handmade" / "influence.parquet").write_bytes(b"mine")
    for run in ("r2", "r3"):
        code, _, err = _score(capsys, dataset, scores, run, "--topics", topic, "--keep-runs", "1")
        assert code == 0, err
    assert (mine / "notes.txt").read_text() == "keep me" and (scores / "runs" / "r0.handmade").exists()
    assert _visible_runs(scores) == ["r3"] and current_run(scores).name.startswith("r3.")

    thesis = tmp_path / "thesis"
    before = _user_folder(thesis)
    code, out, err = _score(capsys, dataset, thesis, "r1", "--topics", topic)
    assert code == 1 and "was not written by graphkit" in err and "--force" in err
    assert _snapshot(thesis) == before
    code, _, err = _score(capsys, dataset, dataset, "r1", "--topics", topic)
    assert code == 1 and "is a graphkit dataset folder, not a score folder" in err
    (tmp_path / "file").write_text("x")
    code, _, err = _score(capsys, dataset, tmp_path / "file", "r1", "--topics", topic)
    assert code == 1 and "is a file" in err
    code, _, err = _score(capsys, dataset, thesis, "r1", "--topics", topic, "--force")
    assert code == 0, err
    assert not (thesis / "thesis.tex").exists() and current_run(thesis).name.startswith("r1.")


def test_rerunning_a_run_id_writes_afresh_and_switches(capsys, tmp_path, dataset, small):
    scores = tmp_path / "scores"
    a, b = small.topics[:2]
    assert _score(capsys, dataset, scores, "same", "--topics", a, b)[0] == 0
    first = current_run(scores)
    assert _score(capsys, dataset, scores, "same", "--topics", b, "--damping-factor", "0.5")[0] == 0
    second = current_run(scores)
    assert second != first and second.name.startswith("same.")
    assert pl.read_parquet(second / "influence.parquet")["topic"].unique().to_list() == [b]  # no old topic kept
    assert json.loads((second / "run.json").read_text())["parameters"]["damping_factor"] == 0.5
    assert pl.read_parquet(first / "influence.parquet")["topic"].unique().sort().to_list() == sorted([a, b])


def test_a_score_writer_waits_for_another_and_gives_up_with_exit_4(capsys, tmp_path, dataset, small):
    scores = tmp_path / "scores"
    topic = small.topics[0]
    assert _score(capsys, dataset, scores, "r1", "--topics", topic)[0] == 0
    before = current_run(scores)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from graphkit.io.ownership import FolderLock
        with FolderLock({str(scores / LOCK_NAME)!r}, target="test", wait=0):
            print("locked", flush=True)
            sys.stdin.readline()
    """)], env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, out, err = _score(capsys, dataset, scores, "r2", "--topics", topic, "--wait", "0.2")
        assert code == EXIT_BUSY and out == ""
        assert err.startswith(f"Error: score folder {scores} is being written by another graphkit job "
                              f"(pid {holder.pid} on ")
        assert "gave up after waiting 0.2 s" in err
        waiting = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_write_run_body(scores, "r3", wait=300))],
                                   env=ENV, stderr=subprocess.PIPE, text=True)
    finally:
        holder.communicate("\n", timeout=30)
    assert waiting.wait(timeout=300) == 0, waiting.stderr.read()
    assert current_run(scores) != before and current_run(scores).name.startswith("r3.")


_PARALLEL_WRITER = textwrap.dedent("""
    import sys, polars as pl
    from graphkit.io.score_folder import write_run
    folder, name, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(times):
        table = pl.DataFrame({"writer": [name] * 2000, "i": [i] * 2000, "row": range(2000)})
        write_run(folder, {"influence": table, "loyalty": table}, run_id=f"{name}-{i}", keep_runs=1, wait=300)
""")


def test_parallel_writers_with_keep_runs_1_leave_one_complete_current_run(tmp_path):
    scores = tmp_path / "scores"
    procs = [subprocess.Popen([sys.executable, "-c", _PARALLEL_WRITER, str(scores), f"w{k}", "6"], env=ENV,
                              stderr=subprocess.PIPE, text=True) for k in range(3)]
    for p in procs:
        assert p.wait(timeout=600) == 0, p.stderr.read()
    run = current_run(scores)
    assert _visible_runs(scores) == [run.name.split(".")[0]]
    assert sorted(p.name for p in (scores / "runs").iterdir()) == [MARKER, run.name]  # no leftovers
    influence, loyal = pl.read_parquet(run / "influence.parquet"), pl.read_parquet(run / "loyalty.parquet")
    assert influence.height == 2000 and influence.equals(loyal)
    assert influence["writer"].n_unique() == 1 and f"{influence['writer'][0]}-{influence['i'][0]}" == run.name.split(".")[0]


def _score_body(dataset: Path, scores: Path, run_id: str, topic: str) -> str:
    return f"""
        from graphkit.cli import main
        raise SystemExit(main(["score", "--source", {str(dataset)!r}, "--write", {str(scores)!r}, "--run-id",
                               {run_id!r}, "--topics", {topic!r}, "--quiet"]))
    """


def _write_run_body(scores: Path, run_id: str, wait: float = 10) -> str:
    return f"""
        import polars as pl
        from graphkit.io.score_folder import write_run
        table = pl.DataFrame({{"run": [{run_id!r}] * 100}})
        write_run({str(scores)!r}, {{"influence": table}}, run_id={run_id!r}, wait={wait})
    """


def _write(scores: Path, run_id: str) -> Path:
    return write_run(scores, {"influence": pl.DataFrame({"run": [run_id] * 100})}, run_id=run_id)


def test_a_score_writer_killed_at_any_step_leaves_the_published_runs_and_no_leftovers(tmp_path):
    scores = tmp_path / "scores"
    _write(scores, "a")
    _write(scores, "b")
    for n in range(1, 60):
        published = current_run(scores)
        code = _run_killed(tmp_path, _write_run_body(scores, "k"), n)
        if code == 0:
            break
        assert code == -signal.SIGKILL, code
        now = current_run(scores)  # the run published before, or the new one if the kill came after the switch
        assert now == published or now.name.startswith("k."), n
        assert pl.read_parquet(now / "influence.parquet")["run"].unique().to_list() == [now.name.split(".")[0]]
        _write(scores, f"next{n}")  # keep_runs=2
        # the killed writer's leftovers are gone; the run published before the next one is kept
        assert sorted(p.name for p in (scores / "runs").iterdir() if p.name.startswith(".")) == [MARKER], n
        assert {p.name for p in (scores / "runs").iterdir() if not p.name.startswith(".")} == \
            {now.name, current_run(scores).name}
    else:
        pytest.fail("the writer was still being killed after 59 steps")
    assert n >= 8 and current_run(scores).name.startswith("k.")


def test_a_crash_just_before_the_switch_does_not_cost_the_last_published_run(capsys, tmp_path, dataset, small):
    scores = tmp_path / "scores"
    topic = small.topics[0]
    assert _score(capsys, dataset, scores, "a", "--topics", topic)[0] == 0
    published = current_run(scores)
    script = tmp_path / "switch_killer.py"
    script.write_text(textwrap.dedent("""
        import os, signal
        real = os.replace
        def replace(src, dst, *args, **kwargs):
            if os.path.basename(dst) == "CURRENT":  # the pointer switch: die just before it
                os.kill(os.getpid(), signal.SIGKILL)
            return real(src, dst, *args, **kwargs)
        os.replace = replace
    """) + textwrap.dedent(_score_body(dataset, scores, "crashed", topic)))
    assert subprocess.run([sys.executable, str(script)], env=ENV, timeout=300).returncode == -signal.SIGKILL
    assert current_run(scores) == published
    code, _, err = _score(capsys, dataset, scores, "c", "--topics", topic)  # --keep-runs 2: c and the one before
    assert code == 0, err
    assert _visible_runs(scores) == ["a", "c"]  # the unpublished run went, the last published one stayed


# --------------------------------------------------------------------- fsync
def test_files_and_folders_are_flushed_before_the_switch(tmp_path, small, monkeypatch):
    events: list[tuple[str, str]] = []
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst, *a, **k):
        events.append(("rename", str(dst)))
        return real_replace(src, dst, *a, **k)

    def rename(src, dst, *a, **k):
        events.append(("rename", str(dst)))
        return real_rename(src, dst, *a, **k)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    ds = write_dataset(small, tmp_path / "ds")  # a first write: renamed into place
    synced = [p for kind, p in events if kind == "fsync"]
    for table in ("people", "edges", "transactions"):  # each file, under its temporary name
        assert any(Path(p).name.startswith(f".{table}.parquet.") for p in synced), table
    assert str(tmp_path) in synced  # the parent, after the rename
    last_file = max(i for i, (kind, p) in enumerate(events) if kind == "fsync" and ".parquet." in p)
    publish = next(i for i, e in enumerate(events) if e == ("rename", str(ds)))
    assert last_file < publish
    assert any(kind == "fsync" and Path(p).name.startswith(".ds.tmp-") for kind, p in events[:publish])

    events.clear()
    run = write_run(tmp_path / "scores", {"influence": pl.DataFrame({"x": [1]})}, run_id="r1")
    switch = next(i for i, e in enumerate(events) if e == ("rename", str(tmp_path / "scores" / "CURRENT")))
    before = [p for kind, p in events[:switch] if kind == "fsync"]
    assert any(Path(p).name.startswith(".influence.parquet.") for p in before) and str(run.parent) in before
    assert any(Path(p).name.startswith(".run.json.") for p in before)
    assert any(Path(p).name.startswith(".writing-") for p in before)
    assert ("fsync", str(tmp_path / "scores")) in events[switch:]


# ------------------------------------------------------------------ rejects
@pytest.fixture
def bad(tmp_path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    pl.DataFrame({"person_id": ["a", "b"]}).write_csv(folder / "people.csv")
    pl.DataFrame({"src": ["a", "b"], "dst": ["b", "a"], "kind": ["follows", "mentions"], "topic": [None, "t"],
                  "weight": ["1", "-2"]}).write_csv(folder / "edges.csv")
    return folder


def test_rejects_never_overwrite_an_input_or_a_file_graphkit_did_not_write(capsys, tmp_path, bad):
    inputs = _snapshot(bad)
    for target, message in [
        (bad / "edges.csv", "is an input file of the dataset"),
        (bad / "people.csv", "is an input file of the dataset"),
        (bad / "transactions.csv", "is where the transactions table of"),  # would be read as a table next time
        (bad / "items.parquet", "is where the items table of"),
    ]:
        code, out, err = _cli(capsys, "validate", str(bad), "--lenient", "--rejects", str(target))
        assert code == 1 and message in err and err.startswith("Error: ") and "--rejects FILE" in err, err
        assert _snapshot(bad) == inputs
    link = tmp_path / "link.csv"
    link.symlink_to(bad / "edges.csv")
    code, _, err = _cli(capsys, "validate", str(bad), "--lenient", "--rejects", str(link))
    assert code == 1 and "is an input file" in err and _snapshot(bad) == inputs
    mine = tmp_path / "mine.csv"
    mine.write_text("my,own\n1,2\n")
    code, _, err = _cli(capsys, "validate", str(bad), "--lenient", "--rejects", str(mine))
    assert code == 1 and "exists and is not a rejects file" in err and mine.read_text() == "my,own\n1,2\n"
    out_file = tmp_path / "rejects.csv"
    for _ in range(2):  # a rejects file graphkit wrote is replaced
        code, out, _ = _cli(capsys, "validate", str(bad), "--lenient", "--rejects", str(out_file))
        assert code == 1 and "1 row(s) rejected" in out and pl.read_csv(out_file).height == 1
    for _ in range(2):  # the default, beside the input tables
        code, out, _ = _cli(capsys, "validate", str(bad), "--lenient")
        assert code == 1 and (bad / "rejects.csv").exists()


def test_folder_lock_refuses_a_bad_wait(tmp_path):
    with pytest.raises(Exception, match="wait must be a number of seconds >= 0"):
        FolderLock(tmp_path / "l", target="x", wait=-1)
    with pytest.raises(Exception, match="wait must be a number of seconds >= 0"):
        ownership.check_wait(float("nan"))
