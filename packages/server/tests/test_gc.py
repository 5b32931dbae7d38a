"""Tombstone GC: old tombstones are pruned in memory and storage, clients get GC_PRUNE,
maps loaded later are pruned to the horizon, and the horizon survives a restart."""

from __future__ import annotations

import time

from topgun_adapters import MemoryStorage
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import WriteBatch
from topgun_server.testing import or_add, or_remove, put, remove, running_server


def _now() -> int:
    return int(time.time() * 1000)


async def test_gc_prunes_old_tombstones_and_tells_clients() -> None:
    storage = MemoryStorage()
    settings = {"gc_interval_ms": 50, "gc_tombstone_age_ms": 5_000}
    async with running_server(adapter=storage, gc_interval_ms=3_600_000) as server:
        client = await server.client()
        old = _now() - 60_000
        added = or_add(4, "tags", "t", "x", millis=old)
        ops = [
            put(1, "m", "live", 1),
            put(2, "m", "gone", 1, millis=old - 1),
            remove(3, "m", "gone", millis=old),
            remove(5, "m", "fresh"),
            added,
            or_remove(6, "tags", "t", added["orRecord"]["tag"]),
        ]
        await client.send(
            {"type": "OP_BATCH", "payload": {"ops": ops, "writeConcern": "PERSISTED"}}
        )
        ack = await client.expect("OP_ACK")
        assert all(r["success"] for r in ack["payload"]["results"])
        await client.close()
    await storage.open()
    assert {key for key, _ in await storage.load_lww("m")} == {"live", "gone", "fresh"}
    assert len((await storage.load_or("tags")).tombstones) == 1
    await storage.close()

    async with running_server(adapter=storage, **settings) as server:
        client = await server.client()
        before = await client.sync_lww("m")  # loading the map prunes it to the horizon
        prune = await client.expect("GC_PRUNE")
        horizon = prune["payload"]["olderThan"]["millis"]
        assert _now() - 10_000 < horizon <= _now() - 5_000
        after = await client.sync_lww("m")
        assert "gone" not in after
        assert after["fresh"]["record"]["value"] is None  # a young tombstone is kept
        assert after["live"]["record"]["value"] == 1
        assert "gone" not in before or before["gone"]["record"]["value"] is None
        await client.send(
            {"type": "ORMAP_DIFF_REQUEST", "payload": {"mapName": "tags", "keys": ["t"]}}
        )
        diff = await client.expect("ORMAP_DIFF_RESPONSE")
        assert diff["payload"]["entries"][0]["tombstones"] == []
        await client.close()
    await storage.open()
    assert {key for key, _ in await storage.load_lww("m")} == {"live", "fresh"}
    assert (await storage.load_or("tags")).tombstones == []
    await storage.close()


async def test_maps_loaded_after_gc_are_pruned_and_the_horizon_persists() -> None:
    storage = MemoryStorage()
    await storage.open()
    batch = WriteBatch(map_kinds={"cold": "lww"})
    batch.lww_upserts.append(("cold", "dead", LWWRecord(None, Timestamp(1000, 0, "old"))))
    batch.lww_upserts.append(("cold", "alive", LWWRecord("v", Timestamp(1000, 1, "old"))))
    await storage.apply(batch)
    await storage.close()
    async with running_server(
        adapter=storage, gc_interval_ms=20, gc_tombstone_age_ms=1000
    ) as server:
        client = await server.client()
        await client.expect("GC_PRUNE")
        records = await client.sync_lww("cold")
        assert set(records) == {"alive"}
        await client.close()
    async with running_server(adapter=storage, gc_interval_ms=3_600_000) as server:
        client = await server.client()
        # The stored horizon still forces old clients to reset after a restart.
        await client.send({"type": "SYNC_INIT", "mapName": "cold", "lastSyncTimestamp": 5000})
        assert (await client.expect("SYNC_RESET_REQUIRED"))["payload"]["mapName"] == "cold"
        await client.close()
