"""PN counters end to end: merge, subscribers, persistence across a restart, permissions."""

from __future__ import annotations

from topgun_adapters import MemoryStorage
from topgun_server.testing import RunningServer, running_server


def _value(state) -> int:
    return sum(state["p"].values()) - sum(state["n"].values())


async def test_states_merge_by_node_maxima_and_reach_subscribers(server: RunningServer) -> None:
    a, b = await server.client("a"), await server.client("b")
    for client in (a, b):
        await client.send({"type": "COUNTER_REQUEST", "payload": {"name": "likes"}})
        assert (await client.expect("COUNTER_RESPONSE"))["payload"]["state"] == {"p": {}, "n": {}}
    # SEMANTICS.md §5 vector: +10, +20, +30 and -5 from three nodes → 55, in any order.
    await a.send(
        {"type": "COUNTER_SYNC", "payload": {"name": "likes", "state": {"p": {"n1": 10}, "n": {}}}}
    )
    await b.send(
        {
            "type": "COUNTER_SYNC",
            "payload": {"name": "likes", "state": {"p": {"n2": 20, "n3": 30}, "n": {"n3": 5}}},
        }
    )
    await a.send(
        {"type": "COUNTER_SYNC", "payload": {"name": "likes", "state": {"p": {"n1": 3}, "n": {}}}}
    )
    seen = []
    while not seen or _value(seen[-1]) != 55:
        seen.append((await b.expect("COUNTER_UPDATE"))["payload"]["state"])
    assert seen[-1] == {"p": {"n1": 10, "n2": 20, "n3": 30}, "n": {"n3": 5}}


async def test_counters_survive_a_restart() -> None:
    storage = MemoryStorage()
    async with running_server(adapter=storage) as server:
        client = await server.client()
        await client.send(
            {
                "type": "COUNTER_SYNC",
                "payload": {"name": "c", "state": {"p": {"x": 7}, "n": {"y": 2}}},
            }
        )
        await client.send({"type": "COUNTER_REQUEST", "payload": {"name": "c"}})
        assert _value((await client.expect("COUNTER_RESPONSE"))["payload"]["state"]) == 5
        await client.close()
    async with running_server(adapter=storage) as server:
        client = await server.client()
        await client.send({"type": "COUNTER_REQUEST", "payload": {"name": "c"}})
        state = (await client.expect("COUNTER_RESPONSE"))["payload"]["state"]
        assert state == {"p": {"x": 7}, "n": {"y": 2}}


async def test_a_bad_state_is_refused_and_changes_nothing(server: RunningServer) -> None:
    client = await server.client()
    await client.send(
        {"type": "COUNTER_SYNC", "payload": {"name": "c", "state": {"p": {"x": -1}, "n": {}}}}
    )
    assert (await client.expect("ERROR"))["payload"]["code"] == 400
    await client.send({"type": "COUNTER_REQUEST", "payload": {"name": "c"}})
    assert (await client.expect("COUNTER_RESPONSE"))["payload"]["state"] == {"p": {}, "n": {}}
