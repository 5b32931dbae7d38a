"""The event journal end to end: every applied write, replay with no gaps then live,
unsubscribe that really stops, paged reads, permissions, persistence with retention."""

from __future__ import annotations

from topgun_adapters import MemoryStorage
from topgun_server.testing import ProtocolClient, RunningServer, or_add, put, remove, running_server


async def _write(client: ProtocolClient, op_id: int, op) -> None:
    await client.send({"type": "CLIENT_OP", "payload": op})
    await client.expect("OP_ACK")


async def _barrier(client: ProtocolClient) -> None:
    await client.send({"type": "PING", "timestamp": 1})
    await client.expect("PONG")


async def _quiet(client: ProtocolClient, *forbidden: str) -> None:
    """Round-trip a PING; fail if a ``forbidden`` message arrives before its PONG."""
    await client.send({"type": "PING", "timestamp": 1})
    while (message := await client.recv())["type"] != "PONG":
        assert message["type"] not in forbidden, message


async def test_writes_are_journaled_with_previous_values(server: RunningServer) -> None:
    writer = await server.client()
    await _write(writer, 1, put(1, "m", "k", {"v": 1}))
    await _write(writer, 2, put(2, "m", "k", {"v": 2}))
    await _write(writer, 3, remove(3, "m", "k"))
    await _write(writer, 4, or_add(4, "tags", "t", "x"))
    await writer.send({"type": "JOURNAL_READ", "requestId": "r", "fromSequence": 0, "limit": 10})
    page = await writer.expect("JOURNAL_READ_RESPONSE")
    events = page["events"]
    assert [(e["sequence"], e["type"], e["mapName"]) for e in events] == [
        (0, "PUT", "m"),
        (1, "UPDATE", "m"),
        (2, "DELETE", "m"),
        (3, "PUT", "tags"),
    ]
    assert events[1]["value"] == {"v": 2}
    assert events[1]["previousValue"] == {"v": 1}
    assert "value" not in events[2]
    assert events[2]["previousValue"] == {"v": 2}
    assert events[3]["value"] == ["x"]
    assert page["hasMore"] is False


async def test_read_pages_and_filters(server: RunningServer) -> None:
    writer = await server.client()
    for i in range(25):
        await writer.send({"type": "CLIENT_OP", "payload": put(i + 1, f"m{i % 2}", f"k{i}", i)})
    await _barrier(writer)
    seen, start = [], 0
    while True:
        await writer.send(
            {
                "type": "JOURNAL_READ",
                "requestId": "p",
                "fromSequence": start,
                "limit": 4,
                "mapName": "m0",
            }
        )
        page = await writer.expect("JOURNAL_READ_RESPONSE")
        seen.extend(e["value"] for e in page["events"])
        if not page["hasMore"]:
            break
        start = page["events"][-1]["sequence"] + 1
    assert seen == list(range(0, 25, 2))
    await writer.send(
        {"type": "JOURNAL_READ", "requestId": "big", "fromSequence": 0, "limit": 5000}
    )
    error = await writer.expect("ERROR")
    assert error["payload"]["code"] == 413
    assert error["payload"]["details"]["requestId"] == "big"


async def test_replay_then_live_with_no_gaps_and_unsubscribe_stops(server: RunningServer) -> None:
    writer, reader = await server.client("w"), await server.client("r")
    for i in range(10):
        await writer.send({"type": "CLIENT_OP", "payload": put(i + 1, "m", f"k{i}", i)})
    await _barrier(writer)
    await reader.send({"type": "JOURNAL_SUBSCRIBE", "requestId": "s1", "fromSequence": 3})
    for i in range(10, 20):
        await writer.send({"type": "CLIENT_OP", "payload": put(i + 1, "m", f"k{i}", i)})
    sequences = []
    while len(sequences) < 17:
        message = await reader.expect("JOURNAL_EVENT")
        assert message["subscriptionId"] == "s1"
        sequences.append(message["event"]["sequence"])
    assert sequences == list(range(3, 20))
    await reader.send({"type": "JOURNAL_UNSUBSCRIBE", "subscriptionId": "s1"})
    await _barrier(reader)
    await _write(writer, 99, put(99, "m", "after", 1))
    await _quiet(reader, "JOURNAL_EVENT")
    await reader.send({"type": "JOURNAL_UNSUBSCRIBE", "subscriptionId": "s1"})
    assert (await reader.expect("ERROR"))["payload"]["code"] == 404


async def test_a_reader_sees_only_maps_it_may_read(tmp_path) -> None:
    policies = tmp_path / "p.json"
    policies.write_text(
        '[{"role": "USER", "pattern": "public", "actions": ["ALL"]},'
        ' {"role": "USER", "pattern": "shown", "actions": ["ALL"], "allowedFields": ["a"]}]'
    )
    async with running_server(policies_file=policies) as server:
        admin = await server.client("root", ("ADMIN",))
        reader = await server.client("u")
        await reader.send({"type": "JOURNAL_SUBSCRIBE", "requestId": "s", "fromSequence": 0})
        await _barrier(reader)
        await _write(admin, 1, put(1, "secret", "k", 1))
        await _write(admin, 2, put(2, "shown", "k", {"a": 1, "b": 2}))
        event = (await reader.expect("JOURNAL_EVENT"))["event"]
        assert event["mapName"] == "shown"
        assert event["value"] == {"a": 1}
        await reader.send({"type": "JOURNAL_SUBSCRIBE", "requestId": "t", "mapName": "secret"})
        assert (await reader.expect("ERROR"))["payload"]["code"] == 403


async def test_a_persisted_journal_survives_a_restart_within_its_retention() -> None:
    storage = MemoryStorage()
    settings = {"journal_persist": True, "journal_capacity": 5}
    async with running_server(adapter=storage, **settings) as server:
        writer = await server.client()
        for i in range(8):
            await writer.send(
                {
                    "type": "CLIENT_OP",
                    "payload": {**put(i + 1, "m", f"k{i}", i), "writeConcern": "PERSISTED"},
                }
            )
        for _ in range(8):
            await writer.expect("OP_ACK")
        await writer.close()
    await storage.open()
    assert len(await storage.kv_scan("topgun.journal")) == 5  # retention bounds storage too
    await storage.close()
    async with running_server(adapter=storage, **settings) as server:
        reader = await server.client()
        await reader.send(
            {"type": "JOURNAL_READ", "requestId": "r", "fromSequence": 0, "limit": 10}
        )
        page = await reader.expect("JOURNAL_READ_RESPONSE")
        assert [e["sequence"] for e in page["events"]] == [3, 4, 5, 6, 7]
        await _write(reader, 50, put(50, "m", "new", 1))
        await reader.send(
            {"type": "JOURNAL_READ", "requestId": "r", "fromSequence": 8, "limit": 10}
        )
        assert [
            e["sequence"] for e in (await reader.expect("JOURNAL_READ_RESPONSE"))["events"]
        ] == [8]


async def test_entry_processor_results_are_journaled(server: RunningServer) -> None:
    client = await server.client()
    for rid in ("a", "b"):
        await client.send(
            {
                "type": "ENTRY_PROCESS",
                "requestId": rid,
                "mapName": "counters",
                "key": "k",
                "processor": {"name": "builtin:increment", "args": {"delta": 5}},
            }
        )
        await client.expect("ENTRY_PROCESS_RESPONSE")
    await client.send({"type": "JOURNAL_READ", "requestId": "j", "fromSequence": 0})
    events = (await client.expect("JOURNAL_READ_RESPONSE"))["events"]
    assert [(e["type"], e.get("previousValue"), e["value"]) for e in events] == [
        ("PUT", None, 5),
        ("UPDATE", 5, 10),
    ]
