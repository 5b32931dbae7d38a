"""Full-text search on the client: one-shot searches, live searches, hybrid queries.

The full-text index of a map lives on the server (``TOPGUN_FULLTEXT`` or the admin
API), so these results come from there. :func:`hits_from` turns ``SEARCH_RESP``
rows into :class:`SearchResult` values; a client that created a local index
(``get_map(...).create_fulltext_index(fields)``) is answered from it while offline.

A :class:`RankedQuery` — ``client.search_subscribe(...)`` or
``client.hybrid_query(...)`` — keeps the ranked window the server reported, in
rank order, and yields a :class:`SearchChange` for each ENTER / UPDATE / LEAVE.
Like live queries it subscribes again on every connection and diffs the new
snapshot with what it shows, so the changes missed while away come out exactly
once. The queue of changes is bounded (``query_changes_max``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self

from topgun_client._live import ChangeFeed, LiveRegistry, new_id
from topgun_core.errors import TopGunError
from topgun_core.protocol import ChangeType, ClientMessage, ScoredResult, ServerMessage
from topgun_core.query import Delta
from topgun_core.values import JsonValue, canonical_json

__all__ = ["RankedQuery", "SearchChange", "SearchResult", "hits_from"]


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One ranked row: key, value, relevance and the query terms (stems) it matched."""

    key: str
    value: JsonValue
    score: float
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchChange:
    """One change of a ranked window (``LEAVE`` carries value None and score 0)."""

    change: ChangeType
    key: str
    value: JsonValue
    score: float
    matched_terms: tuple[str, ...]


def hits_from(rows: list[ScoredResult]) -> list[SearchResult]:
    """Wire rows as :class:`SearchResult` values."""
    return [SearchResult(r["key"], r["value"], r["score"], tuple(r["matchedTerms"])) for r in rows]


def _same(a: SearchResult, b: SearchResult) -> bool:
    return (
        a.score == b.score
        and a.matched_terms == b.matched_terms
        and canonical_json(a.value) == canonical_json(b.value)
    )


class RankedQuery:
    """A live search or hybrid query (module docstring); use it with ``async with``."""

    def __init__(
        self,
        registry: LiveRegistry,
        kind: Literal["search", "hybrid"],
        map_name: str,
        subscribe: ClientMessage,
        changes_max: int,
    ) -> None:
        self._registry = registry
        self.kind = kind
        self.map_name = map_name
        self.id = new_id("s" if kind == "search" else "h")
        self._message = subscribe
        self._view: dict[str, SearchResult] = {}
        self._feed: ChangeFeed[SearchChange] = ChangeFeed(changes_max)
        self._active = False
        self.confirmed_event = asyncio.Event()
        """Set when the server's snapshot arrives on the current connection."""

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Subscribe (now if connected, else when a connection is up)."""
        if not self._active:
            self._active = True
            self._registry.add(self)

    def stop(self) -> None:
        """Unsubscribe; ``changes()`` ends."""
        if self._active:
            self._active = False
            self._registry.remove(self)
            self._feed.end()

    @property
    def results(self) -> list[SearchResult]:
        """The ranked window as last reported, best first."""
        return list(self._view.values())

    def changes(self) -> AsyncIterator[SearchChange]:
        """Each change of the window, in order, until the subscription stops."""
        return self._feed.changes()

    def _emit(self, change: SearchChange) -> None:
        self._feed.push(change)

    def on_server(self, message: ServerMessage) -> None:
        """A snapshot (diffed with the window) or one delta."""
        if message["type"] == "SEARCH_RESP" or message["type"] == "HYBRID_QUERY_RESP":
            self._snapshot(hits_from(message["payload"]["results"]))
            self.confirmed_event.set()
        elif message["type"] == "SEARCH_UPDATE" or message["type"] == "HYBRID_QUERY_UPDATE":
            p = message["payload"]
            change, key = p["changeType"], p["key"]
            if change == "LEAVE":
                if self._view.pop(key, None) is not None:
                    self._emit(SearchChange("LEAVE", key, None, 0.0, ()))
                return
            hit = SearchResult(key, p["value"], p["score"], tuple(p["matchedTerms"]))
            self._view[key] = hit
            self._view = dict(sorted(self._view.items(), key=lambda kv: (-kv[1].score, kv[0])))
            self._emit(SearchChange(change, key, hit.value, hit.score, hit.matched_terms))

    def _snapshot(self, rows: list[SearchResult]) -> None:
        fresh = {row.key: row for row in rows}
        for key in [k for k in self._view if k not in fresh]:
            self._emit(SearchChange("LEAVE", key, None, 0.0, ()))
        for row in rows:
            old = self._view.get(row.key)
            if old is None or not _same(old, row):
                kind: ChangeType = "ENTER" if old is None else "UPDATE"
                self._emit(SearchChange(kind, row.key, row.value, row.score, row.matched_terms))
        self._view = fresh

    def on_local(self, deltas: list[Delta]) -> None:
        """Not used: ranked results come from the server."""

    def on_error(self, error: TopGunError) -> None:
        """The server refused the subscription: ``changes()`` raises ``error``."""
        self._feed.fail(error)

    def subscribe_message(self) -> ClientMessage:
        """The ``SEARCH_SUB`` / ``HYBRID_QUERY_SUB`` message (with this handle's id)."""
        self.confirmed_event.clear()
        message = self._message
        if message["type"] == "SEARCH_SUB" or message["type"] == "HYBRID_QUERY_SUB":
            message["payload"]["subscriptionId"] = self.id
        return message

    def unsubscribe_message(self) -> ClientMessage:
        """The matching ``*_UNSUB``."""
        if self.kind == "search":
            return {"type": "SEARCH_UNSUB", "payload": {"subscriptionId": self.id}}
        return {"type": "HYBRID_QUERY_UNSUB", "payload": {"subscriptionId": self.id}}
