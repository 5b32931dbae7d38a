"""Conflict resolvers end to end: built-in and sandboxed, applied to every incoming write;
a rejection reaches the writer only; a client's resolvers go with its connection unless
an admin registered them (persistent, across restarts)."""

from __future__ import annotations

from topgun_adapters import MemoryStorage
from topgun_server.testing import ProtocolClient, RunningServer, put, running_server


async def _quiet(client: ProtocolClient, *forbidden: str) -> None:
    """Round-trip a PING; fail if a ``forbidden`` message arrives before its PONG."""
    await client.send({"type": "PING", "timestamp": 1})
    while (message := await client.recv())["type"] != "PONG":
        assert message["type"] not in forbidden, message


async def _register(client: ProtocolClient, map_name: str, resolver: dict, rid: str = "r") -> dict:
    await client.send(
        {"type": "REGISTER_RESOLVER", "requestId": rid, "mapName": map_name, "resolver": resolver}
    )
    return await client.expect("REGISTER_RESOLVER_RESPONSE")


async def test_a_rejection_reaches_the_writer_only_and_the_writer_converges(
    server: RunningServer,
) -> None:
    writer, other = await server.client("w"), await server.client("o")
    assert (await _register(writer, "scores", {"name": "non_negative"}))["success"]
    await other.sync_lww("scores")
    await writer.send({"type": "CLIENT_OP", "payload": put(1, "scores", "s", 10)})
    await writer.expect("OP_ACK")
    assert (await other.expect("SERVER_EVENT"))["payload"]["record"]["value"] == 10
    await writer.send({"type": "CLIENT_OP", "payload": put(2, "scores", "s", -3)})
    rejected = await writer.expect("MERGE_REJECTED")
    assert rejected["mapName"] == "scores"
    assert rejected["key"] == "s"
    assert rejected["attemptedValue"] == -3
    answer = await writer.expect("OP_REJECTED")
    assert answer["payload"]["opId"] == 2
    assert answer["payload"]["code"] == 409
    await _quiet(other, "MERGE_REJECTED")
    records = await writer.sync_lww("scores")
    assert records["s"]["record"]["value"] == 10  # re-asserted with a newer stamp than -3's


async def test_custom_code_merges_and_the_merged_value_goes_back_to_the_writer(
    server: RunningServer,
) -> None:
    writer = await server.client()
    code = (
        "if ctx.local_value is None:\n    return {'action': 'accept'}\n"
        "return {'action': 'merge', 'value': sorted(set(ctx.local_value) | set(ctx.remote_value))}"
    )
    reply = await _register(writer, "sets", {"name": "union", "code": code, "keyPattern": "tags:*"})
    assert reply["success"], reply
    await writer.sync_lww("sets")
    await writer.send({"type": "CLIENT_OP", "payload": put(1, "sets", "tags:1", ["a"])})
    await writer.expect("OP_ACK")
    await writer.send({"type": "CLIENT_OP", "payload": put(2, "sets", "tags:1", ["b"])})
    echoed = await writer.expect("SERVER_EVENT")
    assert echoed["payload"]["record"]["value"] == ["a", "b"]
    await writer.send({"type": "CLIENT_OP", "payload": put(3, "sets", "other", ["b"])})
    await writer.send({"type": "CLIENT_OP", "payload": put(4, "sets", "other", ["c"])})
    records = await writer.sync_lww("sets")
    assert records["other"]["record"]["value"] == ["c"]  # the glob did not match: plain LWW


async def test_priority_order_and_a_failing_resolver_rejects(server: RunningServer) -> None:
    client = await server.client()
    await _register(client, "m", {"name": "boom", "code": "return {'action': 1/0}", "priority": 90})
    await _register(client, "m", {"name": "immutable", "priority": 10})
    await client.send({"type": "CLIENT_OP", "payload": put(1, "m", "k", 1)})
    rejected = await client.expect("MERGE_REJECTED")
    assert "ZeroDivisionError" in rejected["reason"]
    await client.send({"type": "LIST_RESOLVERS", "requestId": "l", "mapName": "m"})
    listed = (await client.expect("LIST_RESOLVERS_RESPONSE"))["resolvers"]
    assert [(r["name"], r["priority"]) for r in listed] == [("boom", 90), ("immutable", 10)]


async def test_bad_registrations_are_refused(server: RunningServer) -> None:
    client = await server.client()
    bad = [
        {"name": "nope"},
        {"name": "x", "code": "import os"},
        {"name": "x", "code": "return ctx.__class__"},
    ]
    for resolver in bad:
        reply = await _register(client, "m", resolver)
        assert not reply["success"]
        assert reply["error"]
    await client.send(
        {"type": "UNREGISTER_RESOLVER", "requestId": "u", "mapName": "m", "resolverName": "x"}
    )
    assert not (await client.expect("UNREGISTER_RESOLVER_RESPONSE"))["success"]


async def test_client_resolvers_go_with_the_client_admin_ones_persist() -> None:
    storage = MemoryStorage()
    async with running_server(adapter=storage) as server:
        admin = await server.client("root", ("ADMIN",))
        user = await server.client("u")
        assert (await _register(admin, "m", {"name": "immutable", "keyPattern": "fixed:*"}))[
            "success"
        ]
        assert (await _register(user, "m", {"name": "non_negative"}))["success"]
        await user.close()
        await admin.send({"type": "CLIENT_OP", "payload": put(1, "m", "n", -1)})
        assert (await admin.expect("OP_ACK"))["payload"]["results"][0]["success"]
        await admin.send({"type": "LIST_RESOLVERS", "requestId": "l"})
        listed = (await admin.expect("LIST_RESOLVERS_RESPONSE"))["resolvers"]
        assert [r["name"] for r in listed] == ["immutable"]
        await admin.close()
    async with running_server(adapter=storage) as server:
        client = await server.client()
        await client.send({"type": "CLIENT_OP", "payload": put(1, "m", "fixed:1", 1)})
        await client.expect("OP_ACK")
        await client.send({"type": "CLIENT_OP", "payload": put(2, "m", "fixed:1", 2)})
        assert (await client.expect("MERGE_REJECTED"))["key"] == "fixed:1"
