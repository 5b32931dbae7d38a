"""Full-text search, live search and hybrid queries of the client, against the real server."""

from __future__ import annotations

import asyncio

import pytest

from topgun_client import ConnectionState, SearchChange, TopGunClient
from topgun_core.errors import Unavailable
from topgun_core.query import P
from topgun_server.testing import running_server

TIMEOUT_S = 20.0
ARTICLES = {
    "a1": {"title": "Quick brown fox", "body": "jumps over the lazy dog", "lang": "en"},
    "a2": {"title": "Lazy dogs", "body": "no fox here, only dogs", "lang": "en"},
    "a3": {"title": "Schneller Fuchs", "body": "quick fox", "lang": "de"},
}


async def _next(changes, n: int = 1) -> list[tuple[str, str]]:
    out = []
    async with asyncio.timeout(TIMEOUT_S):
        for _ in range(n):
            change: SearchChange = await anext(changes)
            out.append((change.change, change.key))
    return out


async def _ready(client: TopGunClient) -> None:
    await client.wait_for_state(ConnectionState.CONNECTED, timeout=TIMEOUT_S)
    await client.flush(timeout=TIMEOUT_S)


async def test_search_live_search_and_hybrid() -> None:
    async with running_server(fulltext={"articles": ("title", "body")}) as server:
        token = server.token()
        async with (
            TopGunClient(server.ws_url, token=token) as a,
            TopGunClient(server.ws_url, token=token) as b,
        ):
            articles = a.get_map("articles")
            for key, value in ARTICLES.items():
                articles.set(key, value)
            await _ready(a)
            await _ready(b)
            hits = await b.search("articles", "quick fox", limit=10, boost={"title": 2})
            assert [h.key for h in hits][:2] == ["a1", "a3"]
            assert hits[0].matched_terms == ("quick", "fox")
            assert hits[0].value == ARTICLES["a1"]
            plain = await b.search("articles", "quick fox")
            assert [h.key for h in await b.search("articles", "quick fox", limit=1)] == [
                plain[0].key
            ]
            live = b.search_subscribe("articles", "pasta")
            hq = b.hybrid_query("articles", text="fox", predicate=P.eq("lang", "en"), limit=10)
            async with live, hq:
                live_changes, hybrid_changes = live.changes(), hq.changes()
                await asyncio.wait_for(hq.confirmed_event.wait(), TIMEOUT_S)
                await asyncio.wait_for(live.confirmed_event.wait(), TIMEOUT_S)
                assert live.results == []
                assert sorted(r.key for r in hq.results) == ["a1", "a2"]  # a3 is German
                assert sorted(await _next(hybrid_changes, 2)) == [("ENTER", "a1"), ("ENTER", "a2")]
                articles.set("a4", {"title": "Pasta", "body": "pasta and a fox", "lang": "en"})
                assert await _next(live_changes) == [("ENTER", "a4")]
                assert ("ENTER", "a4") in await _next(hybrid_changes, 1)
                articles.remove("a4")
                assert await _next(live_changes) == [("LEAVE", "a4")]
                # Offline, then back: the snapshot is diffed, missed changes come out once.
                await b.go_offline()
                articles.set("a5", {"title": "More pasta", "body": "pasta", "lang": "en"})
                await a.flush(timeout=TIMEOUT_S)
                b.go_online()
                assert await _next(live_changes) == [("ENTER", "a5")]
                assert [r.key for r in live.results] == ["a5"]


async def test_search_offline_uses_a_local_index_or_says_unavailable() -> None:
    async with TopGunClient("ws://127.0.0.1:9/ws", token="unused", online=False) as client:
        docs = client.get_map("docs")
        docs.set("d1", {"text": "the quick brown fox"})
        with pytest.raises(Unavailable):
            await client.search("docs", "fox")
        docs.create_fulltext_index("text")
        docs.set("d2", {"text": "a fox again"})
        assert {h.key for h in await client.search("docs", "fox")} == {"d1", "d2"}
