"""SQLiteStorage: the embedded default store, a SQLite file in WAL mode.

sqlite3 blocks, so each adapter owns one worker thread (a single-thread executor)
and one connection that only that thread touches. Every call validates its
arguments on the event loop (so a bad batch is refused before it is queued and a
batch is captured as it was when ``apply`` was called), then runs its blocking part
on the worker and awaits the result: the event loop never blocks on the disk, and
calls are serialised in the order they were made. ``close()`` queues behind the
pending calls, so they finish first; calls made after ``close()`` raise.

If the awaiting task is cancelled the queued call still runs to completion (a
thread cannot be interrupted); its transaction either commits whole or not at all.

``path`` may be ``":memory:"`` for a private in-memory database, which lives only
until ``close()``. Every sqlite3 or OS error becomes a
:class:`~topgun_core.errors.StorageError` without SQL or paths in its message; the
original is chained and logged. Durability settings are explained in ``_sqlite_db``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from topgun_adapters._codec import check_bytes, check_oplog_args, check_text, encode_batch
from topgun_adapters._errors import backend_failure, not_open
from topgun_adapters._sqlite_db import MEMORY_PATH, SQLiteDatabase, Synchronous
from topgun_core.errors import StorageError
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import MapKind, OpLogEntry, ORSnapshot, WriteBatch

__all__ = ["SQLiteStorage"]

_log = logging.getLogger("topgun_adapters.sqlite")
_BACKEND = "SQLite"
_T = TypeVar("_T")


class SQLiteStorage:
    """A :class:`~topgun_core.storage.StorageAdapter` on a SQLite file (WAL mode).

    ``synchronous="FULL"`` (default) makes every commit survive power loss;
    ``"NORMAL"`` survives a process crash but not an OS crash, and commits faster.
    ``busy_timeout_ms`` bounds how long a write waits for another process's lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout_ms: int = 5_000,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be 'FULL' or 'NORMAL'")
        if busy_timeout_ms < 0:
            raise ValueError("busy_timeout_ms must be >= 0")
        path_text = os.fspath(path)
        self._path = path_text if path_text == MEMORY_PATH else os.path.abspath(path_text)
        self._synchronous: Synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._executor: ThreadPoolExecutor | None = None
        self._db: SQLiteDatabase | None = None
        self._lifecycle = asyncio.Lock()

    @property
    def path(self) -> str:
        """The database file (absolute), or ``":memory:"``."""
        return self._path

    async def open(self) -> None:
        """Start the worker, open the file, migrate the schema, check the partition count."""
        async with self._lifecycle:
            if self._db is not None:
                return
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="topgun-sqlite")
            db = SQLiteDatabase(self._path, self._synchronous, self._busy_timeout_ms)
            try:
                await self._on(executor, "open", db.connect)
            except BaseException:
                # Queued behind connect, so it also closes a connection a cancelled
                # open() finished making after we stopped waiting.
                executor.submit(db.close)
                executor.shutdown(wait=False)
                raise
            self._executor, self._db = executor, db

    async def close(self) -> None:
        """Finish pending calls, close the connection, stop the worker. Idempotent."""
        async with self._lifecycle:
            executor, db = self._executor, self._db
            self._executor = self._db = None
            if executor is None or db is None:
                return
            try:
                await self._on(executor, "close", db.close)
            finally:
                # The worker is idle now (close was its last job), so this returns at once.
                executor.shutdown(wait=True)

    @staticmethod
    async def _on(executor: ThreadPoolExecutor, operation: str, call: Callable[[], _T]) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, call)
        except StorageError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise backend_failure(_log, _BACKEND, operation, exc) from exc

    async def _run(self, operation: str, method: Callable[..., _T], *args: object) -> _T:
        executor = self._executor
        if executor is None or self._db is None:
            raise not_open(_BACKEND)
        return await self._on(executor, operation, functools.partial(method, *args))

    def _database(self) -> SQLiteDatabase:
        if self._db is None:
            raise not_open(_BACKEND)
        return self._db

    async def ping(self) -> None:
        """Run a trivial query on the worker."""
        await self._run("ping", self._database().ping)

    async def get_meta(self, key: str) -> str | None:
        """A meta value, or None."""
        check_text(key, "meta key")
        return await self._run("get_meta", self._database().get_meta, key)

    async def set_meta(self, key: str, value: str) -> None:
        """Store a meta value durably."""
        check_text(key, "meta key")
        check_text(value, "meta value")
        await self._run("set_meta", self._database().set_meta, key, value)

    async def map_kinds(self) -> dict[str, MapKind]:
        """Every known map and its kind."""
        return await self._run("map_kinds", self._database().map_kinds)

    async def load_lww(self, map_name: str) -> list[tuple[str, LWWRecord]]:
        """Every stored record of an LWW map (decoded and validated on the worker)."""
        check_text(map_name, "map name")
        return await self._run("load_lww", self._database().load_lww, map_name)

    async def load_or(self, map_name: str) -> ORSnapshot:
        """Every stored record and tombstone of an OR map."""
        check_text(map_name, "map name")
        return await self._run("load_or", self._database().load_or, map_name)

    async def apply(self, batch: WriteBatch) -> list[int]:
        """Validate and encode ``batch`` now, then write it in one transaction."""
        db = self._database()
        rows = encode_batch(batch)
        return await self._run("apply", db.apply, rows)

    async def clear_map(self, map_name: str) -> None:
        """Drop every record and tombstone of a map; keep its kind."""
        check_text(map_name, "map name")
        await self._run("clear_map", self._database().clear_map, map_name)

    async def kv_get(self, namespace: str, key: str) -> bytes | None:
        """One document, or None."""
        check_text(namespace, "namespace")
        check_text(key, "key")
        return await self._run("kv_get", self._database().kv_get, namespace, key)

    async def kv_scan(self, namespace: str) -> Mapping[str, bytes]:
        """Every document in a namespace."""
        check_text(namespace, "namespace")
        return await self._run("kv_scan", self._database().kv_scan, namespace)

    async def oplog_append(self, payloads: Sequence[bytes]) -> list[int]:
        """Append entries in one transaction; return their new ids."""
        db = self._database()
        checked = [check_bytes(p, f"payloads[{i}]") for i, p in enumerate(payloads)]
        return await self._run("oplog_append", db.oplog_append, checked)

    async def oplog_read(self, after_id: int, limit: int) -> list[OpLogEntry]:
        """Up to ``limit`` entries with id > ``after_id``, in id order."""
        check_oplog_args(after_id, limit)
        return await self._run("oplog_read", self._database().oplog_read, after_id, limit)

    async def oplog_trim(self, through_id: int) -> int:
        """Delete entries with id <= ``through_id``; return how many."""
        check_oplog_args(through_id, 0)
        return await self._run("oplog_trim", self._database().oplog_trim, through_id)

    async def oplog_count(self) -> int:
        """Number of entries in the op log."""
        return await self._run("oplog_count", self._database().oplog_count)
