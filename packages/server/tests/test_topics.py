"""Topics end to end: subscribe, publish, fan-out to others only, limits, permissions."""

from __future__ import annotations

import pytest

from topgun_core.topics import TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX
from topgun_server.testing import ProtocolClient, RunningServer, running_server


async def _barrier(client: ProtocolClient) -> None:
    """Requests are handled in order: a PONG means everything sent before was handled."""
    await client.send({"type": "PING", "timestamp": 1})
    await client.expect("PONG")


async def _quiet(client: ProtocolClient, *forbidden: str) -> None:
    """Round-trip a PING; fail if a ``forbidden`` message arrives before its PONG."""
    await client.send({"type": "PING", "timestamp": 1})
    while (message := await client.recv())["type"] != "PONG":
        assert message["type"] not in forbidden, message


async def test_a_message_reaches_every_other_subscriber_once(server: RunningServer) -> None:
    a, b, c = [await server.client(name) for name in ("a", "b", "c")]
    for client in (a, b, c):
        await client.send({"type": "TOPIC_SUB", "payload": {"topic": "chat/room-1"}})
        await _barrier(client)
    await a.send({"type": "TOPIC_PUB", "payload": {"topic": "chat/room-1", "data": {"t": "hi"}}})
    for client in (b, c):
        message = await client.expect("TOPIC_MESSAGE")
        assert message["payload"]["data"] == {"t": "hi"}
        assert message["payload"]["topic"] == "chat/room-1"
        assert message["payload"]["timestamp"] > 0
    await _quiet(a, "TOPIC_MESSAGE")  # the publisher does not get its own message
    await b.send({"type": "TOPIC_UNSUB", "payload": {"topic": "chat/room-1"}})
    await _barrier(b)
    await a.send({"type": "TOPIC_PUB", "payload": {"topic": "chat/room-1", "data": 2}})
    assert (await c.expect("TOPIC_MESSAGE"))["payload"]["data"] == 2
    await _quiet(b, "TOPIC_MESSAGE")


async def test_invalid_names_and_the_subscription_limit(server: RunningServer) -> None:
    client = await server.client()
    await client.send({"type": "TOPIC_SUB", "payload": {"topic": "no spaces"}})
    error = await client.expect("ERROR")
    assert error["payload"]["code"] == 400
    for i in range(TOPIC_SUBSCRIPTIONS_PER_CLIENT_MAX):
        await client.send({"type": "TOPIC_SUB", "payload": {"topic": f"t{i}"}})
    await _barrier(client)
    await client.send({"type": "TOPIC_SUB", "payload": {"topic": "one-too-many"}})
    error = await client.expect("ERROR")
    assert error["payload"]["code"] == 413
    assert "topic_subscriptions_max" in error["payload"]["message"]


async def test_topic_permissions(tmp_path) -> None:
    policies = tmp_path / "policies.json"
    policies.write_text(
        '[{"role": "USER", "pattern": "topic:news", "actions": ["READ"]},'
        ' {"role": "WRITER", "pattern": "topic:*", "actions": ["ALL"]}]'
    )
    async with running_server(policies_file=policies) as server:
        reader = await server.client("r")
        await reader.send({"type": "TOPIC_SUB", "payload": {"topic": "news"}})
        await reader.send({"type": "TOPIC_PUB", "payload": {"topic": "news", "data": 1}})
        assert (await reader.expect("ERROR"))["payload"]["code"] == 403
        await reader.send({"type": "TOPIC_SUB", "payload": {"topic": "secret"}})
        assert (await reader.expect("ERROR"))["payload"]["code"] == 403
        writer = await server.client("w", ("WRITER",))
        await writer.send({"type": "TOPIC_PUB", "payload": {"topic": "news", "data": 2}})
        assert (await reader.expect("TOPIC_MESSAGE"))["payload"]["data"] == 2


@pytest.mark.parametrize("subscribers", [3])
async def test_a_disconnect_drops_subscriptions(server: RunningServer, subscribers: int) -> None:
    publisher = await server.client("p")
    clients = [await server.client(f"s{i}") for i in range(subscribers)]
    for client in clients:
        await client.send({"type": "TOPIC_SUB", "payload": {"topic": "x"}})
        await _barrier(client)
    await clients[0].close()
    await publisher.send({"type": "TOPIC_PUB", "payload": {"topic": "x", "data": "after"}})
    for client in clients[1:]:
        assert (await client.expect("TOPIC_MESSAGE"))["payload"]["data"] == "after"
