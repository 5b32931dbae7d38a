"""Tombstone garbage collection on a schedule, and the sync-reset horizon.

Every ``interval_ms`` the collector picks a horizon — now minus
``tombstone_age_ms``, as an HLC timestamp — and prunes older tombstones from every
loaded map: LWW tombstones (records whose value is null) and OR-map tombstone tags.
The deletions go through the persistence queue like any write, the horizon is
stored in the storage meta table (so it survives a restart), and every
authenticated client is told ``GC_PRUNE {olderThan}`` so it can prune too. A map
loaded later is pruned to the current horizon as it becomes READY.

A client whose ``lastSyncTimestamp`` is older than the horizon may hold deletions
the server has forgotten, and would resurrect them by syncing: it is answered
``SYNC_RESET_REQUIRED`` instead (:meth:`TombstoneGC.needs_reset`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from topgun_core.clock import Clock
from topgun_core.errors import StorageError
from topgun_core.hlc import Timestamp
from topgun_core.storage import StorageAdapter, WriteBatch
from topgun_server.metrics import Metrics
from topgun_server.services.maps import Maps, MapSlot, MapState
from topgun_server.services.persistence import PersistenceQueue

__all__ = ["META_GC_HORIZON", "TombstoneGC"]

_log = logging.getLogger(__name__)

META_GC_HORIZON = "gc_horizon_ms"
"""Meta key holding the last GC horizon (epoch millis)."""


class TombstoneGC:
    """Prunes old tombstones; knows the horizon below which clients must reset."""

    def __init__(  # noqa: PLR0913 - collaborators and two named limits
        self,
        storage: StorageAdapter,
        maps: Maps,
        persistence: PersistenceQueue,
        metrics: Metrics,
        clock: Clock,
        node_id: str,
        *,
        interval_ms: int,
        tombstone_age_ms: int,
    ) -> None:
        self._storage = storage
        self._maps = maps
        self._persistence = persistence
        self._metrics = metrics
        self._clock = clock
        self._node_id = node_id
        self.interval_ms = interval_ms
        self.tombstone_age_ms = tombstone_age_ms
        self.horizon_ms = 0
        self.on_pruned: Callable[[Timestamp], None] | None = None
        """Called after each run with the horizon (the app sends GC_PRUNE)."""

    async def start(self) -> None:
        """Read the stored horizon."""
        stored = await self._storage.get_meta(META_GC_HORIZON)
        if stored is not None and stored.isdigit():
            self.horizon_ms = int(stored)

    def needs_reset(self, last_sync_ms: int | None) -> bool:
        """Whether a client last synced before tombstones it may hold were forgotten."""
        return bool(last_sync_ms) and self.horizon_ms > 0 and last_sync_ms < self.horizon_ms  # type: ignore[operator]  # bool() proved it an int

    def horizon(self) -> Timestamp:
        """The current horizon as an HLC timestamp of this node."""
        return Timestamp(self.horizon_ms, 0, self._node_id)

    async def run(self) -> None:
        """Collect every ``interval_ms`` forever."""
        while True:
            await asyncio.sleep(self.interval_ms / 1000)
            try:
                await self.run_once()
            except StorageError as exc:
                _log.warning("tombstone GC deferred: %s", exc)

    async def run_once(self) -> int:
        """One collection now; returns how many tombstones were pruned."""
        horizon_ms = self._clock.now_ms() - self.tombstone_age_ms
        if horizon_ms <= self.horizon_ms:
            return 0
        self.horizon_ms = horizon_ms
        await self._storage.set_meta(META_GC_HORIZON, str(horizon_ms))
        pruned = 0
        for slot in self._maps.loaded():
            if slot.state is MapState.READY:
                batch = self.prune(slot)
                if batch:
                    pruned += len(batch)
                    await self._persistence.submit_applied(batch)
        self._metrics.gc_pruned.inc(pruned)
        if self.on_pruned is not None:
            self.on_pruned(self.horizon())
        return pruned

    def prune(self, slot: MapSlot) -> WriteBatch:
        """Prune ``slot`` to the current horizon (memory); the storage deletes to queue."""
        batch = WriteBatch()
        if self.horizon_ms <= 0:
            return batch
        horizon = self.horizon()
        if slot.lww is not None:
            batch.lww_deletes.extend((slot.name, key) for key in slot.lww.prune(horizon))
        if slot.ormap is not None:
            batch.or_tombstone_deletes.extend((slot.name, tag) for tag in slot.ormap.prune(horizon))
        return batch
