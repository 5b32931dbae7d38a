"""Full-text search, live search, hybrid queries and the full-text admin API over the wire."""

from __future__ import annotations

import json
from pathlib import Path

from topgun_server.testing import ProtocolClient, put, remove, running_server

ARTICLES = {
    "a1": {
        "title": "Quick brown fox",
        "body": "The fox jumps over the lazy dog",
        "lang": "en",
        "year": 2020,
    },
    "a2": {
        "title": "Lazy dogs",
        "body": "Dogs sleep all day; no fox here",
        "lang": "en",
        "year": 2021,
    },
    "a3": {
        "title": "Der schnelle Fuchs",
        "body": "quick fox in German",
        "lang": "de",
        "year": 2022,
    },
    "a4": {"title": "Cooking", "body": "Recipes for pasta", "lang": "en", "year": 2023},
}


async def _seed(client: ProtocolClient) -> None:
    await client.write(*[put(i, "articles", k, v) for i, (k, v) in enumerate(ARTICLES.items())])


async def _search(client: ProtocolClient, text: str, **options) -> dict:
    await client.send(
        {
            "type": "SEARCH",
            "payload": {"requestId": "r", "mapName": "articles", "query": text, "options": options},
        }
    )
    return (await client.expect("SEARCH_RESP", "ERROR"))["payload"]


async def _until(client: ProtocolClient, key: str, change: str | None = None) -> dict:
    """The next SEARCH_UPDATE about ``key`` (score drift may UPDATE other rows around it)."""
    while True:
        update = (await client.expect("SEARCH_UPDATE"))["payload"]
        if update["key"] == key and change in (None, update["changeType"]):
            return update


def _fulltext() -> dict:
    return {"fulltext": {"articles": ("title", "body")}}


async def test_search_ranks_limits_boosts_and_min_score() -> None:
    async with running_server(**_fulltext()) as server:
        client = await server.client()
        await _seed(client)
        resp = await _search(client, "quick fox")
        keys = [r["key"] for r in resp["results"]]
        assert set(keys) == {"a1", "a2", "a3"}
        assert resp["totalCount"] == 3
        assert keys[-1] == "a2"  # only "fox", in a long body
        assert resp["results"][0]["matchedTerms"] == ["quick", "fox"]
        scores = [r["score"] for r in resp["results"]]
        assert scores == sorted(scores, reverse=True)
        limited = await _search(client, "quick fox", limit=1)
        assert len(limited["results"]) == 1
        assert limited["totalCount"] == 3
        boosted = await _search(client, "quick fox", boost={"title": 5.0, "body": 0.0})
        assert [r["key"] for r in boosted["results"]] == ["a1"]  # "Quick ... fox" in the title
        floor = scores[1]
        assert {
            r["key"] for r in (await _search(client, "quick fox", minScore=floor))["results"]
        } == set(keys[:2])
        bad = await _search(client, "fox", boost={"nope": 1.0})
        assert bad["code"] == 400


async def test_search_needs_full_text_enabled(server) -> None:
    client = await server.client()
    resp = await _search(client, "fox")
    assert resp["code"] == 400
    assert "not enabled" in resp["message"]


async def test_live_search_enter_update_leave() -> None:
    async with running_server(**_fulltext()) as server:
        writer, watcher = await server.client("w"), await server.client("h")
        await _seed(writer)
        await watcher.send(
            {
                "type": "SEARCH_SUB",
                "payload": {"subscriptionId": "s", "mapName": "articles", "query": "pasta"},
            }
        )
        snap = (await watcher.expect("SEARCH_RESP"))["payload"]
        assert snap["requestId"] == "s"
        assert [r["key"] for r in snap["results"]] == ["a4"]
        await writer.write(put(10, "articles", "a5", {"title": "Pasta night", "body": "pasta"}))
        enter = (await watcher.expect("SEARCH_UPDATE"))["payload"]
        assert (enter["changeType"], enter["key"]) == ("ENTER", "a5")
        assert enter["value"]["title"] == "Pasta night"
        assert enter["score"] > 0
        await writer.write(
            put(11, "articles", "a5", {"title": "Pasta night", "body": "more pasta"})
        )
        assert (await _until(watcher, "a5"))["changeType"] == "UPDATE"
        await writer.write(put(12, "articles", "a4", {"title": "Cooking", "body": "soup"}))
        leave = await _until(watcher, "a4")
        assert leave["changeType"] == "LEAVE"
        assert leave["value"] is None
        await writer.write(remove(13, "articles", "a5"))
        assert (await _until(watcher, "a5", "LEAVE"))["value"] is None
        await watcher.send({"type": "SEARCH_UNSUB", "payload": {"subscriptionId": "s"}})
        await writer.write(put(14, "articles", "a6", {"title": "pasta", "body": "pasta"}))
        await watcher.send({"type": "PING", "timestamp": 1})
        assert (await watcher.recv())["type"] == "PONG"


async def test_hybrid_query_fuses_text_and_filter() -> None:
    async with running_server(**_fulltext()) as server:
        writer, watcher = await server.client("w"), await server.client("h")
        await _seed(writer)
        predicate = {
            "op": "and",
            "children": [
                {"op": "match", "attribute": "*", "value": "fox"},
                {"op": "eq", "attribute": "lang", "value": "en"},
            ],
        }
        await watcher.send(
            {
                "type": "HYBRID_QUERY_SUB",
                "payload": {
                    "subscriptionId": "h",
                    "mapName": "articles",
                    "predicate": predicate,
                    "limit": 10,
                },
            }
        )
        snap = (await watcher.expect("HYBRID_QUERY_RESP"))["payload"]
        assert [r["key"] for r in snap["results"]] == ["a1", "a2"]  # a3 is German
        assert snap["results"][0]["matchedTerms"] == ["fox"]
        await writer.write(put(20, "articles", "a3", {**ARTICLES["a3"], "lang": "en"}))
        update = (await watcher.expect("HYBRID_QUERY_UPDATE"))["payload"]
        assert (update["changeType"], update["key"]) == ("ENTER", "a3")
        # With a sort the two lists are fused by reciprocal rank fusion.
        await watcher.send(
            {
                "type": "HYBRID_QUERY_SUB",
                "payload": {
                    "subscriptionId": "h2",
                    "mapName": "articles",
                    "predicate": predicate,
                    "sort": {"year": "desc"},
                },
            }
        )
        fused = (await watcher.expect("HYBRID_QUERY_RESP"))["payload"]["results"]
        assert {r["key"] for r in fused} == {"a1", "a2", "a3"}
        assert all(
            abs(r["score"] - round(r["score"], 12)) < 1e-9 and r["score"] < 0.04 for r in fused
        )


async def test_search_filters_fields_and_ignores_unreadable_ones(tmp_path: Path) -> None:
    policies = tmp_path / "policies.json"
    policies.write_text(
        json.dumps(
            [
                {"role": "USER", "pattern": "*", "actions": ["ALL"]},
                {
                    "role": "VIEWER",
                    "pattern": "articles",
                    "actions": ["READ"],
                    "allowedFields": ["title"],
                },
            ]
        )
    )
    async with running_server(policies_file=policies, **_fulltext()) as server:
        writer = await server.client("w")
        viewer = await server.client("v", roles=("VIEWER",))
        await _seed(writer)
        resp = await _search(viewer, "jumps")  # only in a1's body, which the viewer cannot read
        assert resp["results"] == []
        resp = await _search(viewer, "quick")
        assert [(r["key"], r["value"]) for r in resp["results"]] == [
            ("a1", {"title": "Quick brown fox"})
        ]


async def test_fulltext_admin_endpoint_builds_in_the_background() -> None:
    async with running_server() as server:
        client = await server.client()
        await client.write(
            *[put(i, "docs", f"d{i}", {"text": f"word{i % 7} common"}) for i in range(1, 401)],
        )
        admin = server.token("ops", ("ADMIN",))
        status, raw = await server.post(
            "/api/admin/maps/docs/fulltext", {"fields": ["text"]}, admin
        )
        assert status == 202
        assert json.loads(raw)["state"] == "building"
        status, _ = await server.post("/api/admin/maps/docs/fulltext", {"fields": []}, admin)
        assert status == 400
        status, _ = await server.post(
            "/api/admin/maps/docs/fulltext", {"fields": ["text"]}, server.token("u", ("USER",))
        )
        assert status == 403
        for _ in range(200):
            _, raw = await server.get("/api/admin/status", admin)
            state = json.loads(raw)
            entry = next(e for e in state["fullText"] if e["map"] == "docs")
            if entry["state"] == "ready":
                break
            await client.send({"type": "PING", "timestamp": 1})
            await client.expect("PONG")
        assert entry == {
            "map": "docs",
            "fields": ["text"],
            "state": "ready",
            "indexed": 400,
            "total": 400,
        }
        await client.send(
            {
                "type": "SEARCH",
                "payload": {"requestId": "r", "mapName": "docs", "query": "word3", "options": {}},
            }
        )
        resp = (await client.expect("SEARCH_RESP"))["payload"]
        assert resp["totalCount"] == len([i for i in range(1, 401) if i % 7 == 3])


def test_fulltext_and_indexes_come_from_the_environment(monkeypatch) -> None:
    from topgun_server import ServerSettings
    from topgun_server.services.live import parse_index_spec

    monkeypatch.setenv("TOPGUN_FULLTEXT", '{"articles": ["title", "body"]}')
    monkeypatch.setenv("TOPGUN_INDEXES", '{"users": ["hash:email", "compound:city,age"]}')
    settings = ServerSettings()
    assert settings.fulltext == {"articles": ("title", "body")}
    assert [parse_index_spec(s).name for s in settings.indexes["users"]] == [
        "hash(email)",
        "compound(city, age)",
    ]
