"""Start a throw-away ArcadeDB server with its Bolt plugin, for tests and benchmarks.

The ``arcadedb-embedded`` wheel (test extra) bundles ArcadeDB's jars and a Java
runtime. We run the server as its own Java process (not inside Python through
JPype) so it can be stopped by its PID and cannot take the test process down:

    java -cp 'jars/*' -Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin \\
         -Darcadedb.bolt.host=127.0.0.1 -Darcadedb.bolt.port=PORT \\
         -Darcadedb.server.httpIncomingHost=127.0.0.1 -Darcadedb.server.httpIncomingPort=PORT2 \\
         -Darcadedb.server.rootPassword=... -Darcadedb.server.defaultDatabases='graphkit[root]' \\
         com.arcadedb.server.ArcadeDBServer

Every listener is bound to 127.0.0.1 on free ports; the databases live in a
temporary folder removed at :meth:`ArcadeDBServer.stop`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DATABASE = "graphkit"
USER = "root"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arcadedb_home() -> Path | None:
    """Folder of the installed arcadedb-embedded package (jars/ and jre/), or None."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("arcadedb_embedded")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    home = Path(list(spec.submodule_search_locations)[0])
    return home if (home / "jars").is_dir() and (home / "jre" / "bin" / "java").exists() else None


class ArcadeDBServer:
    """One ArcadeDB server process with Bolt on 127.0.0.1; stop it with :meth:`stop`."""

    def __init__(self, *, databases: tuple[str, ...] = (DATABASE,), heap: str = "768m",
                 password: str | None = None) -> None:
        home = arcadedb_home()
        if home is None:
            raise RuntimeError("arcadedb-embedded is not installed: pip install 'graphkit[test]'")
        self.home = home
        self.password = password or "gk-" + os.urandom(6).hex()
        self.bolt_port = _free_port()
        self.http_port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="graphkit-arcadedb-"))
        self.uri = f"bolt://127.0.0.1:{self.bolt_port}"
        self.databases = databases
        self.log_path = self.folder / "server.log"
        cmd = [
            str(home / "jre" / "bin" / "java"), f"-Xmx{heap}", "-cp", str(home / "jars") + "/*",
            f"-Darcadedb.server.rootPath={self.folder / 'root'}",
            f"-Darcadedb.server.rootPassword={self.password}",
            "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "-Darcadedb.bolt.host=127.0.0.1", f"-Darcadedb.bolt.port={self.bolt_port}",
            "-Darcadedb.server.httpIncomingHost=127.0.0.1", f"-Darcadedb.server.httpIncomingPort={self.http_port}",
            "-Darcadedb.server.defaultDatabases=" + ";".join(f"{db}[{USER}]" for db in databases),
            "-Darcadedb.server.mode=development",
            "com.arcadedb.server.ArcadeDBServer",
        ]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(cmd, cwd=self.folder, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until Bolt answers a query on every database."""
        import neo4j

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ArcadeDB exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with neo4j.GraphDatabase.driver(self.uri, auth=(USER, self.password)) as d:
                    for db in self.databases:
                        with d.session(database=db) as s:
                            s.run("RETURN 1 AS ok").consume()
                return
            except Exception as exc:  # not up yet: refused, or the database is still being created
                last = exc
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"ArcadeDB did not answer on {self.uri} within {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server by its own PID (TERM, then KILL) and remove its folder."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ArcadeDBServer:
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
