"""Live queries on the client: local-first results that converge with the server's.

``client.query(map, predicate, sort=..., limit=...)`` returns a :class:`LiveQuery`
handle. Entering it (``async with``) runs the query on the local replica at once —
through the map's indexes (:mod:`topgun_client._local`) — and subscribes on the
server (``QUERY_SUB``, sent now or as soon as a connection is authenticated).

**What ``results`` shows.** The replica is the truth for every key it knows: a
local write or a server change merged into it moves the result immediately
(the local live query's deltas). The server's window only adds the rows whose
keys the replica has not seen yet (a map still syncing): they are *extras*,
merged into the window in sort order until the replica learns those keys. When
there are no extras the window is exactly the local live query's, and its deltas
are passed on as they are (O(log n) per change).

**Changes.** ``changes()`` yields a :class:`QueryChange` (ENTER, UPDATE, LEAVE)
for each change of the visible window, whatever caused it — so a change that
reaches the client twice (as a live event merged into the replica and as a
``QUERY_UPDATE``) is reported once. A second snapshot (after a reconnect, or
after the server reloaded the map) replaces the server's window and is diffed
with what was shown: exactly the missed changes come out. The queue of changes is
bounded (``query_changes_max``); a consumer that falls further behind gets a
``LimitExceeded`` from ``changes()`` — the results stay right.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from topgun_client._live import ChangeFeed, LiveRegistry, new_id
from topgun_client._local import LocalIndex
from topgun_core.errors import TopGunError
from topgun_core.protocol import ChangeType, ClientMessage, ServerMessage
from topgun_core.query import Delta, QuerySpec, SortOrder
from topgun_core.query import LiveQuery as CoreLiveQuery
from topgun_core.values import JsonValue, canonical_json

__all__ = ["LiveQuery", "QueryChange", "QueryPage", "diff_rows"]


@dataclass(frozen=True, slots=True)
class QueryChange:
    """One change of a live query's results: ``key`` ENTERed, was UPDATEd, or LEFT."""

    change: ChangeType
    key: str
    value: JsonValue


@dataclass(frozen=True, slots=True)
class QueryPage:
    """One page of a query: rows, the cursor of the next page, and where it came from."""

    results: list[tuple[str, JsonValue]]
    next_cursor: str | None
    has_more: bool
    cursor_status: str
    source: str
    """``"server"``, or ``"local"`` when answered from the replica (offline)."""


def _same(a: JsonValue, b: JsonValue) -> bool:
    return a == b and canonical_json(a) == canonical_json(b)


def diff_rows(
    old: list[tuple[str, JsonValue]], new: list[tuple[str, JsonValue]]
) -> list[QueryChange]:
    """LEAVE for rows gone (old order), then ENTER / UPDATE in the new order."""
    new_values = dict(new)
    old_values = dict(old)
    out = [QueryChange("LEAVE", k, None) for k, _ in old if k not in new_values]
    for key, value in new:
        if key not in old_values:
            out.append(QueryChange("ENTER", key, value))
        elif not _same(old_values[key], value):
            out.append(QueryChange("UPDATE", key, value))
    return out


class LiveQuery:
    """A live query handle (module docstring); use it with ``async with``."""

    def __init__(
        self,
        registry: LiveRegistry,
        index: Callable[[], LocalIndex],
        spec: QuerySpec,
        changes_max: int,
    ) -> None:
        self.map_name = ""
        self._registry = registry
        self._index_of = index
        self.spec = spec
        self.id = new_id("q")
        self._feed: ChangeFeed[QueryChange] = ChangeFeed(changes_max)
        self._local: CoreLiveQuery | None = None
        self._index: LocalIndex | None = None
        self._extras: dict[str, JsonValue] = {}
        self._visible: list[tuple[str, JsonValue]] | None = None
        self._server_cursor: str | None = None
        self._active = False
        self.confirmed = False
        """Whether the server's snapshot arrived on the current connection."""
        self.confirmed_event = asyncio.Event()
        """Set when a server snapshot arrives (cleared again on a new subscription)."""

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Run the query locally and subscribe on the server (``async with`` does this)."""
        if self._active:
            return
        index = self._index = self._index_of()
        self.map_name = index.name
        index.sweep()
        if index.indexed.advisor is not None:
            index.indexed.advisor.record(self.spec.predicate, index.indexed.indexes)
        self._local = index.queries.subscribe(
            self.id, self.spec, index.indexed.records, indexes=index.indexed.indexes
        )
        self._active = True
        self._registry.add(self)

    def stop(self) -> None:
        """Unsubscribe (locally and on the server); ``changes()`` ends."""
        if not self._active:
            return
        self._active = False
        self._registry.remove(self)
        if self._index is not None:
            self._index.queries.unsubscribe(self.id)
        self._feed.end()

    # ------------------------------------------------------------------ reading

    @property
    def results(self) -> list[tuple[str, JsonValue]]:
        """The current window: ``(key, value)`` rows in sort order."""
        if self._index is not None:
            self._index.sweep()
        if self._visible is not None:
            return list(self._visible)
        return self._local.results if self._local is not None else []

    @property
    def next_cursor(self) -> str | None:
        """A cursor for the page after the window (``client.query_page(cursor=...)``)."""
        local = self._local.next_cursor() if self._local is not None else None
        return local or self._server_cursor

    def changes(self) -> AsyncIterator[QueryChange]:
        """Each change of the results, in order, until the query stops."""
        return self._feed.changes()

    def _emit(self, changes: list[QueryChange]) -> None:
        for change in changes:
            self._feed.push(change)

    # ------------------------------------------------------------------ merging

    def _merged(self) -> list[tuple[str, JsonValue]]:
        assert self._local is not None
        local = self._local.results
        if not self._extras:
            return local
        order = SortOrder(self.spec.sort)
        rows = sorted([*local, *self._extras.items()], key=lambda row: order.key(*row))
        return rows[: self._local.window_size]

    def _recompute(self) -> None:
        assert self._local is not None
        old = self._visible if self._visible is not None else self._local.results
        new = self._merged()
        self._visible = new if self._extras else None
        self._emit(diff_rows(old, new))

    def on_local(self, deltas: list[Delta]) -> None:
        """Deltas of the local live query (the replica changed)."""
        for key in [k for k in self._extras if self._knows(k)]:
            del self._extras[key]  # the replica knows it now: the replica decides
        if self._visible is None:
            self._emit([QueryChange(d.change, d.key, d.value) for d in deltas])
        else:
            self._recompute()

    def _knows(self, key: str) -> bool:
        assert self._index is not None
        return self._index.known(key)

    def on_server(self, message: ServerMessage) -> None:
        """A ``QUERY_RESP`` (snapshot) or ``QUERY_UPDATE`` (delta) from the server."""
        if self._local is None:
            return
        if message["type"] == "QUERY_RESP":
            snapshot = message["payload"]
            self._extras = {
                row["key"]: row["value"]
                for row in snapshot["results"]
                if not self._knows(row["key"])
            }
            self._server_cursor = snapshot.get("nextCursor")
            self.confirmed = True
            self.confirmed_event.set()
        elif message["type"] == "QUERY_UPDATE":
            update = message["payload"]
            key = update["key"]
            if self._knows(key):
                return
            if update["changeType"] == "LEAVE":
                if self._extras.pop(key, None) is None:
                    return
            else:
                self._extras[key] = update["value"]
        else:
            return
        self._recompute()

    def on_error(self, error: TopGunError) -> None:
        """The server refused the subscription: ``changes()`` raises ``error``."""
        self._feed.fail(error)

    def subscribe_message(self) -> ClientMessage:
        """``QUERY_SUB`` for this query."""
        self.confirmed = False
        self.confirmed_event.clear()
        return {
            "type": "QUERY_SUB",
            "payload": {"queryId": self.id, "mapName": self.map_name, "query": self.spec.to_wire()},
        }

    def unsubscribe_message(self) -> ClientMessage:
        """``QUERY_UNSUB`` for this query."""
        return {"type": "QUERY_UNSUB", "payload": {"queryId": self.id}}
