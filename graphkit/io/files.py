"""The embedded store: a dataset is a folder with one file per table.

Files are named after the tables (``people.parquet`` or ``people.csv``, ...;
see :data:`graphkit.model.schema.TABLES`); ``people`` and ``edges`` are required,
the others optional. Writes are atomic: a folder or file is written under a
temporary name, flushed to disk and renamed (a folder: swapped) into place, so
a crash never leaves half a dataset, or none. A dataset folder carries a
``.graphkit`` marker, and :func:`write_dataset` replaces only such a folder
(or an empty one), one writer at a time (see :mod:`graphkit.io.ownership`).

>>> import tempfile, polars as pl
>>> from graphkit import TopicGraph, read_dataset, write_dataset
>>> g = TopicGraph.from_tables(pl.DataFrame({"person_id": ["a", "b"]}),
...     pl.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["follows"]}))
>>> folder = write_dataset(g, tempfile.mkdtemp() + "/tiny")
>>> read_dataset(folder).edges.equals(g.edges)
True
"""

from __future__ import annotations

import csv
import errno
import io
import os
import shutil
import stat
import tempfile
from pathlib import Path

import polars as pl

from graphkit.errors import DataFileError, FolderNotOwnedError, GraphkitError, StoreError
from graphkit.io.ownership import (
    DEFAULT_WAIT,
    ERASURE_LOG,
    FolderLock,
    claim,
    fsync_dir,
    fsync_file,
    made_by_us,
    remove_tree,
    replace_folder,
    restore_aside,
    writable_folder,
)
from graphkit.model.graph import TopicGraph
from graphkit.model.schema import REJECTS_SCHEMA, TABLE_ORDER, TABLES

FORMATS = ("parquet", "csv")
REJECTS_FILE = "rejects.csv"
#: Suffix of the lock file a dataset writer holds next to the folder (``.NAME.graphkit-lock``).
LOCK_SUFFIX = ".graphkit-lock"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _find(folder: Path, table: str) -> Path | None:
    """The file of ``table`` in ``folder``, or None; refuses near misses, two formats and dead links.

    ``Transactions.csv`` is not ``transactions.csv``: left alone, the table
    would be silently absent, so a file named like a table in another case
    (or with spaces around the name) is an error, as is a table present only
    in a format graphkit does not read (``edges.tsv``, ``people.csv.gz``) and
    a table file that is a broken or looping symbolic link.
    """
    wanted = {f"{table}.{ext}" for ext in FORMATS}
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise DataFileError(str(folder), f"cannot be listed ({exc.strerror or exc})") from None
    found = [folder / f"{table}.{ext}" for ext in FORMATS if f"{table}.{ext}" in names]
    near = [n for n in names if n not in wanted and n.strip().lower() in wanted]
    if near:
        raise DataFileError(str(folder / near[0]), f"looks like the {table} table, but graphkit reads only "
                                                    f"{table}.parquet or {table}.csv (lower case): rename it")
    if len(found) > 1:
        raise DataFileError(str(folder), f"both {found[0].name} and {found[1].name} exist; keep one")
    if not found:  # edges.tsv, transactions.txt, people.csv.gz: the table would be silently absent
        other = [n for n in names if not n.startswith(".") and n.split(".", 1)[0].strip().lower() == table]
        if other:
            raise DataFileError(str(folder / other[0]), f"looks like the {table} table, but graphkit reads only "
                                                         f"{table}.parquet or {table}.csv: save it in one of "
                                                         "those formats under that name")
    return found[0] if found else None


def _check_file(path: Path) -> None:
    """Refuse what cannot be read as a table without blocking: dead links, folders, FIFOs, devices, sockets."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise DataFileError(str(path), f"is a symbolic link to {os.readlink(path)!r}, which does not exist") from None
        raise DataFileError(str(path), "no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataFileError(str(path), "is a symbolic link that loops (it leads back to itself)") from None
        raise DataFileError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataFileError(str(path), "is a directory; expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise DataFileError(str(path), "is not a regular file (a FIFO, device or socket); graphkit reads tables "
                                       "from files only: copy the data into a file")


#: How much of a CSV file is looked at before it is parsed: garbage is refused from this much.
SNIFF_BYTES = 1 << 20


def _csv_header(path: Path) -> list[str]:
    """The header of a CSV file, from its first ``SNIFF_BYTES`` only; refuses binary, non-UTF-8 and header-less files.

    So a huge file of garbage is refused in milliseconds and bounded memory,
    not after parsing all of it. Duplicate column names are refused too (the
    parser would rename one and the data of the other be lost).
    """
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
        more = bool(fh.read(1))
    if b"\x00" in head:
        raise DataFileError(str(path), "holds NUL bytes: not a CSV text file (a binary file named .csv?)")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (more and exc.start >= len(head) - 3):  # not just a character cut by the sniff's end
            raise DataFileError(str(path), f"is not UTF-8 text (byte {exc.start + 1} is {head[exc.start]:#04x}); "
                                           "save it as UTF-8 text") from None
        text = head[: exc.start].decode("utf-8")
    text = text.removeprefix("\ufeff")
    if more and "\n" not in text and "\r" not in text:
        raise DataFileError(str(path), f"its first line is longer than {SNIFF_BYTES >> 20} MiB: not a CSV table "
                                       "(a header line naming the columns comes first)")
    header = next(csv.reader(io.StringIO(text)), [])
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataFileError(str(path), f"has two columns named {name!r}: rename one (graphkit would otherwise "
                                           "read only one of them)")
        seen.add(name)
    return header


def read_table(path: str | os.PathLike) -> pl.DataFrame:
    """Read one Parquet or CSV file; CSV values are read as text and typed by validation.

    Unreadable, truncated or malformed files raise
    :class:`~graphkit.errors.DataFileError` naming the file; so does a CSV
    row with fewer fields than the header (polars would pad it with nulls,
    which is how a file cut short looks).
    """
    path = Path(path)
    if path.suffix not in (".parquet", ".csv"):
        raise DataFileError(str(path), f"unsupported file type {path.suffix!r}; use .parquet or .csv")
    _check_file(path)
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        _csv_header(path)
        df = pl.read_csv(path, infer_schema=False)
    except GraphkitError:
        raise
    except FileNotFoundError:
        raise DataFileError(str(path), "no such file") from None
    except Exception as exc:  # polars raises several types for corrupt input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "utf-8" in first.lower() or "utf8" in first.lower():
            raise DataFileError(str(path), f"cannot be read ({first}); save it as UTF-8 text") from None
        raise DataFileError(str(path), f"cannot be read ({first}); is it truncated or not a {path.suffix[1:]} file?") from None
    if any("\x00" in name for name in df.columns):
        raise DataFileError(str(path), "holds NUL bytes: not a CSV text file (a binary file named .csv?)")
    return _check_csv_fields(path, df)


def _check_csv_fields(path: Path, df: pl.DataFrame) -> pl.DataFrame:
    """Refuse CSV records with fewer fields than the header (a file cut short, a lost separator).

    polars pads such records with nulls, so only a file whose last column has
    nulls can hold one; only then is the file scanned record by record.
    Blank lines at the end of the file (an editor's extra newline) are
    dropped; a blank line between rows is refused like a short row.
    """
    if df.height == 0 or df[:, -1].null_count() == 0:
        return df
    short: list[tuple[int, int]] = []
    blank: list[int] = []
    last = rows = 0  # the last record that is not a blank line; records read
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # long text fields are data, not an error
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader, None)  # the header
        for row, record in enumerate(reader, 1):  # data-row numbers, header excluded, as in validation
            rows = row
            if not record:
                blank.append(row)
                continue
            last = row
            if len(record) < df.width:
                short.append((row, len(record)))
    trailing = rows - last
    if trailing and rows == df.height and df.tail(trailing).null_count().sum_horizontal().item() == trailing * df.width:
        df = df.head(last)
    short += [(r, 0) for r in blank if r < last]
    short.sort()
    if short:
        shown = ", ".join(f"{r} ({n} field{'s' if n != 1 else ''}{', blank' if n == 0 else ''})" for r, n in short[:5])
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        raise DataFileError(
            str(path),
            f"{len(short)} row(s) have fewer fields than the header's {df.width}: rows {shown}{more}; "
            "is the file truncated?",
        )
    return df


def read_dataset(
    path: str | os.PathLike,
    *,
    lenient: bool = False,
    rejects_path: str | os.PathLike | None = None,
) -> TopicGraph:
    """Read and validate a dataset folder into a :class:`TopicGraph`.

    Strict by default. With ``lenient=True`` bad rows are left out of the
    graph and written, each with its reason, to ``rejects_path`` (default
    ``<path>/rejects.csv``); ``graph.rejects`` holds them too.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataFileError(str(folder), "is not a dataset folder (expected people.parquet|csv and edges.parquet|csv in it)")
    raw: dict[str, pl.DataFrame | None] = {}
    files: dict[str, str] = {}
    for table in TABLE_ORDER:
        found = _find(folder, table)
        if found is None:
            if TABLES[table].min_rows:
                raise DataFileError(str(folder / f"{table}.parquet"), f"the {table} table is required (.parquet or .csv)")
            raw[table] = None
            continue
        raw[table] = read_table(found)
        files[table] = str(found)
    graph = TopicGraph.from_tables(**raw, lenient=lenient, files=files, source=str(folder))
    if lenient and graph.rejects.height:
        target = Path(rejects_path) if rejects_path else folder / REJECTS_FILE
        write_table(graph.rejects, check_rejects_path(target, folder, files.values()))
    return graph


def check_rejects_path(target: str | os.PathLike, folder: str | os.PathLike, inputs=()) -> Path:
    """``target`` as a rejects file for the dataset in ``folder``, refused if writing it would destroy data.

    Refused: one of the ``inputs`` (the table files read), a file named like
    a table in ``folder`` (it would be read as that table next time), a
    folder, and an existing file that is not a rejects file (its columns are
    not the rejects columns).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_rejects_path(folder / "rejects.csv", folder).name
    'rejects.csv'
    >>> try:
    ...     check_rejects_path(folder / "edges.csv", folder)
    ... except FolderNotOwnedError as exc:
    ...     print(exc.reason.split(";")[0].replace(str(folder), "FOLDER"))
    is where the edges table of FOLDER is read from
    """
    path = Path(target)
    where = path.resolve()
    for source in inputs:
        if os.path.exists(source) and os.path.exists(where) and os.path.samefile(source, where):
            raise FolderNotOwnedError(str(path), "is an input file of the dataset; the rejects would overwrite it: "
                                                 "choose another --rejects FILE")
    if where.parent == Path(folder).resolve() and where.stem in TABLES and where.suffix in (".csv", ".parquet"):
        raise FolderNotOwnedError(str(path), f"is where the {where.stem} table of {folder} is read from; "
                                             "choose another --rejects FILE")
    if where.is_dir():
        raise FolderNotOwnedError(str(path), "is a folder; --rejects names a .csv or .parquet file")
    if where.exists():
        try:
            if where.suffix == ".parquet":
                columns = list(pl.read_parquet_schema(where))
            else:
                with open(where, newline="", encoding="utf-8") as fh:
                    columns = next(csv.reader(fh), [])
        except Exception:  # unreadable or not text: certainly not a rejects file graphkit wrote
            columns = []
        if columns != list(REJECTS_SCHEMA):
            raise FolderNotOwnedError(str(path), "exists and is not a rejects file (its columns differ); graphkit "
                                                 "does not overwrite it: choose another --rejects FILE")
    return path


def write_table(df: pl.DataFrame, path: str | os.PathLike) -> Path:
    """Write one table atomically as Parquet or CSV (chosen by the suffix), flushed to disk before the rename."""
    path = check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise DataFileError(str(path), f"cannot be written ({exc.strerror or exc})") from None
    os.close(fd)
    try:
        if path.suffix == ".parquet":
            df.write_parquet(tmp, compression="zstd", statistics=True)
        else:
            df.write_csv(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes private files; give the usual mode
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk, a folder in the way
            raise DataFileError(str(path), f"cannot be written ({exc.strerror or exc})") from None
        raise
    fsync_dir(path.parent)
    return path


def check_writable(path: str | os.PathLike) -> Path:
    """``path`` if a table can be written there, checked before any work is done; else an error naming it.

    Refused: a name not ending in .parquet or .csv, an existing folder, a
    path under a file, a folder that cannot be written (or created).

    >>> import tempfile
    >>> check_writable(Path(tempfile.mkdtemp()) / "new" / "out.csv").name
    'out.csv'
    """
    path = Path(path)
    if path.suffix not in (".parquet", ".csv"):
        raise GraphkitError(f"cannot write {path}: use a .parquet or .csv file name")
    if path.is_dir():
        raise DataFileError(str(path), "is a folder; name a file to write")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        if os.path.lexists(parent):
            raise DataFileError(str(path), f"cannot be written: {parent} is a broken link")
        parent = parent.parent
    if not parent.is_dir():
        raise DataFileError(str(path), f"cannot be written: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataFileError(str(path), f"cannot be written: no permission to write in {parent}")
    return path


def write_dataset(
    graph: TopicGraph,
    path: str | os.PathLike,
    *,
    format: str = "parquet",
    force: bool = False,
    wait: float = DEFAULT_WAIT,
) -> Path:
    """Write every non-empty table of ``graph`` into the folder ``path``, atomically; return the folder.

    The folder is replaced as a whole: written under a temporary name beside
    it, flushed to disk, then swapped in (one atomic exchange on Linux), so
    readers see the old dataset or the new one, never a mix, and a crash
    never leaves none. graphkit replaces only what it made: ``path`` must not
    exist, be empty, or be a dataset folder graphkit wrote (it carries a
    ``.graphkit`` marker); anything else raises
    :class:`~graphkit.errors.FolderNotOwnedError` unless ``force=True``.
    One writer at a time: another one waits up to ``wait`` seconds, then
    raises :class:`~graphkit.errors.WriterBusyError`.
    """
    if format not in FORMATS:
        raise GraphkitError(f"format must be one of {FORMATS}, got {format!r}")
    target = writable_folder(path, "dataset", force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with FolderLock(target.parent / f".{target.name}{LOCK_SUFFIX}", target=f"dataset folder {path}", wait=wait):
            writable_folder(target, "dataset", force=force)  # again, now that no other writer can change it
            _clean_leftovers(target)
            with replace_folder(target, prefix=f".{target.name}.tmp-", mode=0o777 & ~_umask()) as tmp:
                claim(tmp, "dataset", target=target.name, format=format)  # first: a crash leaves a marked leftover
                for name, df in graph.tables().items():
                    if df.height or TABLES[name].min_rows:
                        write_table(df, tmp / f"{name}.{format}")
                if (target / ERASURE_LOG).is_file():  # the proof of past erasures outlives a rewrite
                    shutil.copy2(target / ERASURE_LOG, tmp / ERASURE_LOG)
                    fsync_file(tmp / ERASURE_LOG)
    except OSError as exc:
        raise StoreError(f"cannot write the dataset folder {path}: {exc.strerror or exc}") from None
    return target


def _clean_leftovers(target: Path) -> None:
    """Undo what a crashed writer of ``target`` left: a folder renamed aside, temporary folders (marked ones only)."""
    restore_aside(target)
    for prefix in (f".{target.name}.tmp-", f".{target.name}.old-"):
        for p in target.parent.iterdir():
            if p.name.startswith(prefix) and made_by_us(p, "dataset", target=target.name):
                remove_tree(p)
