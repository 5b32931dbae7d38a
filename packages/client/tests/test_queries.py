"""Live queries, pages and local indexes of the client, against the real server."""

from __future__ import annotations

import asyncio
import json

import pytest

from topgun_client import (
    ClientSettings,
    ConnectionState,
    QueryChange,
    ServerError,
    TopGunClient,
    WriteConcern,
)
from topgun_core.query import P
from topgun_server.testing import running_server

TIMEOUT_S = 20.0


async def _next(changes, n: int = 1) -> list[tuple[str, str]]:
    out = []
    async with asyncio.timeout(TIMEOUT_S):
        for _ in range(n):
            change: QueryChange = await anext(changes)
            out.append((change.change, change.key))
    return out


async def _drain(query) -> None:
    async for _ in query.changes():
        pass


async def _connected(*clients: TopGunClient) -> None:
    for client in clients:
        await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
        await client.flush(timeout=TIMEOUT_S)


async def test_live_query_is_local_first_and_follows_other_clients() -> None:
    async with running_server() as server:
        token = server.token()
        async with (
            TopGunClient(server.ws_url, token=token) as a,
            TopGunClient(server.ws_url, token=token) as b,
        ):
            users = a.get_map("users")
            for i, age in enumerate([20, 35, 40, 50]):
                users.set(f"u{i}", {"age": age, "email": f"u{i}@example.com"})
            users.set("x", {"age": 99, "email": "x@elsewhere.org"})
            await _connected(a)
            q = b.query(
                "users",
                P.gt("age", 30) & P.like("email", "%@example.com"),
                sort=[("age", "desc")],
                limit=2,
            )
            async with q:
                changes = q.changes()
                await asyncio.wait_for(q.confirmed_event.wait(), TIMEOUT_S)
                await _connected(b)
                assert [k for k, _ in q.results] == ["u3", "u2"]
                seen = set(await _next(changes, 2))
                assert seen == {("ENTER", "u3"), ("ENTER", "u2")}
                # Another client writes: the window moves (leave, the next one enters).
                users.remove("u3")
                assert await _next(changes, 2) == [("LEAVE", "u3"), ("ENTER", "u1")]
                users.set("u9", {"age": 45, "email": "u9@example.com"})
                assert await _next(changes, 2) == [("LEAVE", "u1"), ("ENTER", "u9")]
                # A local write changes the results before anything leaves the client.
                b.get_map("users").set("u2", {"age": 41, "email": "u2@example.com"})
                assert await _next(changes) == [("UPDATE", "u2")]
                assert q.results[1] == ("u2", {"age": 41, "email": "u2@example.com"})
                # The server echoes that write as a QUERY_UPDATE: it is not reported twice.
                await b.flush(timeout=TIMEOUT_S)
                users.set("u8", {"age": 60, "email": "u8@example.com"})
                assert await _next(changes, 2) == [("LEAVE", "u2"), ("ENTER", "u8")]


async def test_reconnect_yields_exactly_the_missed_changes() -> None:
    async with running_server() as server:
        token = server.token()
        async with (
            TopGunClient(server.ws_url, token=token) as a,
            TopGunClient(server.ws_url, token=token) as b,
        ):
            m = a.get_map("items")
            for i in range(5):
                m.set(f"k{i}", {"n": i})
            await _connected(a)
            async with b.query("items", P.gte("n", 1), sort=[("n", "asc")]) as q:
                changes = q.changes()
                await _connected(b)
                await asyncio.wait_for(q.confirmed_event.wait(), TIMEOUT_S)
                assert sorted(await _next(changes, 4)) == [("ENTER", f"k{i}") for i in range(1, 5)]
                await b.go_offline()
                m.set("k1", {"n": 1, "v": "changed"})
                m.set("k1", {"n": 1, "v": "changed twice"})
                m.remove("k2")
                m.set("k7", {"n": 7})
                m.set("k8", {"n": 8})
                m.remove("k8")  # came and went while b was away: nothing to report
                await a.flush(timeout=TIMEOUT_S)
                b.go_online()
                missed = await _next(changes, 3)
                assert sorted(missed) == [("ENTER", "k7"), ("LEAVE", "k2"), ("UPDATE", "k1")]
                await _connected(b)
                await asyncio.wait_for(q.confirmed_event.wait(), TIMEOUT_S)
                m.set("sentinel", {"n": 100})  # the very next change: no duplicate before it
                assert await _next(changes) == [("ENTER", "sentinel")]
                assert [k for k, _ in q.results] == ["k1", "k3", "k4", "k7", "sentinel"]
                assert q.results[0][1] == {"n": 1, "v": "changed twice"}


async def test_query_pages_online_and_offline() -> None:
    async with (
        running_server() as server,
        TopGunClient(server.ws_url, token=server.token()) as client,
    ):
        m = client.get_map("p")
        for i in range(10):
            m.set(f"k{i}", {"n": i})
        await _connected(client)
        first = await client.query_page("p", sort=[("n", "asc")], limit=4)
        assert first.source == "server"
        assert [v["n"] for _, v in first.results] == [0, 1, 2, 3]
        m.set("early", {"n": -1})  # before the cursor: does not shift the next page
        second = await client.query_page(
            "p", sort=[("n", "asc")], limit=4, cursor=first.next_cursor
        )
        assert [v["n"] for _, v in second.results] == [4, 5, 6, 7]
        await client.go_offline()
        third = await client.query_page(
            "p", sort=[("n", "asc")], limit=4, cursor=second.next_cursor
        )
        assert third.source == "local"
        assert [v["n"] for _, v in third.results] == [8, 9]
        assert third.has_more is False
        bad = await client.query_page("p", sort=[("n", "asc")], cursor="garbage")
        assert bad.cursor_status == "invalid"


async def test_local_queries_use_indexes_offline() -> None:
    settings = ClientSettings(query_index_auto_threshold=2)
    async with TopGunClient(
        "ws://127.0.0.1:9/ws", token="unused", online=False, settings=settings
    ) as client:
        users = client.get_map("users")
        for i in range(2_000):
            users.set(f"u{i}", {"age": i % 90, "email": f"u{i}@example.com", "city": f"c{i % 10}"})
        assert users.explain(P.eq("email", "u7@example.com")).kind == "scan"
        assert users.create_index("hash", "email") == "hash(email)"
        plan = users.explain(P.eq("email", "u7@example.com"))
        assert plan.kind != "scan"
        assert "hash(email)" in str(plan)
        page = await client.query_page("users", P.eq("email", "u7@example.com"))
        assert page.results == [("u7", {"age": 7, "email": "u7@example.com", "city": "c7"})]
        # The advisor indexes a range attribute once it has been queried often enough.
        for _ in range(2):
            await client.query_page("users", P.gt("age", 88))
        assert "navigable(age)" in users.indexes
        assert users.explain(P.gt("age", 88)).kind != "scan"
        async with client.query("users", P.eq("city", "c3") & P.gt("age", 80)) as q:
            assert len(q.results) == len([i for i in range(2_000) if i % 10 == 3 and i % 90 > 80])
            changes = q.changes()
            users.set("new", {"age": 85, "email": "n@example.com", "city": "c3"})
            assert await _next(changes) == [("ENTER", "new")]


async def test_a_refused_subscription_raises_from_changes() -> None:
    async with (
        running_server(query_subscriptions_per_client_max=1) as server,
        TopGunClient(server.ws_url, token=server.token()) as client,
    ):
        await _connected(client)
        async with client.query("m") as first, client.query("m", P.eq("a", 1)) as second:
            await asyncio.wait_for(first.confirmed_event.wait(), TIMEOUT_S)
            with pytest.raises(ServerError) as caught:
                await asyncio.wait_for(_drain(second), TIMEOUT_S)
            assert caught.value.code == 429


async def _evicted(server, name: str) -> bool:
    _, raw = await server.get("/api/admin/maps", server.token("ops", ("ADMIN",)))
    return any(m["name"] == name and m["state"] == "UNLOADED" for m in json.loads(raw)["maps"])


async def test_a_query_resumes_when_the_server_reloads_its_map() -> None:
    async with running_server(maps_memory_bytes_max=4_000) as server:
        token = server.token()
        async with TopGunClient(server.ws_url, token=token) as client:
            watched = client.get_map("watched")
            for i in range(3):
                await watched.write(f"k{i}", {"n": i}, write_concern=WriteConcern.PERSISTED)
            async with client.query("watched", sort=[("n", "asc")]) as q:
                changes = q.changes()
                await _connected(client)
                await asyncio.wait_for(q.confirmed_event.wait(), TIMEOUT_S)
                assert [k for k, _ in q.results] == ["k0", "k1", "k2"]  # local at once
                filler = client.get_map("filler")
                for i in range(40):
                    await filler.write(
                        f"f{i}", {"x": "y" * 50}, write_concern=WriteConcern.PERSISTED
                    )
                    if await _evicted(server, "watched"):
                        break
                assert await _evicted(server, "watched")
                # The reload answers a fresh snapshot (diffed: nothing new), then the write.
                q.confirmed_event.clear()
                watched.set("k9", {"n": 9})
                await asyncio.wait_for(q.confirmed_event.wait(), TIMEOUT_S)
                watched.set("sentinel", {"n": 100})
                assert await _next(changes, 2) == [("ENTER", "k9"), ("ENTER", "sentinel")]
                assert [k for k, _ in q.results] == ["k0", "k1", "k2", "k9", "sentinel"]
