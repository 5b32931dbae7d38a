"""The blocking half of the SQLite adapter: one sqlite3 connection and its statements.

Every method here runs on the adapter's single worker thread (see ``_sqlite``), so
the connection is only ever touched by the thread that opened it and calls are
strictly one after another. The connection is in autocommit mode
(``isolation_level=None``) and every write is an explicit ``BEGIN IMMEDIATE`` …
``COMMIT``: the write lock is taken up front, so a transaction never fails half-way
for lack of it, and any exception rolls the whole transaction back.

Durability: the database runs in WAL mode. With ``synchronous=FULL`` (the default)
the WAL is fsynced at every commit, so a committed transaction survives a process
kill *and* an OS crash or power loss. ``synchronous=NORMAL`` fsyncs only at
checkpoints: a commit still survives ``kill -9`` (the WAL write reached the OS before
``COMMIT`` returned) but the last transactions may be lost if the machine itself
goes down.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from topgun_adapters._codec import (
    EncodedBatch,
    corrupt,
    decode_kind,
    decode_lww,
    decode_or,
    decode_tombstone,
    stored_bytes,
)
from topgun_adapters._schema import (
    PARTITION_COUNT_TEXT,
    SCHEMA_VERSION,
    SQLITE,
    check_partition_count,
    check_schema_version,
    kind_conflict,
)
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import (
    META_PARTITION_COUNT,
    META_SCHEMA_VERSION,
    MapKind,
    OpLogEntry,
    ORSnapshot,
)

__all__ = ["MEMORY_PATH", "SQLiteDatabase", "Synchronous"]

_log = logging.getLogger("topgun_adapters.sqlite")

MEMORY_PATH = ":memory:"
"""The path of a private in-memory database (gone when the connection closes)."""

Synchronous = Literal["FULL", "NORMAL"]
"""The two ``PRAGMA synchronous`` levels that are safe in WAL mode."""

_SQL = SQLITE
_APPLY = _SQL.apply_statements()
_CLEAR = _SQL.clear_map()


class SQLiteDatabase:
    """One sqlite3 connection; to be used from a single thread only."""

    def __init__(self, path: str, synchronous: Synchronous, busy_timeout_ms: int) -> None:
        self._path = path
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: sqlite3.Connection | None = None

    def connect(self) -> None:
        """Open the file (creating parent directories), set pragmas, migrate, check meta."""
        if self._path != MEMORY_PATH:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None
        )
        try:
            self._configure(conn)
            self._conn = conn
            self._migrate()
        except BaseException:
            self._conn = None
            conn.close()
            raise

    def _configure(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if self._path != MEMORY_PATH and str(mode).lower() != "wal":
            # Still durable (rollback journal + synchronous), only slower for readers.
            _log.warning("SQLite storage: WAL mode unavailable, using journal_mode=%s", mode)
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")

    def close(self) -> None:
        """Close the connection (idempotent)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection."""
        assert self._conn is not None, "SQLiteDatabase used before connect()"
        return self._conn

    @contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        conn = self.conn
        conn.execute(f"BEGIN {mode}")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT (disk full, I/O error): never leave it open.
            if conn.in_transaction:
                conn.rollback()
            raise

    def _migrate(self) -> None:
        with self._transaction() as conn:
            conn.execute(_SQL.create_meta)
            version = check_schema_version(self._meta(conn, META_SCHEMA_VERSION))
            for step in range(version, SCHEMA_VERSION):
                for statement in _SQL.migration(step):
                    conn.execute(statement)
                conn.execute(_SQL.set_meta, (META_SCHEMA_VERSION, str(step + 1)))
            stored = self._meta(conn, META_PARTITION_COUNT)
            check_partition_count(stored)
            if stored is None:
                conn.execute(_SQL.set_meta, (META_PARTITION_COUNT, PARTITION_COUNT_TEXT))

    @staticmethod
    def _meta(conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute(_SQL.get_meta, (key,)).fetchone()
        if row is None:
            return None
        if not isinstance(row[0], str):
            raise corrupt(f"meta {key!r}", "value is not text")
        return row[0]

    def ping(self) -> None:
        """Run a trivial query."""
        self.conn.execute("SELECT 1").fetchone()

    def get_meta(self, key: str) -> str | None:
        """A meta value, or None."""
        return self._meta(self.conn, key)

    def set_meta(self, key: str, value: str) -> None:
        """Store a meta value."""
        with self._transaction() as conn:
            conn.execute(_SQL.set_meta, (key, value))

    def map_kinds(self) -> dict[str, MapKind]:
        """Every known map and its kind."""
        return dict(decode_kind(m, k) for m, k in self.conn.execute(_SQL.select_kinds))

    def load_lww(self, map_name: str) -> list[tuple[str, LWWRecord]]:
        """Every stored record of an LWW map, validated."""
        rows = self.conn.execute(_SQL.load_lww, (map_name,)).fetchall()
        return [decode_lww(map_name, row) for row in rows]

    def load_or(self, map_name: str) -> ORSnapshot:
        """Records and tombstones of an OR map, read in one transaction."""
        with self._transaction("DEFERRED") as conn:
            records = conn.execute(_SQL.load_or, (map_name,)).fetchall()
            tombs = conn.execute(_SQL.load_or_tombstones, (map_name,)).fetchall()
        return ORSnapshot(
            records=[decode_or(map_name, row) for row in records],
            tombstones=[decode_tombstone(map_name, row) for row in tombs],
        )

    def apply(self, rows: EncodedBatch) -> list[int]:
        """Write every row of ``rows`` in one transaction; return the new op-log ids."""
        with self._transaction() as conn:
            for map_name, kind in rows.map_kinds:
                found = conn.execute(_SQL.select_kind, (map_name,)).fetchone()
                conflict = kind_conflict(map_name, None if found is None else found[0], kind)
                if conflict is not None:
                    raise conflict
            for statement, params in zip(_APPLY, rows.parts(), strict=True):
                if params:
                    conn.executemany(statement, params)
            return _insert_oplog(conn, rows.oplog_appends)

    def clear_map(self, map_name: str) -> None:
        """Drop a map's records and tombstones."""
        with self._transaction() as conn:
            for statement in _CLEAR:
                conn.execute(statement, (map_name,))

    def kv_get(self, namespace: str, key: str) -> bytes | None:
        """One document, or None."""
        row = self.conn.execute(_SQL.kv_get, (namespace, key)).fetchone()
        return None if row is None else stored_bytes(row[0], f"kv {namespace!r} key {key!r}")

    def kv_scan(self, namespace: str) -> dict[str, bytes]:
        """Every document of a namespace."""
        found: dict[str, bytes] = {}
        for key, value in self.conn.execute(_SQL.kv_scan, (namespace,)):
            where = f"kv {namespace!r} key {key!r}"
            if not isinstance(key, str):
                raise corrupt(where, "key is not text")
            found[key] = stored_bytes(value, where)
        return found

    def oplog_append(self, payloads: list[bytes]) -> list[int]:
        """Reserve ids from the persistent counter and insert the entries."""
        if not payloads:
            return []
        with self._transaction() as conn:
            return _insert_oplog(conn, payloads)

    def oplog_read(self, after_id: int, limit: int) -> list[OpLogEntry]:
        """Entries after ``after_id``, in id order."""
        entries = []
        for entry_id, payload in self.conn.execute(_SQL.oplog_read, (after_id, limit)):
            if not isinstance(entry_id, int):
                raise corrupt("op log", "entry id is not an integer")
            entries.append(OpLogEntry(entry_id, stored_bytes(payload, f"op log entry {entry_id}")))
        return entries

    def oplog_trim(self, through_id: int) -> int:
        """Delete entries up to ``through_id``; return how many."""
        with self._transaction() as conn:
            return conn.execute(_SQL.oplog_trim, (through_id,)).rowcount

    def oplog_count(self) -> int:
        """Number of op-log entries."""
        count: int = self.conn.execute(_SQL.oplog_count).fetchone()[0]
        return count


def _insert_oplog(conn: sqlite3.Connection, payloads: list[bytes]) -> list[int]:
    """Reserve ids from the persistent counter and insert, inside the caller's transaction."""
    if not payloads:
        return []
    conn.execute(_SQL.oplog_reserve, (len(payloads),))
    last: int = conn.execute(_SQL.oplog_last_id).fetchone()[0]
    ids = list(range(last - len(payloads) + 1, last + 1))
    conn.executemany(_SQL.oplog_insert, zip(ids, payloads, strict=True))
    return ids
