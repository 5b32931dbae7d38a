"""A throwaway PostgreSQL server for tests of any package (server, client, adapters).

:class:`PgCluster` runs a real PostgreSQL: ``initdb`` + ``pg_ctl`` in a temporary
directory, listening on 127.0.0.1 on a free port with its Unix socket in that
directory (fsync off: the cluster is thrown away). PostgreSQL refuses to run as
root, so when the tests run as root (CI does) the server runs as the ``postgres``
system user through ``runuser``, with the directory handed to that user.

:func:`find_pg_bin` finds the binaries (``PATH`` first, then Debian's
``/usr/lib/postgresql/<version>/bin``); it returns None when they are missing, and
the calling fixture decides whether that is a skip or — with
``TOPGUN_REQUIRE_POSTGRES=1`` — a failure (this module reads no environment).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

__all__ = ["PG_START_TIMEOUT_S", "PgCluster", "find_pg_bin", "free_port"]

PG_START_TIMEOUT_S = 60
_SYSTEM_USER = "postgres"


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for candidate in reversed(candidates):
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PgCluster:
    """One throwaway PostgreSQL cluster; ``start()`` / ``stop()`` / ``dsn()`` / ``remove()``."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="topgun-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, user=_SYSTEM_USER, group=_SYSTEM_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        self.running = False

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", _SYSTEM_USER, "--", *command]
        # Fixed tool paths and arguments built here, never user input.
        result = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, cwd=self.root, check=False
        )
        if result.returncode != 0:
            log = self.root / "server.log"
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {result.stdout}\n{result.stderr}\n{server_log}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-w", "-t", str(PG_START_TIMEOUT_S), "-o", options, "start",
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """Stop the server at once (immediate mode)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.running = False

    def dsn(self, dbname: str = "postgres", **params: str) -> str:
        """A libpq URI for ``dbname`` with extra query ``params``."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}" + (
            f"?{query}" if query else ""
        )

    def create_database(self, dbname: str) -> str:
        """Create a database and return its DSN."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.dsn(dbname)

    def remove(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
