"""PostgresStorage: the storage contract on PostgreSQL through a psycopg 3 async pool.

Every call borrows one connection from a ``psycopg_pool.AsyncConnectionPool`` for
its duration. Connections run in autocommit mode; a call that writes, or reads
twice, opens an explicit transaction on its connection, so ``apply`` is one
transaction and a rollback undoes all of it. Many rows go through ``executemany``
(psycopg pipelines them) as ``INSERT … ON CONFLICT DO UPDATE`` upserts.

Nothing waits forever (HARDENING §13):

* ``acquire_timeout_s`` bounds the wait for a connection — with the database down,
  the pool cannot connect and the call fails with StorageError when it runs out;
  ``connect_timeout`` is set from it too.
* ``statement_timeout_s`` is set on every connection (server side), and so is
  ``idle_in_transaction_session_timeout``, so a stuck session is ended by the server.
* ``operation_timeout_s`` is a client-side deadline on the whole call, for a server
  that stops answering without closing the socket.
* ``idle_timeout_s`` closes pooled connections idle for longer than that.

A broken connection (the server died) fails its call at once; the pool discards it
and reconnects for later calls. ``close()`` lets calls in flight finish, refuses new
ones and closes the pool. TLS policy: see ``_pg_conninfo``. Errors: see ``_errors``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from topgun_adapters import _pg_ops as ops
from topgun_adapters._codec import (
    check_bytes,
    check_oplog_args,
    check_text,
    decode_kind,
    decode_lww,
    decode_or,
    decode_tombstone,
    encode_batch,
)
from topgun_adapters._errors import backend_failure, not_open
from topgun_adapters._pg_conninfo import storage_conninfo
from topgun_core.errors import StorageError
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import MapKind, OpLogEntry, ORSnapshot, WriteBatch

__all__ = ["PostgresStorage"]

_log = logging.getLogger("topgun_adapters.postgres")
_BACKEND = "PostgreSQL"

Connection = AsyncConnection[TupleRow]


class PostgresStorage:
    """A pooled PostgreSQL :class:`~topgun_core.storage.StorageAdapter`.

    ``dsn`` is a libpq URI or ``key=value`` string. ``sslmode`` weaker than
    ``verify-full`` is refused (``ValueError``) unless ``allow_unverified_tls=True``.
    """

    def __init__(  # noqa: PLR0913 - each limit is a named keyword with a unit
        self,
        dsn: str,
        *,
        pool_min: int = 1,
        pool_max: int = 10,
        acquire_timeout_s: float = 5.0,
        idle_timeout_s: float = 300.0,
        statement_timeout_s: float = 30.0,
        operation_timeout_s: float = 120.0,
        allow_unverified_tls: bool = False,
    ) -> None:
        if not 0 <= pool_min <= pool_max or pool_max < 1:
            raise ValueError("need 0 <= pool_min <= pool_max and pool_max >= 1")
        timeouts = (acquire_timeout_s, idle_timeout_s, statement_timeout_s, operation_timeout_s)
        if min(timeouts) <= 0:
            raise ValueError("timeouts must be positive")
        self._conninfo, self._sslmode = storage_conninfo(
            dsn, allow_unverified_tls=allow_unverified_tls, connect_timeout_s=acquire_timeout_s
        )
        self._pool_min, self._pool_max = pool_min, pool_max
        self._acquire_timeout_s = acquire_timeout_s
        self._idle_timeout_s = idle_timeout_s
        self._statement_timeout_ms = max(1, round(statement_timeout_s * 1000))
        self._operation_timeout_s = operation_timeout_s
        self._pool: AsyncConnectionPool[Connection] | None = None
        self._lifecycle = asyncio.Lock()
        self._in_flight = 0
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def sslmode(self) -> str:
        """The ``sslmode`` connections use after the TLS policy was applied."""
        return self._sslmode

    async def _configure(self, conn: Connection) -> None:
        timeout = str(self._statement_timeout_ms)
        await conn.execute(
            "SELECT set_config('statement_timeout', %s, false),"
            " set_config('idle_in_transaction_session_timeout', %s, false)",
            (timeout, timeout),
        )

    async def open(self) -> None:
        """Open the pool (waiting for ``pool_min`` connections), migrate, check meta."""
        async with self._lifecycle:
            if self._pool is not None:
                return
            pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
                self._conninfo,
                connection_class=AsyncConnection,
                kwargs={"autocommit": True},
                min_size=self._pool_min,
                max_size=self._pool_max,
                open=False,
                configure=self._configure,
                name="topgun-storage",
                timeout=self._acquire_timeout_s,
                max_idle=self._idle_timeout_s,
            )
            try:
                async with asyncio.timeout(self._operation_timeout_s):
                    await pool.open(wait=self._pool_min > 0, timeout=self._acquire_timeout_s)
                    async with pool.connection() as conn:
                        await ops.migrate(conn)
            except BaseException as exc:
                await pool.close()
                if isinstance(exc, psycopg.Error | OSError):
                    raise backend_failure(_log, _BACKEND, "open", exc) from exc
                raise
            self._pool = pool

    async def close(self) -> None:
        """Let calls in flight finish, then close every connection. Idempotent."""
        async with self._lifecycle:
            pool, self._pool = self._pool, None
            if pool is None:
                return
            await self._drained.wait()
            await pool.close()

    @asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[Connection]:
        pool = self._pool
        if pool is None:
            raise not_open(_BACKEND)
        self._in_flight += 1
        self._drained.clear()
        try:
            async with asyncio.timeout(self._operation_timeout_s), pool.connection() as conn:
                yield conn
        except StorageError:
            raise
        except (psycopg.Error, OSError) as exc:  # OSError covers TimeoutError
            raise backend_failure(_log, _BACKEND, operation, exc) from exc
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._drained.set()

    async def ping(self) -> None:
        """Run ``SELECT 1``; raise StorageError when the database does not answer."""
        async with self._connection("ping") as conn:
            await conn.execute("SELECT 1")

    async def get_meta(self, key: str) -> str | None:
        """A meta value, or None."""
        check_text(key, "meta key")
        async with self._connection("get_meta") as conn:
            return await ops.get_meta(conn, key)

    async def set_meta(self, key: str, value: str) -> None:
        """Store a meta value."""
        check_text(key, "meta key")
        check_text(value, "meta value")
        async with self._connection("set_meta") as conn:
            await ops.set_meta(conn, key, value)

    async def map_kinds(self) -> dict[str, MapKind]:
        """Every known map and its kind."""
        async with self._connection("map_kinds") as conn:
            rows = await ops.fetch(conn, ops.SQL.select_kinds, ())
        return dict(decode_kind(name, kind) for name, kind in rows)

    async def load_lww(self, map_name: str) -> list[tuple[str, LWWRecord]]:
        """Every stored record of an LWW map, validated."""
        check_text(map_name, "map name")
        async with self._connection("load_lww") as conn:
            rows = await ops.fetch(conn, ops.SQL.load_lww, (map_name,))
        return [decode_lww(map_name, row) for row in rows]

    async def load_or(self, map_name: str) -> ORSnapshot:
        """Records and tombstones of an OR map from one snapshot."""
        check_text(map_name, "map name")
        async with self._connection("load_or") as conn:
            records, tombs = await ops.load_or(conn, map_name)
        return ORSnapshot(
            records=[decode_or(map_name, row) for row in records],
            tombstones=[decode_tombstone(map_name, row) for row in tombs],
        )

    async def apply(self, batch: WriteBatch) -> list[int]:
        """Validate and encode ``batch``, then write it in one transaction."""
        if self._pool is None:
            raise not_open(_BACKEND)
        rows = encode_batch(batch)
        async with self._connection("apply") as conn:
            return await ops.apply(conn, rows)

    async def clear_map(self, map_name: str) -> None:
        """Drop every record and tombstone of a map; keep its kind."""
        check_text(map_name, "map name")
        async with self._connection("clear_map") as conn:
            await ops.clear_map(conn, map_name)

    async def kv_get(self, namespace: str, key: str) -> bytes | None:
        """One document, or None."""
        check_text(namespace, "namespace")
        check_text(key, "key")
        async with self._connection("kv_get") as conn:
            return await ops.kv_get(conn, namespace, key)

    async def kv_scan(self, namespace: str) -> Mapping[str, bytes]:
        """Every document in a namespace."""
        check_text(namespace, "namespace")
        async with self._connection("kv_scan") as conn:
            return await ops.kv_scan(conn, namespace)

    async def oplog_append(self, payloads: Sequence[bytes]) -> list[int]:
        """Append entries in one transaction; return their new ids."""
        if self._pool is None:
            raise not_open(_BACKEND)
        checked = [check_bytes(p, f"payloads[{i}]") for i, p in enumerate(payloads)]
        if not checked:
            return []
        async with self._connection("oplog_append") as conn:
            return await ops.oplog_append(conn, checked)

    async def oplog_read(self, after_id: int, limit: int) -> list[OpLogEntry]:
        """Up to ``limit`` entries with id > ``after_id``, in id order."""
        check_oplog_args(after_id, limit)
        async with self._connection("oplog_read") as conn:
            return await ops.oplog_read(conn, after_id, limit)

    async def oplog_trim(self, through_id: int) -> int:
        """Delete entries with id <= ``through_id``; return how many."""
        check_oplog_args(through_id, 0)
        async with self._connection("oplog_trim") as conn:
            return await ops.oplog_trim(conn, through_id)

    async def oplog_count(self) -> int:
        """Number of entries in the op log."""
        async with self._connection("oplog_count") as conn:
            return await ops.oplog_count(conn)
