"""Live queries over the wire: snapshots, deltas, windows, pages, permissions, limits."""

from __future__ import annotations

import json
from pathlib import Path

from topgun_server.testing import ProtocolClient, put, remove, running_server


async def _sub(client: ProtocolClient, query_id: str, map_name: str, query: dict) -> dict:
    await client.send(
        {"type": "QUERY_SUB", "payload": {"queryId": query_id, "mapName": map_name, "query": query}}
    )
    resp = await client.expect("QUERY_RESP", "ERROR")
    return resp["payload"]


async def _updates(client: ProtocolClient, count: int) -> list[tuple[str, str, object]]:
    out = []
    for _ in range(count):
        msg = await client.expect("QUERY_UPDATE")
        out.append((msg["payload"]["changeType"], msg["payload"]["key"], msg["payload"]["value"]))
    return out


async def _quiet(client: ProtocolClient) -> None:
    """Nothing else is queued: a PING's PONG is the next message."""
    await client.send({"type": "PING", "timestamp": 1})
    assert (await client.recv())["type"] == "PONG"


async def test_snapshot_then_deltas_from_another_client(server) -> None:
    writer, watcher = await server.client("w"), await server.client("h")
    await writer.write(
        put(1, "users", "u1", {"age": 25, "name": "Ann"}),
        put(2, "users", "u2", {"age": 35, "name": "Bob"}),
    )
    resp = await _sub(
        watcher, "q1", "users", {"predicate": {"op": "gt", "attribute": "age", "value": 30}}
    )
    assert resp["results"] == [{"key": "u2", "value": {"age": 35, "name": "Bob"}}]
    assert resp["hasMore"] is False
    await writer.write(put(3, "users", "u1", {"age": 31, "name": "Ann"}))
    assert await _updates(watcher, 1) == [("ENTER", "u1", {"age": 31, "name": "Ann"})]
    await writer.write(put(4, "users", "u2", {"age": 36, "name": "Bob"}))
    assert await _updates(watcher, 1) == [("UPDATE", "u2", {"age": 36, "name": "Bob"})]
    await writer.write(remove(5, "users", "u2"))
    assert await _updates(watcher, 1) == [("LEAVE", "u2", None)]
    await writer.write(put(6, "users", "u3", {"age": 5}))  # does not match: nothing
    await _quiet(watcher)
    await watcher.send({"type": "QUERY_UNSUB", "payload": {"queryId": "q1"}})
    await writer.write(put(7, "users", "u4", {"age": 50}))
    await _quiet(watcher)


async def test_the_writer_sees_its_own_deltas(server) -> None:
    client = await server.client()
    await _sub(client, "q", "m", {"where": {"n": {"$gte": 1}}})
    await client.write(put(1, "m", "a", {"n": 1}))
    assert await _updates(client, 1) == [("ENTER", "a", {"n": 1})]


async def test_sort_limit_window_refills(server) -> None:
    writer, watcher = await server.client("w"), await server.client("h")
    await writer.write(*[put(i, "s", f"k{i}", {"score": i}) for i in range(1, 6)])
    resp = await _sub(watcher, "top", "s", {"sort": {"score": "desc"}, "limit": 2})
    assert [r["key"] for r in resp["results"]] == ["k5", "k4"]
    assert resp["hasMore"] is True
    assert resp["nextCursor"]
    await writer.write(remove(10, "s", "k5"))
    assert await _updates(watcher, 2) == [("LEAVE", "k5", None), ("ENTER", "k3", {"score": 3})]
    await writer.write(put(11, "s", "k9", {"score": 9}))
    assert await _updates(watcher, 2) == [
        ("LEAVE", "k3", {"score": 3}),
        ("ENTER", "k9", {"score": 9}),
    ]


async def test_cursor_pages_with_concurrent_inserts(server) -> None:
    client = await server.client()
    await client.write(*[put(i, "p", f"k{i:02}", {"n": i}) for i in range(1, 11)])
    query = {"sort": {"n": "asc"}, "limit": 4}
    first = await _sub(client, "page1", "p", query)
    await client.send({"type": "QUERY_UNSUB", "payload": {"queryId": "page1"}})
    assert [r["value"]["n"] for r in first["results"]] == [1, 2, 3, 4]
    # Inserted before the cursor's position (must not shift the next page) and after it.
    await client.write(put(20, "p", "early", {"n": 0}), put(21, "p", "late", {"n": 5.5}))
    second = await _sub(client, "page2", "p", {**query, "cursor": first["nextCursor"]})
    assert [r["value"]["n"] for r in second["results"]] == [5, 5.5, 6, 7]
    assert second["cursorStatus"] == "valid"
    assert second["hasMore"] is True
    third = await _sub(client, "page3", "p", {**query, "cursor": second["nextCursor"]})
    assert [r["value"]["n"] for r in third["results"]] == [8, 9, 10]
    assert third["hasMore"] is False
    assert "nextCursor" not in third
    bad = await _sub(client, "bad", "p", {**query, "cursor": "not-a-cursor"})
    assert bad["cursorStatus"] == "invalid"
    assert bad["results"] == []


async def test_field_level_filtering_of_results_and_deltas(tmp_path: Path) -> None:
    policies = tmp_path / "policies.json"
    policies.write_text(
        json.dumps(
            [
                {"role": "USER", "pattern": "*", "actions": ["ALL"]},
                {
                    "role": "VIEWER",
                    "pattern": "staff",
                    "actions": ["READ"],
                    "allowedFields": ["name", "dept"],
                },
            ]
        )
    )
    async with running_server(policies_file=policies) as server:
        writer = await server.client("w")
        viewer = await server.client("v", roles=("VIEWER",))
        await writer.write(put(1, "staff", "e1", {"name": "Ann", "dept": "ops", "salary": 10}))
        resp = await _sub(viewer, "q", "staff", {"where": {"dept": "ops"}})
        assert resp["results"] == [{"key": "e1", "value": {"name": "Ann", "dept": "ops"}}]
        await writer.write(put(2, "staff", "e2", {"name": "Bob", "dept": "ops", "salary": 20}))
        assert await _updates(viewer, 1) == [("ENTER", "e2", {"name": "Bob", "dept": "ops"})]
        # A predicate or a sort on a field it may not read would reveal it: refused.
        denied = await _sub(viewer, "q2", "staff", {"where": {"salary": {"$gt": 15}}})
        assert denied["code"] == 403
        denied = await _sub(viewer, "q3", "staff", {"sort": {"salary": "asc"}})
        assert denied["code"] == 403
        nope = await _sub(viewer, "q4", "secret", {})
        assert nope["code"] == 403


async def test_subscription_limits_are_429() -> None:
    async with running_server(
        query_subscriptions_per_client_max=2, query_subscriptions_per_map_max=3
    ) as server:
        a, b = await server.client("a"), await server.client("b")
        for name in ("q1", "q2"):
            assert "results" in await _sub(a, name, "m", {})
        refused = await _sub(a, "q3", "m", {})
        assert refused["code"] == 429
        assert "query_subscriptions_per_client_max" in refused["message"]
        assert "results" in await _sub(a, "q1", "m", {"limit": 1})  # same id: replaced
        assert "results" in await _sub(b, "q1", "m", {})
        refused = await _sub(b, "q2", "m", {})
        assert refused["code"] == 429
        assert "query_subscriptions_per_map_max" in refused["message"]
        await a.send({"type": "QUERY_UNSUB", "payload": {"queryId": "q1"}})
        assert "results" in await _sub(b, "q2", "m", {})
        _c = await server.client("c")
        assert (await _sub(_c, "q", "m", {}))["code"] == 429
        await a.close()  # its subscription on "m" ends with the connection
        for attempt in range(100):
            answer = await _sub(_c, f"q{attempt}", "m", {})
            if "results" in answer:
                break
            await _c.send({"type": "QUERY_UNSUB", "payload": {"queryId": f"q{attempt}"}})
        assert "results" in answer


async def test_queries_need_an_lww_map_and_a_valid_query(server) -> None:
    client = await server.client()
    bad = await _sub(client, "q", "m", {"predicate": {"op": "nope", "attribute": "a", "value": 1}})
    assert bad["code"] == 400
    too_big = await _sub(client, "q", "m", {"limit": 10**6})
    assert too_big["code"] == 413


async def test_ttl_expiry_leaves_like_a_delete(server) -> None:
    client = await server.client()
    await _sub(client, "q", "t", {})
    await client.write(put(1, "t", "short", {"n": 1}, ttl_ms=300), put(2, "t", "long", {"n": 2}))
    assert sorted(await _updates(client, 2)) == [
        ("ENTER", "long", {"n": 2}),
        ("ENTER", "short", {"n": 1}),
    ]
    assert await _updates(client, 1) == [("LEAVE", "short", None)]  # the server saw it expire


async def _map_state(server, name: str) -> str:
    _, raw = await server.get("/api/admin/maps", server.token("ops", ("ADMIN",)))
    return next(m["state"] for m in json.loads(raw)["maps"] if m["name"] == name)


async def test_subscriptions_resume_after_the_map_is_evicted_and_reloaded() -> None:
    async with running_server(maps_memory_bytes_max=4_000) as server:
        writer, watcher = await server.client("w"), await server.client("h")
        durable = {"writeConcern": "PERSISTED"}
        ops = [put(i, "watched", f"k{i}", {"n": i}) for i in range(1, 4)]
        await writer.send({"type": "OP_BATCH", "payload": {"ops": ops, **durable}})
        await writer.expect("OP_ACK")
        resp = await _sub(watcher, "q", "watched", {"sort": {"n": "asc"}})
        assert [r["key"] for r in resp["results"]] == ["k1", "k2", "k3"]
        for batch in range(20):
            fill = [
                put(100 + batch * 5 + i, f"filler{batch}", f"f{i}", {"x": "y" * 50})
                for i in range(5)
            ]
            await writer.send({"type": "OP_BATCH", "payload": {"ops": fill, **durable}})
            await writer.expect("OP_ACK")
            if await _map_state(server, "watched") == "UNLOADED":
                break
        assert await _map_state(server, "watched") == "UNLOADED"
        # A write brings the map back: the subscriber is answered with a fresh snapshot
        # (everything it may have missed), then the write's delta.
        await writer.write(put(500, "watched", "k0", {"n": 0}))
        again = (await watcher.expect("QUERY_RESP"))["payload"]
        assert again["queryId"] == "q"
        assert [r["key"] for r in again["results"]] == [
            "k1",
            "k2",
            "k3",
        ]
        assert await _updates(watcher, 1) == [("ENTER", "k0", {"n": 0})]
