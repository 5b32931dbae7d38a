"""Writes: every op one answer, write concerns (SEMANTICS §7), kinds, permissions,
persistence failures and back-pressure, and PERSISTED surviving a restart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from topgun_adapters import MemoryStorage, SQLiteStorage
from topgun_server.testing import ProtocolClient, or_add, or_remove, put, remove, running_server


async def _batch(client: ProtocolClient, ops: list, **payload) -> None:
    await client.send({"type": "OP_BATCH", "payload": {"ops": ops, **payload}})


async def test_single_client_op_gets_an_op_ack(server) -> None:
    client = await server.client()
    await client.send({"type": "CLIENT_OP", "payload": put(41, "users", "u1", {"name": "Ada"})})
    ack = await client.expect("OP_ACK")
    assert ack["payload"] == {
        "lastId": 41,
        "achievedLevel": "APPLIED",
        "results": [{"opId": 41, "success": True, "achievedLevel": "APPLIED"}],
    }
    await client.close()


async def test_every_op_of_a_batch_gets_exactly_one_answer_with_integer_ids(server) -> None:
    client = await server.client()
    ops = [put(i, "users", f"k{i}", i) for i in (9, 10, 100)]
    ops.append(or_add(11, "users", "x", 1))  # wrong kind for an LWW map: 409
    await _batch(client, ops)
    rejected = await client.expect("OP_REJECTED")
    assert (rejected["payload"]["opId"], rejected["payload"]["code"]) == (11, 409)
    ack = await client.expect("OP_ACK")
    assert ack["payload"]["lastId"] == 100  # numeric, not "9" > "100"
    assert [r["opId"] for r in ack["payload"]["results"]] == [9, 10, 100]
    await client.close()


async def test_map_kind_mismatch_is_409(server) -> None:
    client = await server.client()
    await client.send({"type": "CLIENT_OP", "payload": or_add(1, "tags", "t", "x")})
    await client.expect("OP_ACK")
    await client.send({"type": "CLIENT_OP", "payload": put(2, "tags", "t", "x")})
    rejected = await client.expect("OP_REJECTED")
    assert rejected["payload"]["code"] == 409
    assert "OR map" in rejected["payload"]["reason"]
    await client.send({"type": "SYNC_INIT", "mapName": "tags"})
    assert (await client.expect("ERROR"))["payload"]["code"] == 409
    await client.close()


async def test_persisted_and_replicated_wait_for_storage(flaky_storage) -> None:
    async with running_server(adapter=flaky_storage) as server:
        client = await server.client()
        flaky_storage.gate.clear()
        flaky_storage.write_waiting.clear()
        await _batch(
            client,
            [put(1, "m", "a", 1), put(2, "m", "b", 2, write_concern="MEMORY")],
            writeConcern="PERSISTED",
        )
        immediate = await client.expect("OP_ACK")
        assert immediate["payload"]["results"] == [
            {"opId": 2, "success": True, "achievedLevel": "APPLIED"}
        ]
        await asyncio.wait_for(flaky_storage.write_waiting.wait(), 5)
        assert not client.inbox  # the PERSISTED ack waits for the gate
        flaky_storage.gate.set()
        durable = await client.expect("OP_ACK")
        assert durable["payload"]["results"] == [
            {"opId": 1, "success": True, "achievedLevel": "PERSISTED"}
        ]
        op = put(3, "m", "c", 3, write_concern="REPLICATED")
        await client.send({"type": "CLIENT_OP", "payload": op})
        replicated = await client.expect("OP_ACK")
        # Single node: no backups, REPLICATED is the PERSISTED wait and says so.
        assert replicated["payload"]["achievedLevel"] == "PERSISTED"
        await client.close()


async def test_durable_timeout_reports_the_level_achieved(flaky_storage) -> None:
    async with running_server(adapter=flaky_storage) as server:
        client = await server.client()
        flaky_storage.gate.clear()
        await _batch(client, [put(1, "m", "a", 1)], writeConcern="PERSISTED", timeout=50)
        ack = await client.expect("OP_ACK")
        [result] = ack["payload"]["results"]
        assert result["success"] is False
        assert result["achievedLevel"] == "APPLIED"
        assert "timed out after 50 ms" in result["error"]
        flaky_storage.gate.set()
        await client.close()
    assert any(batch.lww_upserts for batch in flaky_storage.applied)  # still written


async def test_storage_failure_fails_waiters_with_503_and_is_retried(flaky_storage) -> None:
    async with running_server(adapter=flaky_storage, persistence_retry_ms_max=20) as server:
        client = await server.client()
        flaky_storage.fail_writes = 3
        await _batch(client, [put(1, "m", "a", "v")], writeConcern="PERSISTED")
        ack = await client.expect("OP_ACK")
        [result] = ack["payload"]["results"]
        assert result["success"] is False
        assert result["error"].startswith("503")
        assert "injected" not in result["error"] or "storage unavailable" in result["error"]
        reader = await server.client("bob")
        assert (await reader.sync_lww("m"))["a"]["record"]["value"] == "v"  # applied in memory
        # The write is retried until it is durable: a later barrier succeeds.
        await _batch(client, [put(2, "m", "b", "w")], writeConcern="PERSISTED")
        ack = await client.expect("OP_ACK")
        assert ack["payload"]["results"][0]["success"] is True
        await client.close()
        await reader.close()
    await flaky_storage.open()
    stored = dict(await flaky_storage.load_lww("m"))
    assert stored["a"].value == "v"


async def test_full_queue_applies_back_pressure_and_drops_nothing(flaky_storage) -> None:
    async with running_server(
        adapter=flaky_storage, persistence_queue_ops_max=4, persistence_batch_ops_max=4
    ) as server:
        client = await server.client()
        flaky_storage.gate.clear()
        for i in range(1, 21):
            await client.send({"type": "CLIENT_OP", "payload": put(i, "bp", f"k{i}", i)})
        acks = [await client.expect("OP_ACK") for _ in range(3)]
        assert len(client.inbox) < 17  # the reader is held back by the full queue
        flaky_storage.gate.set()
        while len(acks) < 20:
            acks.append(await client.expect("OP_ACK"))
        assert sorted(a["payload"]["lastId"] for a in acks) == list(range(1, 21))
        await client.close()
    await flaky_storage.open()
    assert len(await flaky_storage.load_lww("bp")) == 20


async def test_persisted_writes_survive_a_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'topgun.db'}"
    async with running_server(storage=db) as server:
        client = await server.client()
        ops = [
            put(1, "m", "a", {"x": 1}),
            put(2, "m", "gone", 1),
            remove(3, "m", "gone"),
            put(4, "m", "ttl", 5, ttl_ms=3_600_000),
        ]
        await _batch(client, ops, writeConcern="PERSISTED")
        ack = await client.expect("OP_ACK")
        assert all(r["success"] for r in ack["payload"]["results"])
        await client.send({"type": "CLIENT_OP", "payload": or_add(5, "tags", "t", "x")})
        add_ack = await client.expect("OP_ACK")
        assert add_ack["payload"]["results"][0]["success"]
        await client.close()
    stored = SQLiteStorage(tmp_path / "topgun.db")
    await stored.open()
    records = dict(await stored.load_lww("m"))
    await stored.close()
    assert records["a"].value == {"x": 1}
    assert records["gone"].value is None  # the tombstone persisted
    assert records["ttl"].ttl_ms == 3_600_000
    async with running_server(storage=db) as server:
        client = await server.client()
        synced = await client.sync_lww("m")
        assert synced["a"]["record"]["value"] == {"x": 1}
        assert synced["gone"]["record"]["value"] is None
        assert synced["ttl"]["record"]["ttlMs"] == 3_600_000
        await client.close()


async def test_memory_writes_survive_a_clean_shutdown() -> None:
    storage = MemoryStorage()
    async with running_server(adapter=storage) as server:
        client = await server.client()
        await _batch(client, [put(i, "m", f"k{i}", i) for i in range(1, 501)])
        await client.expect("OP_ACK")
        # Leave without waiting for persistence: the shutdown drains the queue.
    async with running_server(adapter=storage) as server:
        client = await server.client()
        assert len(await client.sync_lww("m")) == 500
        await client.close()


async def test_clean_shutdown_sends_shutdown_pending_then_1001() -> None:
    storage = MemoryStorage()
    async with running_server(adapter=storage, shutdown_retry_after_ms=777) as server:
        client = await server.client()
    pending = await client.expect("SHUTDOWN_PENDING")
    assert pending["retryAfter"] == 777
    assert (await client.closed())[0] == 1001


async def test_or_map_writes(server) -> None:
    client = await server.client()
    add = or_add(1, "tags", "t", "work")
    await client.send({"type": "CLIENT_OP", "payload": add})
    await client.expect("OP_ACK")
    removal = or_remove(2, "tags", "t", add["orRecord"]["tag"])
    await client.send({"type": "CLIENT_OP", "payload": removal})
    await client.expect("OP_ACK")
    await client.send({"type": "CLIENT_OP", "payload": or_remove(3, "tags", "t", "not-a-tag")})
    assert (await client.expect("OP_REJECTED"))["payload"]["code"] == 400
    await client.close()


async def test_permission_per_op(tmp_path: Path) -> None:
    policies = tmp_path / "policies.json"
    policies.write_text(
        json.dumps(
            [
                {"role": "USER", "pattern": "public", "actions": ["READ", "PUT"]},
                {"role": "USER", "pattern": "notes/{userId}/*", "actions": ["ALL"]},
            ]
        )
    )
    async with running_server(policies_file=policies) as server:
        client = await server.client("alice")
        ops = [
            put(1, "public", "a", 1),
            remove(2, "public", "a"),
            put(3, "notes/alice/x", "k", 1),
            put(4, "notes/bob/x", "k", 1),
        ]
        await _batch(client, ops)
        rejected = {}
        for _ in range(2):
            r = await client.expect("OP_REJECTED")
            rejected[r["payload"]["opId"]] = r["payload"]["code"]
        assert rejected == {2: 403, 4: 403}
        ack = await client.expect("OP_ACK")
        assert [r["opId"] for r in ack["payload"]["results"]] == [1, 3]
        await client.close()


async def test_a_write_applied_before_its_connection_drops_is_still_persisted(
    flaky_storage,
) -> None:
    async with running_server(
        adapter=flaky_storage,
        persistence_queue_ops_max=4,
        persistence_batch_ops_max=4,
        idle_timeout_ms=1000,
    ) as server:
        writer = await server.client("w")
        flaky_storage.gate.clear()
        for i in range(1, 9):
            await writer.send({"type": "CLIENT_OP", "payload": put(i, "drop", f"k{i}", i)})
        # The full queue holds the writer's reader inside a submit, after the merge; the
        # idle timeout then closes the connection and cancels that reader.
        assert (await writer.closed())[0] == 4002
        observer = await server.client("o")
        in_memory = set(await observer.sync_lww("drop"))
        assert 1 <= len(in_memory) < 8
        flaky_storage.gate.set()
        await observer.close()
    await flaky_storage.open()
    assert {key for key, _ in await flaky_storage.load_lww("drop")} == in_memory
