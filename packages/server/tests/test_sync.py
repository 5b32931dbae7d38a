"""Merkle sync: LWW pull (chunked leaves, expired records), OR-map two-way sync, reset."""

from __future__ import annotations

import time

from topgun_core.hashing import hash32
from topgun_core.hlc import HLC
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord
from topgun_core.testing import FakeClock
from topgun_server.testing import Stamper, or_add, put, running_server


def _same_leaf_keys(count: int) -> list[str]:
    """``count`` keys whose Merkle leaf path (first 3 hex digits of hash32) is the same."""
    by_leaf: dict[str, list[str]] = {}
    i = 0
    while True:
        key = f"key-{i}"
        i += 1
        leaf = f"{hash32(key):08x}"[:3]
        keys = by_leaf.setdefault(leaf, [])
        keys.append(key)
        if len(keys) == count:
            return keys


async def test_lww_pull_matches_the_server_root_and_chunks_big_leaves() -> None:
    async with running_server(sync_leaf_records_max=2) as server:
        writer = await server.client()
        keys = _same_leaf_keys(5)
        ops = [put(i, "docs", key, {"n": i}) for i, key in enumerate(keys, start=1)]
        ops += [put(10 + i, "docs", f"other-{i}", i) for i in range(20)]
        await writer.send({"type": "OP_BATCH", "payload": {"ops": ops}})
        await writer.expect("OP_ACK")

        reader = await server.client("bob")
        await reader.send({"type": "SYNC_INIT", "mapName": "docs"})
        root = await reader.expect("SYNC_RESP_ROOT")
        leaf = f"{hash32(keys[0]):08x}"[:3]
        await reader.send(
            {"type": "MERKLE_REQ_BUCKET", "payload": {"mapName": "docs", "path": leaf}}
        )
        chunks = [await reader.expect("SYNC_RESP_LEAF") for _ in range(3)]
        assert [len(c["payload"]["records"]) for c in chunks] == [2, 2, 1]
        assert {r["key"] for c in chunks for r in c["payload"]["records"]} == set(keys)

        # A replica built from the pulled records has the server's root.
        records = await reader.sync_lww("docs")
        replica = LWWMap(HLC("replica"))
        for key, entry in records.items():
            replica.merge(key, LWWRecord.from_wire(entry["record"]))
        assert replica.merkle.root_hash == root["payload"]["rootHash"]
        assert len(records) == 25
        await writer.close()
        await reader.close()


async def test_bucket_requests_walk_down_and_empty_leaves_answer_empty(server) -> None:
    client = await server.client()
    await client.send({"type": "CLIENT_OP", "payload": put(1, "m", "a", 1)})
    await client.expect("OP_ACK")
    await client.send({"type": "SYNC_INIT", "mapName": "m"})
    await client.expect("SYNC_RESP_ROOT")
    await client.send({"type": "MERKLE_REQ_BUCKET", "payload": {"mapName": "m", "path": ""}})
    buckets = await client.expect("SYNC_RESP_BUCKETS")
    assert list(buckets["payload"]["buckets"]) == [f"{hash32('a'):08x}"[0]]
    await client.send({"type": "MERKLE_REQ_BUCKET", "payload": {"mapName": "m", "path": "fff"}})
    empty = await client.expect("SYNC_RESP_LEAF")
    assert (empty["payload"]["path"], empty["payload"]["records"]) == ("fff", [])
    await client.send({"type": "MERKLE_REQ_BUCKET", "payload": {"mapName": "m", "path": "abcd"}})
    assert (await client.expect("ERROR"))["payload"]["code"] == 400
    await client.close()


async def test_expired_records_are_not_served_as_live() -> None:
    clock = FakeClock(int(time.time() * 1000))
    async with running_server(clock=clock) as server:
        client = await server.client()
        op = put(1, "ttl", "k", "secret", millis=clock.now_ms(), ttl_ms=1000)
        await client.send({"type": "CLIENT_OP", "payload": op})
        await client.expect("OP_ACK")
        assert (await client.sync_lww("ttl"))["k"]["record"]["value"] == "secret"
        clock.advance(5000)
        record = (await client.sync_lww("ttl"))["k"]["record"]
        assert record["value"] is None  # served as a tombstone, same timestamp
        assert record["timestamp"] == op["record"]["timestamp"]
        await client.close()


async def test_or_map_two_way_sync(server) -> None:
    writer = await server.client()
    first = or_add(1, "tags", "t", "work")
    await writer.send(
        {"type": "OP_BATCH", "payload": {"ops": [first, or_add(2, "tags", "t", "urgent")]}}
    )
    await writer.expect("OP_ACK")
    await writer.send(
        {
            "type": "CLIENT_OP",
            "payload": {
                "id": 3,
                "mapName": "tags",
                "key": "t",
                "opType": "OR_REMOVE",
                "orTag": first["orRecord"]["tag"],
            },
        }
    )
    await writer.expect("OP_ACK")

    # A client with its own local-only entry syncs two ways.
    local = ORMap(HLC("phone"))
    local.add("mine", "offline")
    reader = await server.client("bob")
    await reader.send(
        {
            "type": "ORMAP_SYNC_INIT",
            "mapName": "tags",
            "rootHash": local.merkle.root_hash,
            "bucketHashes": local.merkle.buckets(""),
        }
    )
    root = await reader.expect("ORMAP_SYNC_RESP_ROOT")
    top = await reader.expect("ORMAP_SYNC_RESP_BUCKETS")
    assert top["payload"]["path"] == ""
    leaf = f"{hash32('t'):08x}"[:3]
    await reader.send(
        {"type": "ORMAP_MERKLE_REQ_BUCKET", "payload": {"mapName": "tags", "path": leaf}}
    )
    entries = (await reader.expect("ORMAP_SYNC_RESP_LEAF"))["payload"]["entries"]
    [entry] = entries
    assert [r["value"] for r in entry["records"]] == ["urgent"]
    assert entry["tombstones"] == [first["orRecord"]["tag"]]
    local.merge_key("t", [ORRecord.from_wire(r) for r in entry["records"]], entry["tombstones"])

    # Push the local-only key back, then the roots agree.
    mine = [r.to_wire() for r in local.records("mine")]
    await reader.send(
        {
            "type": "ORMAP_PUSH_DIFF",
            "payload": {
                "mapName": "tags",
                "entries": [{"key": "mine", "records": mine, "tombstones": []}],
            },
        }
    )
    await reader.send(
        {"type": "ORMAP_DIFF_REQUEST", "payload": {"mapName": "tags", "keys": ["mine", "t"]}}
    )
    diff = (await reader.expect("ORMAP_DIFF_RESPONSE"))["payload"]["entries"]
    assert {e["key"] for e in diff} == {"mine", "t"}
    await reader.send(
        {
            "type": "ORMAP_SYNC_INIT",
            "mapName": "tags",
            "rootHash": local.merkle.root_hash,
            "bucketHashes": {},
        }
    )
    again = await reader.expect("ORMAP_SYNC_RESP_ROOT")
    assert again["payload"]["rootHash"] == local.merkle.root_hash != root["payload"]["rootHash"]
    # The writer, holding the map, heard about the pushed entry.
    await writer.send(
        {"type": "ORMAP_SYNC_INIT", "mapName": "tags", "rootHash": 0, "bucketHashes": {}}
    )
    await writer.expect("ORMAP_SYNC_RESP_ROOT")
    await writer.close()
    await reader.close()


async def test_push_diff_with_drift_applies_nothing(server) -> None:
    client = await server.client()
    future = Stamper("phone")(int(time.time() * 1000) + 120_000)
    tag = f"{future['millis']}:{future['counter']}:{future['nodeId']}"
    record = {"value": "x", "timestamp": future, "tag": tag}
    await client.send(
        {
            "type": "ORMAP_PUSH_DIFF",
            "payload": {
                "mapName": "tags",
                "entries": [{"key": "k", "records": [record], "tombstones": []}],
            },
        }
    )
    error = await client.expect("ERROR")
    assert error["payload"]["code"] == 400
    assert "drift" in error["payload"]["message"]
    await client.send({"type": "ORMAP_DIFF_REQUEST", "payload": {"mapName": "tags", "keys": ["k"]}})
    diff = await client.expect("ORMAP_DIFF_RESPONSE")
    assert diff["payload"]["entries"] == [{"key": "k", "records": [], "tombstones": []}]
    await client.close()


async def test_sync_reset_required_after_the_gc_horizon() -> None:
    clock = FakeClock(int(time.time() * 1000))
    async with running_server(clock=clock, gc_interval_ms=20, gc_tombstone_age_ms=1000) as server:
        client = await server.client()
        await client.expect("GC_PRUNE", timeout=10)
        horizon = clock.now_ms() - 1000
        for message in (
            {"type": "SYNC_INIT", "mapName": "m", "lastSyncTimestamp": horizon - 5000},
            {
                "type": "ORMAP_SYNC_INIT",
                "mapName": "o",
                "rootHash": 0,
                "bucketHashes": {},
                "lastSyncTimestamp": horizon - 5000,
            },
        ):
            await client.send(message)
            reset = await client.expect("SYNC_RESET_REQUIRED")
            assert reset["payload"]["mapName"] == message["mapName"]
        await client.send(
            {"type": "SYNC_INIT", "mapName": "m", "lastSyncTimestamp": clock.now_ms()}
        )
        assert (await client.expect("SYNC_RESP_ROOT", "SYNC_RESET_REQUIRED"))[
            "type"
        ] == "SYNC_RESP_ROOT"
        await client.send({"type": "SYNC_INIT", "mapName": "m"})  # a fresh client: no reset
        assert (await client.expect("SYNC_RESP_ROOT", "SYNC_RESET_REQUIRED"))[
            "type"
        ] == "SYNC_RESP_ROOT"
        await client.close()
