"""Hardening of the SQL adapters: validated reads, safe errors, real rollbacks, TLS policy.

Rows are corrupted behind the adapter's back with sqlite3/psycopg, as a disk error,
a manual edit or another program would; reading them must be a StorageError naming
the map and key. Failures inside a transaction are provoked with a trigger, so the
rollback is the database's, not a validation that ran first.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import msgpack
import psycopg
import pytest

from topgun_adapters import PostgresStorage, SQLiteStorage
from topgun_core.errors import StorageError
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.storage import META_SCHEMA_VERSION, WriteBatch

TS = Timestamp(100, 1, "node-A")
SEED = WriteBatch(
    map_kinds={"m": "lww", "o": "or"},
    lww_upserts=[("m", "k", LWWRecord({"v": 1}, TS, 500))],
    or_upserts=[("o", "ok", ORRecord("x", TS, str(TS)))],
    or_tombstones=[("o", "ok", "1:0:B")],
    kv_puts=[("ns", "doc", b"bytes")],
)

# (description, table, column, bad value, what to read, what the message must name)
CORRUPTIONS = [
    ("undecodable value", "topgun_lww", "value", b"\xc1", "lww", "'k'"),
    ("truncated value", "topgun_lww", "value", b"\x92\x01", "lww", "'k'"),
    ("int dict key", "topgun_lww", "value", msgpack.packb({1: 2}), "lww", "'k'"),
    ("ext type", "topgun_lww", "value", msgpack.packb(msgpack.ExtType(5, b"x")), "lww", "'k'"),
    ("node id with ':'", "topgun_lww", "ts_node", "a:b", "lww", "'k'"),
    ("empty node id", "topgun_lww", "ts_node", "", "lww", "'k'"),
    ("negative counter", "topgun_lww", "ts_counter", -1, "lww", "'k'"),
    ("negative millis", "topgun_lww", "ts_millis", -5, "lww", "'k'"),
    ("negative ttl", "topgun_lww", "ttl_ms", -5, "lww", "'k'"),
    ("undecodable OR value", "topgun_or", "value", b"\xc1", "or", "'ok'"),
    ("OR node id", "topgun_or", "ts_node", "x:y", "or", "'ok'"),
    ("empty OR tag", "topgun_or", "tag", "", "or", "'ok'"),
    ("empty tombstone tag", "topgun_or_tombstones", "tag", "", "or", "'ok'"),
    ("unknown map kind", "topgun_map_kinds", "kind", "crdt", "kinds", "'m'"),
]

SQLITE_ONLY_CORRUPTIONS = [
    ("text ttl", "topgun_lww", "ttl_ms", "soon", "lww", "'k'"),
    ("blob key", "topgun_lww", "key", b"\x00", "lww", "map 'm'"),
    ("text value", "topgun_lww", "value", "not bytes", "lww", "'k'"),
    ("text kv document", "topgun_kv", "value", "not bytes", "kv", "'doc'"),
]


def _sqlite_exec(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(sql, params)


async def _read(store: SQLiteStorage | PostgresStorage, what: str) -> object:
    if what == "lww":
        return await store.load_lww("m")
    if what == "or":
        return await store.load_or("o")
    if what == "kv":
        return await store.kv_get("ns", "doc")
    return await store.map_kinds()


async def _seed(store: SQLiteStorage | PostgresStorage) -> None:
    await store.open()
    try:
        await store.apply(SEED)
    finally:
        await store.close()


async def _expect_corrupt(store: SQLiteStorage | PostgresStorage, what: str, names: str) -> None:
    await store.open()
    try:
        with pytest.raises(StorageError, match="corrupt stored data") as info:
            await _read(store, what)
    finally:
        await store.close()
    assert names in str(info.value)
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("table", "column", "bad", "what", "names"),
    [pytest.param(*c[1:], id=c[0]) for c in CORRUPTIONS + SQLITE_ONLY_CORRUPTIONS],
)
async def test_sqlite_corrupt_rows_are_storage_errors_naming_the_key(
    sqlite_path: Path, table: str, column: str, bad: object, what: str, names: str
) -> None:
    await _seed(SQLiteStorage(sqlite_path))
    _sqlite_exec(sqlite_path, f"UPDATE {table} SET {column} = ?", (bad,))
    await _expect_corrupt(SQLiteStorage(sqlite_path), what, names)


@pytest.mark.parametrize(
    ("table", "column", "bad", "what", "names"),
    [pytest.param(*c[1:], id=c[0]) for c in CORRUPTIONS],
)
async def test_postgres_corrupt_rows_are_storage_errors_naming_the_key(
    pg_schema_dsn: str, table: str, column: str, bad: object, what: str, names: str
) -> None:
    await _seed(PostgresStorage(pg_schema_dsn))
    with psycopg.connect(pg_schema_dsn, autocommit=True) as conn:
        conn.execute(f"UPDATE {table} SET {column} = %s", (bad,))  # type: ignore[arg-type]
    await _expect_corrupt(PostgresStorage(pg_schema_dsn), what, names)


async def test_sqlite_newer_schema_is_refused(sqlite_path: Path) -> None:
    store = SQLiteStorage(sqlite_path)
    await store.open()
    assert await store.get_meta(META_SCHEMA_VERSION) == "1"
    await store.set_meta(META_SCHEMA_VERSION, "99")
    await store.close()
    with pytest.raises(StorageError, match="schema version 99, newer"):
        await SQLiteStorage(sqlite_path).open()


async def test_postgres_newer_schema_is_refused(pg_schema_dsn: str) -> None:
    store = PostgresStorage(pg_schema_dsn)
    await store.open()
    assert await store.get_meta(META_SCHEMA_VERSION) == "1"
    await store.set_meta(META_SCHEMA_VERSION, "99")
    await store.close()
    with pytest.raises(StorageError, match="schema version 99, newer"):
        await PostgresStorage(pg_schema_dsn).open()


# ---------------------------------------------------------------- rollback inside the database

BIG_BATCH = WriteBatch(
    map_kinds={"new": "lww"},
    lww_upserts=[("m", f"k{i}", LWWRecord(i, TS)) for i in range(200)],
    or_upserts=[("o", "k", ORRecord(1, TS, "t1"))],
    kv_puts=[("ns", "fine", b"1"), ("ns", "boom", b"2")],
)


async def _assert_nothing_applied(store: SQLiteStorage | PostgresStorage) -> None:
    assert await store.load_lww("m") == []
    assert (await store.load_or("o")).records == []
    assert await store.kv_scan("ns") == {}
    assert await store.map_kinds() == {}


async def test_sqlite_failure_inside_the_transaction_rolls_everything_back(
    sqlite_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStorage(sqlite_path)
    await store.open()
    try:
        _sqlite_exec(
            sqlite_path,
            "CREATE TRIGGER boom BEFORE INSERT ON topgun_kv WHEN NEW.key = 'boom'"
            " BEGIN SELECT RAISE(ABORT, 'boom'); END",
        )
        with pytest.raises(StorageError) as info:
            await store.apply(BIG_BATCH)
        await _assert_nothing_applied(store)
    finally:
        await store.close()
    assert str(info.value) == "SQLite storage: apply failed"
    assert isinstance(info.value.__cause__, sqlite3.Error)
    assert info.value.retryable
    assert any(r.exc_info and r.name.startswith("topgun_adapters") for r in caplog.records)


async def test_postgres_failure_inside_the_transaction_rolls_everything_back(
    pg_schema_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresStorage(pg_schema_dsn)
    await store.open()
    try:
        with psycopg.connect(pg_schema_dsn, autocommit=True) as conn:
            conn.execute(
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'boom'; END $$"
            )
            conn.execute(
                "CREATE TRIGGER boom BEFORE INSERT ON topgun_kv FOR EACH ROW"
                " WHEN (NEW.key = 'boom') EXECUTE FUNCTION boom()"
            )
        with pytest.raises(StorageError) as info:
            await store.apply(BIG_BATCH)
        await _assert_nothing_applied(store)
    finally:
        await store.close()
    assert str(info.value) == "PostgreSQL storage: apply failed"
    assert isinstance(info.value.__cause__, psycopg.Error)
    assert any(r.exc_info and r.name.startswith("topgun_adapters") for r in caplog.records)


# ---------------------------------------------------------------- errors leak nothing


async def test_sqlite_unopenable_path_error_names_no_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError) as info:
        await SQLiteStorage(blocker / "sub" / "t.db").open()
    assert str(info.value) == "SQLite storage: open failed"
    assert isinstance(info.value.__cause__, OSError)


async def test_sqlite_garbage_file_error_names_no_path(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a sqlite database" * 100)
    store = SQLiteStorage(path)
    with pytest.raises(StorageError) as info:
        await store.open()
    assert str(info.value) == "SQLite storage: open failed"
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)
    await store.close()


async def test_postgres_unknown_database_error_leaks_no_dsn(
    postgres_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    dsn = postgres_dsn.replace("postgres@", "postgres:hunter2@").replace(
        "/topgun_test", "/no_such_db"
    )
    store = PostgresStorage(dsn, acquire_timeout_s=1.0)
    with (
        caplog.at_level(logging.ERROR, logger="topgun_adapters"),
        pytest.raises(StorageError) as info,
    ):
        await store.open()
    message = str(info.value)
    assert message == "PostgreSQL storage: open failed"
    assert "hunter2" not in message
    assert "no_such_db" not in message
    await store.close()


def test_invalid_dsn_error_does_not_echo_it() -> None:
    with pytest.raises(ValueError, match="invalid PostgreSQL connection string") as info:
        PostgresStorage("host=x password=hunter2 bogus_option=1")
    assert "hunter2" not in str(info.value)


# ---------------------------------------------------------------- TLS policy (HARDENING §7)


@pytest.mark.parametrize("mode", ["require", "prefer", "allow", "verify-ca"])
def test_unverified_tls_is_refused_without_opt_in(mode: str) -> None:
    dsn = f"postgresql://u:hunter2@db.example/topgun?sslmode={mode}"
    with pytest.raises(ValueError, match=f"sslmode={mode}") as info:
        PostgresStorage(dsn)
    assert "hunter2" not in str(info.value)
    assert PostgresStorage(dsn, allow_unverified_tls=True).sslmode == mode


@pytest.mark.parametrize(
    ("dsn", "mode"),
    [
        ("postgresql://u@db.example/topgun", "verify-full"),
        ("postgresql://u@db.example/topgun?sslmode=verify-full", "verify-full"),
        ("postgresql://u@db.example/topgun?sslmode=disable", "disable"),
        ("postgresql://u@localhost/topgun", "disable"),
        ("postgresql://u@127.0.0.1:5433/topgun", "disable"),
        ("postgresql://u@[::1]/topgun", "disable"),
        ("host=/var/run/postgresql dbname=topgun", "disable"),
        ("dbname=topgun", "disable"),
        ("host=localhost,db.example dbname=topgun", "verify-full"),
    ],
)
def test_sslmode_default_is_verified_unless_local(dsn: str, mode: str) -> None:
    assert PostgresStorage(dsn).sslmode == mode


def test_unknown_sslmode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sslmode"):
        PostgresStorage("postgresql://u@h/db?sslmode=sometimes")


# ---------------------------------------------------------------- a dead database fails fast

DEAD_BOUND_S = 20.0
"""Generous: a failing call must return, not hang; the real bound is the acquire timeout."""


async def test_dead_database_makes_ping_and_apply_fail_fast(dying_postgres) -> None:
    store = PostgresStorage(dying_postgres.dsn(), acquire_timeout_s=1.0)
    await store.open()
    try:
        await store.apply(SEED)
        dying_postgres.stop()
        for attempt in range(2):  # the pooled (now broken) connection, then a reconnect
            started = time.monotonic()
            with pytest.raises(StorageError, match="ping failed"):
                await store.ping()
            assert time.monotonic() - started < DEAD_BOUND_S, attempt
        started = time.monotonic()
        with pytest.raises(StorageError, match="apply failed") as info:
            await store.apply(SEED)
        assert time.monotonic() - started < DEAD_BOUND_S
        assert info.value.retryable
    finally:
        started = time.monotonic()
        await store.close()
        assert time.monotonic() - started < DEAD_BOUND_S


async def test_unreachable_database_fails_open_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    store = PostgresStorage(f"postgresql://u@127.0.0.1:{port}/db", acquire_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(StorageError, match="open failed"):
        await store.open()
    assert time.monotonic() - started < DEAD_BOUND_S
    with pytest.raises(StorageError, match="not open"):
        await store.ping()
