"""Entry processors end to end: built-ins and sandboxed code, atomic per key, the result
persisted and broadcast to every holder, each request answered once (journaling: see
test_journal.py)."""

from __future__ import annotations

import asyncio

from topgun_adapters import MemoryStorage
from topgun_server.testing import ProtocolClient, RunningServer, put, running_server


def _process(rid: str, key: str, processor: dict, map_name: str = "counters") -> dict:
    return {
        "type": "ENTRY_PROCESS",
        "requestId": rid,
        "mapName": map_name,
        "key": key,
        "processor": processor,
    }


async def test_a_builtin_is_applied_persisted_and_broadcast() -> None:
    storage = MemoryStorage()
    async with running_server(adapter=storage) as server:
        caller, holder = await server.client("c"), await server.client("h")
        await caller.sync_lww("counters")
        await holder.sync_lww("counters")
        await caller.send(_process("p1", "k", {"name": "builtin:increment", "args": {"delta": 5}}))
        for client in (caller, holder):  # the caller too: it does not write the value itself
            event = await client.expect("SERVER_EVENT")
            assert event["payload"]["record"]["value"] == 5
        response = await caller.expect("ENTRY_PROCESS_RESPONSE")
        assert response == {
            "type": "ENTRY_PROCESS_RESPONSE",
            "requestId": "p1",
            "success": True,
            "result": 5,
            "newValue": 5,
        }
        await caller.send(_process("p2", "k", {"name": "builtin:increment"}))
        assert (await caller.expect("ENTRY_PROCESS_RESPONSE"))["newValue"] == 6
        await caller.close()
        await holder.close()
    async with running_server(adapter=storage) as server:
        reader = await server.client()
        records = await reader.sync_lww("counters")
        assert records["k"]["record"]["value"] == 6


async def test_user_code_runs_in_the_sandbox(server: RunningServer) -> None:
    client = await server.client()
    code = (
        "items = list(value or [])\nitems.append(args['item'])\n"
        "return {'value': items, 'result': len(items)}"
    )
    for i in range(3):
        await client.send(
            _process(f"p{i}", "list", {"name": "append", "code": code, "args": {"item": i}})
        )
        response = await client.expect("ENTRY_PROCESS_RESPONSE")
        assert response["success"]
        assert response["result"] == i + 1
    assert response["newValue"] == [0, 1, 2]
    await client.send(
        _process("del", "list", {"name": "d", "code": "return {'value': None, 'result': value}"})
    )
    response = await client.expect("ENTRY_PROCESS_RESPONSE")
    assert response["result"] == [0, 1, 2]
    assert response["newValue"] is None


async def test_concurrent_processors_on_one_key_do_not_lose_updates(server: RunningServer) -> None:
    clients = [await server.client(f"c{i}") for i in range(4)]
    code = "return {'value': (value or 0) + 1, 'result': None}"

    async def bump(client: ProtocolClient, n: int) -> None:
        for i in range(n):
            await client.send(_process(f"{i}", "n", {"name": "inc", "code": code}))
        for _ in range(n):
            assert (await client.expect("ENTRY_PROCESS_RESPONSE"))["success"]

    await asyncio.gather(*(bump(client, 5) for client in clients))
    await clients[0].send(_process("get", "n", {"name": "builtin:get"}))
    assert (await clients[0].expect("ENTRY_PROCESS_RESPONSE"))["result"] == 20


async def test_failures_are_answered_once_with_the_reason(server: RunningServer) -> None:
    client = await server.client()
    cases = [
        ({"name": "builtin:nope"}, "unknown built-in"),
        ({"name": "builtin:increment", "args": {"delta": "x"}}, "delta"),
        ({"name": "x", "code": "import os"}, "imports are not allowed"),
        ({"name": "x", "code": "while True:\n    pass"}, "longer than 100 ms"),
        ({"name": "x", "code": "return 5"}, "must return a dict"),
        ({"name": "x", "code": "return {'value': 'x' * 2000000}"}, "result_bytes_max"),
    ]
    for i, (processor, problem) in enumerate(cases):
        await client.send(_process(f"f{i}", "k", processor))
        response = await client.expect("ENTRY_PROCESS_RESPONSE")
        assert response["requestId"] == f"f{i}"
        assert not response["success"]
        assert problem in response["error"]
    await client.send({"type": "CLIENT_OP", "payload": put(1, "counters", "ok", 1)})
    assert (await client.expect("OP_ACK"))["payload"]["results"][0]["success"]


async def test_a_batch_answers_every_key_once(server: RunningServer) -> None:
    client = await server.client()
    await client.send(
        {
            "type": "ENTRY_PROCESS_BATCH",
            "requestId": "b",
            "mapName": "stock",
            "keys": ["a", "b", "a"],
            "processor": {"name": "builtin:put_if_absent", "args": {"value": 10}},
        }
    )
    response = await client.expect("ENTRY_PROCESS_BATCH_RESPONSE")
    assert set(response["results"]) == {"a", "b"}
    assert all(r["success"] and r["newValue"] == 10 for r in response["results"].values())


async def test_sandboxed_runs_are_rate_limited_per_client() -> None:
    async with running_server(sandbox_runs_per_s=0.001, sandbox_runs_burst=2) as server:
        client = await server.client()
        code = "return {'value': 1}"
        outcomes = []
        for i in range(3):
            await client.send(_process(f"r{i}", "k", {"name": "x", "code": code}))
            outcomes.append(await client.expect("ENTRY_PROCESS_RESPONSE"))
        assert [o["success"] for o in outcomes] == [True, True, False]
        assert "slow down" in outcomes[2]["error"]
        await client.send(_process("b", "k", {"name": "builtin:get"}))  # built-ins are not charged
        assert (await client.expect("ENTRY_PROCESS_RESPONSE"))["success"]


async def test_processors_need_write_permission(tmp_path) -> None:
    policies = tmp_path / "p.json"
    policies.write_text('[{"role": "USER", "pattern": "ro", "actions": ["READ"]}]')
    async with running_server(policies_file=policies) as server:
        client = await server.client()
        await client.send(_process("p", "k", {"name": "builtin:increment"}, map_name="ro"))
        response = await client.expect("ENTRY_PROCESS_RESPONSE")
        assert not response["success"]
        assert "not allowed" in response["error"]


async def test_code_and_argument_sizes_are_bounded(server: RunningServer) -> None:
    client = await server.client()
    too_long = "x = 1\n" * 6000  # over 32 768 characters
    await client.send(_process("c", "k", {"name": "big", "code": too_long}))
    response = await client.expect("ENTRY_PROCESS_RESPONSE")
    assert not response["success"]
    assert "processor_code_chars_max" in response["error"]
    args = {"blob": "y" * 70_000}  # over 64 KiB of msgpack
    await client.send(_process("a", "k", {"name": "builtin:put_if_absent", "args": args}))
    response = await client.expect("ENTRY_PROCESS_RESPONSE")
    assert not response["success"]
    assert "processor_args_bytes_max" in response["error"]
