"""Write-behind persistence: a bounded queue of write batches, flushed to storage.

Writes are applied to the in-memory CRDTs first; what changed is handed to
:meth:`PersistenceQueue.submit` as a :class:`~topgun_core.storage.WriteBatch`. The
queue is bounded by ``ops_max`` (ops, not batches): when it is full, ``submit``
*waits* for room — back-pressure on the writer, never a dropped write. One flusher
task drains it: it takes queued batches up to ``batch_ops_max`` ops, coalesces them
into one ``WriteBatch`` (the last state of a row wins, so an upsert followed by a
GC delete of the same row — or the reverse — keeps only the later one) and applies
that atomically. Each ``submit`` returns a future that resolves once its batch is
durable — what the PERSISTED write concern waits for.

A failed storage write fails the futures of the ops in it with
:class:`~topgun_core.errors.StorageError` (their clients learn it at once, code
503) but the data is not given up: the flusher keeps the batch and retries it with
capped exponential back-off until it succeeds, logging and counting each failure.
A batch the store refuses as invalid (non-retryable) is retried item by item, and
only an item that is itself invalid is dropped — loudly (error log, metric).

:meth:`PersistenceQueue.drain` waits until everything queued is durable (clean
shutdown). ``pending_for(map)`` tells the map registry whether a map still has
unpersisted writes (such a map is never evicted).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from topgun_core.errors import StorageError
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.storage import MapKind, StorageAdapter, WriteBatch
from topgun_server.metrics import Metrics

__all__ = ["PersistenceQueue", "coalesce", "maps_of"]

_log = logging.getLogger(__name__)
_RETRY_MS_MIN = 10


@dataclass(slots=True)
class _Item:
    batch: WriteBatch
    maps: frozenset[str]
    size: int
    done: asyncio.Future[None] = field(repr=False)


def maps_of(batch: WriteBatch) -> frozenset[str]:
    """Names of the maps a batch touches."""
    names: set[str] = set(batch.map_kinds)
    names.update(m for m, _, _ in batch.lww_upserts)
    names.update(m for m, _ in batch.lww_deletes)
    names.update(m for m, _, _ in batch.or_upserts)
    names.update(m for m, _ in batch.or_deletes)
    names.update(m for m, _, _ in batch.or_tombstones)
    names.update(m for m, _ in batch.or_tombstone_deletes)
    return frozenset(names)


class _Rows:
    """The last state of every row across several batches (None: deleted)."""

    def __init__(self) -> None:
        self.kinds: dict[str, MapKind] = {}
        self.lww: dict[tuple[str, str], LWWRecord | None] = {}
        self.or_records: dict[tuple[str, str], tuple[str, ORRecord] | None] = {}
        self.tombstones: dict[tuple[str, str], str | None] = {}
        self.kv: dict[tuple[str, str], bytes | None] = {}
        self.oplog: list[bytes] = []

    def add(self, batch: WriteBatch) -> None:
        self.kinds.update(batch.map_kinds)
        for m, key, record in batch.lww_upserts:
            self.lww[m, key] = record
        for m, key in batch.lww_deletes:
            self.lww[m, key] = None
        for m, key, orec in batch.or_upserts:
            self.or_records[m, orec.tag] = (key, orec)
        for m, tag in batch.or_deletes:
            self.or_records[m, tag] = None
        for m, key, tag in batch.or_tombstones:
            self.tombstones[m, tag] = key
        for m, tag in batch.or_tombstone_deletes:
            self.tombstones[m, tag] = None
        for ns, key, document in batch.kv_puts:
            self.kv[ns, key] = document
        for ns, key in batch.kv_deletes:
            self.kv[ns, key] = None
        self.oplog.extend(batch.oplog_appends)

    def batch(self) -> WriteBatch:
        out = WriteBatch(map_kinds=self.kinds, oplog_appends=self.oplog)
        for (m, key), rec in self.lww.items():
            if rec is None:
                out.lww_deletes.append((m, key))
            else:
                out.lww_upserts.append((m, key, rec))
        for (m, tag), entry in self.or_records.items():
            if entry is None:
                out.or_deletes.append((m, tag))
            else:
                out.or_upserts.append((m, entry[0], entry[1]))
        for (m, tag), tkey in self.tombstones.items():
            if tkey is None:
                out.or_tombstone_deletes.append((m, tag))
            else:
                out.or_tombstones.append((m, tkey, tag))
        for (ns, key), document in self.kv.items():
            if document is None:
                out.kv_deletes.append((ns, key))
            else:
                out.kv_puts.append((ns, key, document))
        return out


def coalesce(batches: list[WriteBatch]) -> WriteBatch:
    """One batch equal to applying ``batches`` in order (the last state of a row wins)."""
    if len(batches) == 1:
        return batches[0]
    rows = _Rows()
    for batch in batches:
        rows.add(batch)
    return rows.batch()


class PersistenceQueue:
    """Bounded write-behind queue with one flusher (run it with :meth:`run`)."""

    def __init__(
        self,
        storage: StorageAdapter,
        metrics: Metrics,
        *,
        ops_max: int,
        batch_ops_max: int,
        retry_ms_max: int,
    ) -> None:
        self._storage = storage
        self._metrics = metrics
        self.ops_max = ops_max
        self._batch_ops_max = batch_ops_max
        self._retry_ms_max = retry_ms_max
        self._items: deque[_Item] = deque()
        self._queued_ops = 0
        self._in_flight: list[_Item] = []
        self._pending_maps: Counter[str] = Counter()
        self._changed = asyncio.Condition()
        self._closed = False

    @property
    def depth(self) -> int:
        """Ops queued or being written."""
        return self._queued_ops + sum(item.size for item in self._in_flight)

    def pending_for(self, map_name: str) -> bool:
        """Whether ``map_name`` has writes that are not durable yet."""
        return self._pending_maps[map_name] > 0

    async def submit(self, batch: WriteBatch) -> asyncio.Future[None]:
        """Queue ``batch``; wait while the queue is full. The future resolves when durable."""
        size = max(1, len(batch))
        async with self._changed:
            # A batch bigger than the whole queue still goes in once the queue is empty.
            await self._changed.wait_for(
                lambda: self._queued_ops == 0 or self._queued_ops + size <= self.ops_max
            )
            if self._closed:
                raise StorageError("the server is shutting down; the write was not accepted")
            item = _Item(batch, maps_of(batch), size, asyncio.get_running_loop().create_future())
            self._items.append(item)
            self._queued_ops += size
            self._pending_maps.update(item.maps)
            self._metrics.persistence_queue_depth.set(self.depth)
            self._changed.notify_all()
        return item.done

    def barrier(self) -> asyncio.Future[None]:
        """A future that resolves once everything queued so far is durable."""
        last = self._items[-1] if self._items else None
        if last is None and self._in_flight:
            last = self._in_flight[-1]
        if last is not None:
            return last.done
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def submit_applied(self, batch: WriteBatch) -> asyncio.Future[None]:
        """``submit`` for changes already applied in memory: it runs to the end even if
        the caller is cancelled (its connection closed while waiting for room), so what
        the server holds and serves always reaches storage."""
        return await asyncio.shield(self.submit(batch))

    async def drain(self) -> None:
        """Wait until every queued write is durable."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._items and not self._in_flight)

    def close(self) -> None:
        """Refuse further submissions (those already queued are still written)."""
        self._closed = True

    async def run(self) -> None:
        """The flusher: forever take queued batches and make them durable."""
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._items))
                taken = self._take()
            await self._write(taken)
            async with self._changed:
                self._in_flight = []
                for item in taken:
                    self._pending_maps.subtract(item.maps)
                self._metrics.persistence_queue_depth.set(self.depth)
                self._changed.notify_all()

    def _take(self) -> list[_Item]:
        taken: list[_Item] = []
        ops = 0
        while self._items and (not taken or ops + self._items[0].size <= self._batch_ops_max):
            item = self._items.popleft()
            taken.append(item)
            ops += item.size
        self._queued_ops -= ops
        self._in_flight = taken
        # Room was made: wake producers waiting on back-pressure.
        self._changed.notify_all()
        return taken

    async def _write(self, items: list[_Item]) -> None:
        delay_ms = _RETRY_MS_MIN
        batch = coalesce([item.batch for item in items])
        while True:
            try:
                await self._apply(batch)
            except StorageError as exc:
                if not exc.retryable:
                    await self._write_one_by_one(items)
                    return
                self._fail(items, exc)
                self._metrics.persistence_failures.inc()
                _log.warning("storage write failed (%s); retrying in %d ms", exc, delay_ms)
                await asyncio.sleep(delay_ms / 1000)
                delay_ms = min(delay_ms * 2, self._retry_ms_max)
                continue
            for item in items:
                if not item.done.done():
                    item.done.set_result(None)
            return

    async def _write_one_by_one(self, items: list[_Item]) -> None:
        for item in items:
            if len(items) > 1:
                await self._write([item])
                continue
            try:
                await self._apply(item.batch)
            except StorageError as exc:
                if exc.retryable:
                    await self._write([item])
                    continue
                self._metrics.persistence_failures.inc()
                _log.error("storage refused a write batch as invalid; it is dropped: %s", exc)
                self._fail([item], exc)
            else:
                if not item.done.done():
                    item.done.set_result(None)

    async def _apply(self, batch: WriteBatch) -> None:
        started = time.perf_counter()
        try:
            await self._storage.apply(batch)
        except StorageError:
            raise
        except Exception as exc:
            _log.exception("storage adapter failed unexpectedly")
            raise StorageError("internal storage error") from exc
        self._metrics.persistence_flush_seconds.observe(time.perf_counter() - started)
        self._metrics.persistence_batches.inc()

    @staticmethod
    def _fail(items: list[_Item], exc: StorageError) -> None:
        for item in items:
            if not item.done.done():
                item.done.set_exception(StorageError(f"storage unavailable: {exc.message}"))
                # Nobody may be awaiting (MEMORY writes): mark it retrieved.
                item.done.exception()
