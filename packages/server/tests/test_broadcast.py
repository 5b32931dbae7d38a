"""Real-time fan-out: holders only, never the origin, field filtering, coalescing, slow readers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from topgun_server.testing import ProtocolClient, or_add, put, remove, running_server


async def _hold(client: ProtocolClient, map_name: str) -> None:
    await client.send({"type": "SYNC_INIT", "mapName": map_name})
    await client.expect("SYNC_RESP_ROOT")


async def test_writes_reach_holders_but_not_the_origin_or_others(server) -> None:
    writer, holder, bystander = [await server.client(s) for s in ("w", "h", "b")]
    await _hold(writer, "users")
    await _hold(holder, "users")
    await _hold(bystander, "other")
    await writer.send({"type": "CLIENT_OP", "payload": put(1, "users", "u1", {"name": "Ada"})})
    await writer.expect("OP_ACK")
    event = await holder.expect("SERVER_EVENT")
    assert event["payload"]["key"] == "u1"
    assert event["payload"]["eventType"] == "UPDATED"
    assert event["payload"]["record"]["value"] == {"name": "Ada"}
    await writer.send(
        {
            "type": "OP_BATCH",
            "payload": {"ops": [remove(2, "users", "u1"), put(3, "users", "u2", 2)]},
        }
    )
    await writer.expect("OP_ACK")
    batch = await holder.expect("SERVER_BATCH_EVENT")
    assert [e["key"] for e in batch["payload"]["events"]] == ["u1", "u2"]
    assert batch["payload"]["events"][0]["record"]["value"] is None
    for client in (writer, bystander):
        await client.send({"type": "PING", "timestamp": 1})
        assert (await client.recv())["type"] == "PONG"  # no event arrived before the PONG
    for client in (writer, holder, bystander):
        await client.close()


async def test_or_events_are_broadcast(server) -> None:
    writer, holder = await server.client("w"), await server.client("h")
    await holder.send(
        {"type": "ORMAP_SYNC_INIT", "mapName": "tags", "rootHash": 0, "bucketHashes": {}}
    )
    await holder.expect("ORMAP_SYNC_RESP_ROOT")
    add = or_add(1, "tags", "t", "x")
    await writer.send({"type": "CLIENT_OP", "payload": add})
    event = await holder.expect("SERVER_EVENT")
    assert event["payload"]["eventType"] == "OR_ADD"
    assert event["payload"]["orRecord"]["tag"] == add["orRecord"]["tag"]
    await writer.close()
    await holder.close()


async def test_events_are_filtered_per_recipient(tmp_path: Path) -> None:
    policies = tmp_path / "policies.json"
    policies.write_text(
        json.dumps(
            [
                {"role": "USER", "pattern": "people", "actions": ["ALL"]},
                {
                    "role": "GUEST",
                    "pattern": "people",
                    "actions": ["READ"],
                    "allowedFields": ["name"],
                },
            ]
        )
    )
    async with running_server(policies_file=policies) as server:
        writer = await server.client("w")
        guest = await server.client("g", roles=("GUEST",))
        user = await server.client("u")
        await _hold(guest, "people")
        await _hold(user, "people")
        value = {"name": "Ada", "salary": 100}
        await writer.send({"type": "CLIENT_OP", "payload": put(1, "people", "p1", value)})
        assert (await guest.expect("SERVER_EVENT"))["payload"]["record"]["value"] == {"name": "Ada"}
        assert (await user.expect("SERVER_EVENT"))["payload"]["record"]["value"] == value
        # The same filter applies to what sync serves.
        assert (await guest.sync_lww("people"))["p1"]["record"]["value"] == {"name": "Ada"}
        # And a read-only role cannot write.
        await guest.send({"type": "CLIENT_OP", "payload": put(1, "people", "p2", {})})
        assert (await guest.expect("OP_REJECTED"))["payload"]["code"] == 403
        for client in (writer, guest, user):
            await client.close()


async def test_a_busy_reader_gets_coalesced_batch_envelopes(server) -> None:
    writer, holder = await server.client("w"), await server.client("h")
    await _hold(holder, "feed")
    # 200 events of 64 KB overflow the loopback socket buffers while the holder does
    # not read, so its outbox fills up and goes out in BATCH envelopes afterwards.
    big = "x" * 64 * 1024
    for i in range(1, 201):
        await writer.send({"type": "CLIENT_OP", "payload": put(i, "feed", f"k{i}", big)})
    for _ in range(200):
        await writer.expect("OP_ACK")
    keys = [(await holder.expect("SERVER_EVENT"))["payload"]["key"] for _ in range(200)]
    assert keys == [f"k{i}" for i in range(1, 201)]  # in order, none lost
    assert holder.batches >= 1
    await writer.close()
    await holder.close()


async def test_a_reader_that_cannot_keep_up_is_disconnected() -> None:
    async with running_server(outbound_bytes_max=64 * 1024) as server:
        writer = await server.client("w")
        slow = await ProtocolClient.connect(server.ws_url, max_size=256 * 1024 * 1024)
        await slow.auth(server.token(sub="slow"))
        await _hold(slow, "flood")
        # The slow client stops reading; its kernel buffers fill, then its outbox.
        big = "x" * 16_000
        batch_id = 0
        while True:
            batch_id += 1
            ops = [put(batch_id * 100 + i, "flood", f"k{i}", big) for i in range(50)]
            await writer.send({"type": "OP_BATCH", "payload": {"ops": ops}})
            await writer.expect("OP_ACK")
            cut_off = await _slow_consumer_cut_off(server)
            if cut_off or batch_id > 400:
                break
        assert cut_off, "the slow reader was never cut off"
        code, reason = await slow.closed(timeout=30)
        assert code in (4004, None)  # 4004 when the close frame got through, else a reset
        if code == 4004:
            assert reason.startswith("slow consumer")
        await writer.send({"type": "PING", "timestamp": 1})
        assert (await writer.expect("PONG"))["timestamp"] == 1  # the writer is unaffected
        await writer.close()


async def _slow_consumer_cut_off(server) -> bool:
    """Whether the server has cut off a slow consumer (read from /metrics)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    token = server.token(sub="ops")
    writer.write(
        f"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    body = (await reader.read()).decode()
    writer.close()
    await writer.wait_closed()
    return 'topgun_disconnects_total{code="4004"}' in body
