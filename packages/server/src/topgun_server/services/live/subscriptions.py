"""Who subscribed to what: the bounded table of live queries, searches and hybrids.

A :class:`Subscription` is one client's standing request on one map — a live query
(``QUERY_SUB``), a live search (``SEARCH_SUB``) or a hybrid query
(``HYBRID_QUERY_SUB``) — under the id the client chose. Ids are the client's, so
two connections may use the same one: inside the server a subscription is known
by its :attr:`Subscription.ref`, the connection's id and the client's id together.

The table bounds what one connection and one map may hold
(``per_client_max``, ``per_map_max``); one more is a
:class:`~topgun_core.errors.RateLimited` (429) naming the limit. Subscribing again
with an id the connection already uses replaces that subscription (a client
resuming after a reload may do so). A subscription outlives its map's eviction —
it is *dormant* until the map loads again — and ends with ``*_UNSUB`` or its
connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from topgun_core.errors import RateLimited
from topgun_core.query import QuerySpec
from topgun_server.ws.session import Session

__all__ = ["SearchRequest", "Subscription", "SubscriptionKind", "Subscriptions"]

SubscriptionKind: TypeAlias = Literal["query", "search", "hybrid"]


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A full-text query with its options (``boost`` already limited to readable fields)."""

    text: str
    limit: int | None = None
    min_score: float = 0.0
    boost: dict[str, float] | None = None


@dataclass(eq=False, slots=True)
class Subscription:
    """One standing request of one connection on one map."""

    kind: SubscriptionKind
    client_id: str
    """The id the client chose (``queryId`` / ``subscriptionId``)."""
    session: Session
    map_name: str
    fields: frozenset[str] | None
    """Top-level fields the subscriber may read (None: all); every row is filtered."""
    spec: QuerySpec | None = None
    """Live and hybrid queries: the validated query (for hybrids, the filter part)."""
    search: SearchRequest | None = None
    """Live searches and hybrid queries: the text part."""
    ref: str = field(init=False)

    def __post_init__(self) -> None:
        self.ref = f"{self.session.id}:{self.client_id}"


class Subscriptions:
    """Every subscription of the node, indexed by ref, connection and map."""

    __slots__ = ("_by_map", "_by_ref", "_by_session", "per_client_max", "per_map_max")

    def __init__(self, *, per_client_max: int, per_map_max: int) -> None:
        self.per_client_max = per_client_max
        self.per_map_max = per_map_max
        self._by_ref: dict[str, Subscription] = {}
        self._by_session: dict[Session, dict[str, Subscription]] = {}
        self._by_map: dict[str, dict[str, Subscription]] = {}

    def __len__(self) -> int:
        return len(self._by_ref)

    def find(self, session: Session, client_id: str) -> Subscription | None:
        """The subscription ``client_id`` of ``session``, if any."""
        return self._by_session.get(session, {}).get(client_id)

    def check_room(self, session: Session, map_name: str) -> None:
        """Raise ``RateLimited`` (429) when the connection or the map is at its bound."""
        held = len(self._by_session.get(session, ()))
        if held >= self.per_client_max:
            raise RateLimited(
                f"subscription limit reached: {held} live subscriptions on this connection "
                f"(query_subscriptions_per_client_max={self.per_client_max})"
            )
        on_map = len(self._by_map.get(map_name, ()))
        if on_map >= self.per_map_max:
            raise RateLimited(
                f"subscription limit reached: {on_map} live subscriptions on map {map_name!r} "
                f"(query_subscriptions_per_map_max={self.per_map_max})"
            )

    def add(self, sub: Subscription) -> None:
        """Register ``sub`` (the caller removed any earlier one with its id and checked room)."""
        self._by_ref[sub.ref] = sub
        self._by_session.setdefault(sub.session, {})[sub.client_id] = sub
        self._by_map.setdefault(sub.map_name, {})[sub.ref] = sub

    def remove(self, sub: Subscription) -> None:
        """Forget ``sub``."""
        if self._by_ref.pop(sub.ref, None) is None:
            return
        mine = self._by_session.get(sub.session)
        if mine is not None:
            mine.pop(sub.client_id, None)
            if not mine:
                del self._by_session[sub.session]
        on_map = self._by_map.get(sub.map_name)
        if on_map is not None:
            on_map.pop(sub.ref, None)
            if not on_map:
                del self._by_map[sub.map_name]

    def of_session(self, session: Session) -> list[Subscription]:
        """Every subscription of one connection."""
        return list(self._by_session.get(session, {}).values())

    def on_map(self, map_name: str) -> list[Subscription]:
        """Every subscription on one map, oldest first."""
        return list(self._by_map.get(map_name, {}).values())

    def maps(self) -> Iterator[str]:
        """Maps with at least one subscription."""
        return iter(list(self._by_map))

    def get(self, ref: str) -> Subscription | None:
        """The subscription called ``ref``."""
        return self._by_ref.get(ref)
