"""Maps load lazily through LOADING → READY (one load however many ask), idle maps are
evicted under the memory ceiling and reloaded on demand, never with unpersisted writes."""

from __future__ import annotations

import asyncio
import json

import pytest

from topgun_adapters import MemoryStorage
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.storage import WriteBatch
from topgun_server.services.maps import MapSlot, MapState
from topgun_server.testing import put, running_server


async def _seed(storage: MemoryStorage, map_name: str, count: int) -> None:
    await storage.open()
    batch = WriteBatch(map_kinds={map_name: "lww"})
    for i in range(count):
        batch.lww_upserts.append((map_name, f"k{i}", LWWRecord(i, Timestamp(1000 + i, 0, "seed"))))
    await storage.apply(batch)
    await storage.close()


async def _maps(server) -> dict[str, dict]:
    status, body = await server.get("/api/admin/maps", server.token(sub="ops", roles=("ADMIN",)))
    assert status == 200
    return {m["name"]: m for m in json.loads(body)["maps"]}


async def _until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def test_concurrent_first_access_loads_once_and_writers_wait(flaky_storage) -> None:
    await _seed(flaky_storage, "big", 50)
    flaky_storage.load_gate.clear()
    async with running_server(adapter=flaky_storage) as server:
        readers = [await server.client(f"r{i}") for i in range(3)]
        writer = await server.client("w")
        for reader in readers:
            await reader.send({"type": "SYNC_INIT", "mapName": "big"})
        await _until(lambda: flaky_storage.loads.get("big") == 1)
        assert (await _maps(server))["big"]["state"] == "LOADING"
        await writer.send({"type": "CLIENT_OP", "payload": put(1, "big", "k0", "new")})
        flaky_storage.load_gate.set()
        roots = {(await r.expect("SYNC_RESP_ROOT"))["payload"]["rootHash"] for r in readers}
        assert len(roots) == 1
        await writer.expect("OP_ACK")
        assert flaky_storage.loads["big"] == 1
        records = await readers[0].sync_lww("big")
        assert len(records) == 50
        assert records["k0"]["record"]["value"] == "new"  # the write landed on the loaded data
        for client in (*readers, writer):
            await client.close()


async def test_idle_maps_are_evicted_under_the_ceiling_and_reloaded(flaky_storage) -> None:
    async with running_server(adapter=flaky_storage, maps_memory_bytes_max=30_000) as server:
        client = await server.client()
        for name in ("a", "b", "c"):
            ops = [put(i, name, f"k{i}", "v" * 100) for i in range(40)]
            await client.send(
                {"type": "OP_BATCH", "payload": {"ops": ops, "writeConcern": "PERSISTED"}}
            )
            await client.expect("OP_ACK")
        # Loading another map pushes the least recently used ones out.
        await client.send({"type": "SYNC_INIT", "mapName": "d"})
        await client.expect("SYNC_RESP_ROOT")
        states = {name: m["state"] for name, m in (await _maps(server)).items()}
        assert states["a"] == "UNLOADED"
        assert flaky_storage.loads.get("a", 0) == 0
        records = await client.sync_lww("a")  # reloaded on demand, intact
        assert len(records) == 40
        assert flaky_storage.loads["a"] == 1
        await client.close()


async def test_a_map_with_unpersisted_writes_is_never_evicted(flaky_storage) -> None:
    async with running_server(adapter=flaky_storage, maps_memory_bytes_max=10_000) as server:
        client = await server.client()
        flaky_storage.gate.clear()
        ops = [put(i, "pending", f"k{i}", "v" * 100) for i in range(40)]
        await client.send({"type": "OP_BATCH", "payload": {"ops": ops}})
        await client.expect("OP_ACK")
        for name in ("x", "y"):
            await client.send({"type": "SYNC_INIT", "mapName": name})
            await client.expect("SYNC_RESP_ROOT")
        maps = await _maps(server)
        assert maps["pending"]["state"] == "READY"
        assert maps["pending"]["pendingWrites"] is True
        flaky_storage.gate.set()
        await client.close()


def test_map_states_follow_the_transition_table() -> None:
    slot = MapSlot("m", "lww")
    slot.move(MapState.READY)
    with pytest.raises(AssertionError):
        slot.move(MapState.LOADING)
