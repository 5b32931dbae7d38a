"""The local writer: group commit of the replica's pending changes to the local store.

Writes are applied in memory at once and queued in
:class:`~topgun_client._pending.PendingWrites`. The writer task wakes on the first
queued change, waits ``local_flush_interval_ms`` so that a burst shares one
transaction, takes everything queued and commits it — record rows and op-log
entries — then tells the client which op ids the store assigned. A caller that
needs durability now (``flush_local()``, ``write()``) asks for an urgent commit and
waits for it.

Durability contract: a write is durable locally at most ``local_flush_interval_ms``
(plus the commit itself) after ``set()`` returns; ``flush_local()`` returns once
every write made before the call is durable.

The record rows and the op-log entries of one commit are one
:class:`~topgun_core.storage.WriteBatch` (``oplog_appends``), applied atomically:
after a crash at any point either the write and its op are both in the store or
neither is (and then ``set()`` had returned less than one interval before). A
failed commit is retried while the error is retryable, else reported and raised to
every waiter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from topgun_client._pending import Commit, PendingWrites
from topgun_client._settings import ClientSettings
from topgun_core.errors import StorageError
from topgun_core.storage import StorageAdapter, WriteBatch

__all__ = ["LocalWriter", "store_commit"]

_log = logging.getLogger("topgun_client.writer")

_RETRY_DELAY_MAX_S = 2.0


async def store_commit(storage: StorageAdapter, batch: WriteBatch) -> list[int]:
    """Commit ``batch`` (rows and op-log appends, atomically); return the op-log ids."""
    if not len(batch):
        return []
    return await storage.apply(batch)


Committed = Callable[[int, list[int], int], None]
"""Called after each commit with the first sequence number, the op ids assigned and
the number of op-log entries trimmed."""

Failed = Callable[[StorageError], None]


class LocalWriter:
    """Owns the commit loop of one client's local store."""

    def __init__(
        self,
        storage: StorageAdapter,
        pending: PendingWrites,
        settings: ClientSettings,
        on_committed: Committed,
        on_failed: Failed,
    ) -> None:
        self._storage = storage
        self._pending = pending
        self._interval_s = settings.local_flush_interval_ms / 1000
        self._room_limit = settings.local_queue_ops_max
        self._on_committed = on_committed
        self._on_failed = on_failed
        self._wake = asyncio.Event()
        self._urgent = False
        self._started = 0
        self._finished = 0
        self._trim_through: int | None = None
        self._changed = asyncio.Condition()
        self._broken: StorageError | None = None

    def wake(self, *, urgent: bool = False) -> None:
        """Something was queued; ``urgent`` skips the group-commit wait."""
        self._urgent = self._urgent or urgent
        self._wake.set()

    def trim(self, through_id: int) -> None:
        """Trim the op log through ``through_id`` with the next commit."""
        if self._trim_through is None or through_id > self._trim_through:
            self._trim_through = through_id
        self.wake()

    @property
    def idle(self) -> bool:
        """Nothing queued and no commit running."""
        return not len(self._pending) and self._started == self._finished

    async def flush(self) -> None:
        """Return when everything queued before the call is committed; raise if it cannot be."""
        if self._broken is not None:
            raise self._broken
        target = self._started + (1 if len(self._pending) else 0)
        if self._finished >= target:
            return
        self.wake(urgent=True)
        async with self._changed:
            await self._changed.wait_for(
                lambda: self._finished >= target or self._broken is not None
            )
        if self._broken is not None:
            raise self._broken

    async def wait_room(self) -> None:
        """Back-pressure: return when the pending queue is below its bound."""
        while len(self._pending) >= self._room_limit:
            self.wake(urgent=True)
            async with self._changed:
                await self._changed.wait()
            if self._broken is not None:
                raise self._broken

    async def run(self) -> None:
        """The commit loop; runs until cancelled (then the caller runs :meth:`drain`)."""
        while True:
            await self._wake.wait()
            if not self._urgent:
                await asyncio.sleep(self._interval_s)
            await self._commit_once()

    async def drain(self) -> None:
        """Commit whatever is still queued (on close)."""
        while len(self._pending) or self._trim_through is not None:
            await self._commit_once()
            if self._broken is not None:
                raise self._broken

    async def _commit_once(self) -> None:
        self._wake.clear()
        self._urgent = False
        commit = self._pending.take()
        trim, self._trim_through = self._trim_through, None
        self._started += 1
        try:
            stored: tuple[list[int], int] | None = await self._store(commit, trim)
        except StorageError as exc:
            self._broken = exc
            self._on_failed(exc)
            stored = None
        finally:
            self._finished += 1
            async with self._changed:
                self._changed.notify_all()
        if stored is not None:
            self._on_committed(commit.first_seq, *stored)

    async def _store(self, commit: Commit, trim: int | None) -> tuple[list[int], int]:
        delay = 0.05
        while True:
            try:
                for name in commit.clears:
                    await self._storage.clear_map(name)
                ids = await store_commit(self._storage, commit.batch)
                trimmed = await self._storage.oplog_trim(trim) if trim is not None else 0
                return ids, trimmed
            except StorageError as exc:
                if not exc.retryable:
                    raise
                self._on_failed(exc)
                _log.warning("local commit failed, retrying in %.2f s: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_DELAY_MAX_S)
