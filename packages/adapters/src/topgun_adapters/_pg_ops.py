"""The statements PostgresStorage runs on one borrowed connection.

Each function takes an autocommit connection from the pool and does one unit of
work, opening an explicit transaction where it writes or reads more than once.
Reads use binary results (``bytea`` arrives as ``bytes`` without hex decoding).
Schema creation takes a transaction-scoped advisory lock so that several processes
opening one database at once migrate it one after another, not into each other.
"""

from __future__ import annotations

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import TupleRow

from topgun_adapters._codec import EncodedBatch, corrupt, stored_bytes
from topgun_adapters._schema import (
    PARTITION_COUNT_TEXT,
    POSTGRES,
    SCHEMA_VERSION,
    check_partition_count,
    check_schema_version,
    kind_conflict,
)
from topgun_core.storage import META_PARTITION_COUNT, META_SCHEMA_VERSION, OpLogEntry

__all__ = [
    "SQL",
    "apply",
    "clear_map",
    "fetch",
    "get_meta",
    "kv_get",
    "kv_scan",
    "load_or",
    "migrate",
    "oplog_append",
    "oplog_count",
    "oplog_read",
    "oplog_trim",
    "set_meta",
]

Connection = AsyncConnection[TupleRow]

SQL = POSTGRES
"""The PostgreSQL rendering of the shared statements."""

_APPLY = SQL.apply_statements()
_CLEAR = SQL.clear_map()
_KINDS_OF = "SELECT map, kind FROM topgun_map_kinds WHERE map = ANY(%s)"
_MIGRATION_LOCK = 0x746F7067756E  # "topgun": one advisory lock id for schema changes


async def fetch(
    conn: Connection, query: str, params: tuple[object, ...]
) -> list[tuple[object, ...]]:
    """All rows of one query, binary results."""
    cur = await conn.execute(query, params, binary=True)
    return list(await cur.fetchall())


async def _meta(conn: Connection, key: str) -> str | None:
    rows = await fetch(conn, SQL.get_meta, (key,))
    if not rows:
        return None
    value = rows[0][0]
    if not isinstance(value, str):
        raise corrupt(f"meta {key!r}", "value is not text")
    return value


async def migrate(conn: Connection) -> None:
    """Create or upgrade the schema and write or check the partition count."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await conn.execute(SQL.create_meta)
        version = check_schema_version(await _meta(conn, META_SCHEMA_VERSION))
        for step in range(version, SCHEMA_VERSION):
            for statement in SQL.migration(step):
                await conn.execute(statement)
            await conn.execute(SQL.set_meta, (META_SCHEMA_VERSION, str(step + 1)))
        stored = await _meta(conn, META_PARTITION_COUNT)
        check_partition_count(stored)
        if stored is None:
            await conn.execute(SQL.set_meta, (META_PARTITION_COUNT, PARTITION_COUNT_TEXT))


async def get_meta(conn: Connection, key: str) -> str | None:
    """A meta value, or None."""
    return await _meta(conn, key)


async def set_meta(conn: Connection, key: str, value: str) -> None:
    """Store a meta value."""
    await conn.execute(SQL.set_meta, (key, value))


async def load_or(
    conn: Connection, map_name: str
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Record rows and tombstone rows of an OR map, from one snapshot."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        records = await fetch(conn, SQL.load_or, (map_name,))
        tombs = await fetch(conn, SQL.load_or_tombstones, (map_name,))
    return records, tombs


async def apply(conn: Connection, rows: EncodedBatch) -> list[int]:
    """Write every row in one transaction; a map-kind conflict rolls it all back.

    Returns the ids given to the batch's op-log appends.
    """
    async with conn.transaction(), conn.cursor() as cur:
        for statement, params in zip(_APPLY, rows.parts(), strict=True):
            if params:
                await cur.executemany(statement, params)
        if rows.map_kinds:
            # Checked after the insert: ON CONFLICT DO NOTHING waited for any concurrent
            # writer of the same map, so what we read now is what is committed.
            wanted = dict(rows.map_kinds)
            await cur.execute(_KINDS_OF, (list(wanted),))
            for map_name, stored in await cur.fetchall():
                conflict = kind_conflict(map_name, stored, wanted[map_name])
                if conflict is not None:
                    raise conflict
        return await _insert_oplog(cur, rows.oplog_appends)


async def clear_map(conn: Connection, map_name: str) -> None:
    """Drop a map's records and tombstones in one transaction."""
    async with conn.transaction():
        for statement in _CLEAR:
            await conn.execute(statement, (map_name,))


async def kv_get(conn: Connection, namespace: str, key: str) -> bytes | None:
    """One document, or None."""
    rows = await fetch(conn, SQL.kv_get, (namespace, key))
    return stored_bytes(rows[0][0], f"kv {namespace!r} key {key!r}") if rows else None


async def kv_scan(conn: Connection, namespace: str) -> dict[str, bytes]:
    """Every document of a namespace."""
    found: dict[str, bytes] = {}
    for key, value in await fetch(conn, SQL.kv_scan, (namespace,)):
        where = f"kv {namespace!r} key {key!r}"
        if not isinstance(key, str):
            raise corrupt(where, "key is not text")
        found[key] = stored_bytes(value, where)
    return found


async def oplog_append(conn: Connection, payloads: list[bytes]) -> list[int]:
    """Reserve ids (the counter row's lock orders concurrent appends) and insert."""
    async with conn.transaction(), conn.cursor() as cur:
        return await _insert_oplog(cur, payloads)


async def _insert_oplog(cur: AsyncCursor[TupleRow], payloads: list[bytes]) -> list[int]:
    """Reserve ids and insert, inside the caller's transaction."""
    if not payloads:
        return []
    await cur.execute(SQL.oplog_reserve, (len(payloads),))
    await cur.execute(SQL.oplog_last_id)
    row = await cur.fetchone()
    if row is None or not isinstance(row[0], int):
        raise corrupt("op log", "id counter is missing")
    last: int = row[0]
    ids = list(range(last - len(payloads) + 1, last + 1))
    await cur.executemany(SQL.oplog_insert, list(zip(ids, payloads, strict=True)))
    return ids


async def oplog_read(conn: Connection, after_id: int, limit: int) -> list[OpLogEntry]:
    """Entries after ``after_id``, in id order."""
    entries = []
    for entry_id, payload in await fetch(conn, SQL.oplog_read, (after_id, limit)):
        if not isinstance(entry_id, int):
            raise corrupt("op log", "entry id is not an integer")
        entries.append(OpLogEntry(entry_id, stored_bytes(payload, f"op log entry {entry_id}")))
    return entries


async def oplog_trim(conn: Connection, through_id: int) -> int:
    """Delete entries up to ``through_id``; return how many."""
    cur = await conn.execute(SQL.oplog_trim, (through_id,))
    return max(cur.rowcount, 0)


async def oplog_count(conn: Connection) -> int:
    """Number of op-log entries."""
    rows = await fetch(conn, SQL.oplog_count, ())
    count = rows[0][0]
    assert isinstance(count, int)
    return count
