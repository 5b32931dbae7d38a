"""The event journal from the Python client, end to end against the real server."""

from __future__ import annotations

from topgun_client import ConnectionState, TopGunClient
from topgun_server.testing import running_server

TIMEOUT_S = 20.0


async def _connected(client: TopGunClient) -> None:
    await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)


async def test_journal_read_and_subscribe_replay_then_live() -> None:
    async with (
        running_server() as server,
        TopGunClient(server.ws_url, token=server.token()) as client,
    ):
        await _connected(client)
        users = client.get_map("users")
        for i in range(5):
            users.set(f"u{i}", {"i": i})
        await client.flush(timeout=TIMEOUT_S)
        page = await client.journal.read(0, 3)
        assert [e.sequence for e in page.events] == [0, 1, 2]
        assert page.has_more
        async with client.journal.subscribe(2, map_name="users") as stream:
            for i in range(5, 8):
                users.set(f"u{i}", {"i": i})
            events = [await stream.get(TIMEOUT_S) for _ in range(6)]
            assert [e.sequence for e in events] == list(range(2, 8))
            assert events[-1].type == "PUT"
            assert events[-1].value == {"i": 7}
