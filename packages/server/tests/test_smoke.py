from __future__ import annotations

from topgun_server.testing import ProtocolClient


async def test_auth_ping_write(server) -> None:
    client = await ProtocolClient.connect(server.ws_url)
    ack = await client.auth(server.token())
    assert ack["type"] == "AUTH_ACK"
    await client.send({"type": "PING", "timestamp": 5})
    pong = await client.expect("PONG")
    assert pong["timestamp"] == 5
    await client.close()
    c2 = await ProtocolClient.connect(server.ws_url)
    await c2.expect("AUTH_REQUIRED")
    await c2.send({"type": "CLIENT_OP", "payload": {}})
    print(await c2.closed())
