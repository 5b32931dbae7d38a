from __future__ import annotations

from topgun_client import ConnectionState, TopGunClient, WriteConcern


async def test_write_sync_roundtrip(fake_server):
    async with TopGunClient(fake_server.url, token="t") as client:
        users = client.get_map("users")
        users.set("u1", {"name": "Ada"})
        assert users.get("u1") == {"name": "Ada"}
        res = await users.write("u2", {"name": "Bob"}, write_concern=WriteConcern.PERSISTED)
        assert res.achieved_level == "PERSISTED"
        await client.flush(timeout=5)
        assert client.pending_ops == 0
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=5)
        assert fake_server.lww("users").get("u1") == {"name": "Ada"}


def test_sync_facade(threaded_fake_server):
    fake_server = threaded_fake_server
    import topgun_client.sync

    with topgun_client.sync.connect(fake_server.url, token="t") as client:
        users = client.get_map("users")
        users.set("u1", {"name": "Ada"})
        assert users.get("u1") == {"name": "Ada"}
        assert dict(users.items()) == {"u1": {"name": "Ada"}}
        client.flush(timeout=5)
        assert client.pending_ops == 0
