"""Wire messages of live queries and searches, each row filtered to what its reader may see."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from topgun_core.protocol import QueryResult, ScoredResult, ScoredUpdatePayload, ServerMessage
from topgun_core.query import Delta
from topgun_core.search import SearchDelta, SearchHit
from topgun_core.values import JsonValue
from topgun_server.services.live.ranking import Ranked, ScoredDelta
from topgun_server.services.live.subscriptions import Subscription

__all__ = [
    "query_rows",
    "query_update",
    "scored_rows",
    "scored_update",
    "shown",
]


def shown(value: JsonValue | None, fields: frozenset[str] | None) -> JsonValue:
    """``value`` cut to the readable top-level fields."""
    if fields is None or not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k in fields}


def query_rows(
    rows: Iterable[tuple[str, JsonValue]], fields: frozenset[str] | None
) -> list[QueryResult]:
    """``QUERY_RESP.results`` rows."""
    return [{"key": key, "value": shown(value, fields)} for key, value in rows]


def query_update(sub: Subscription, delta: Delta) -> ServerMessage:
    """``QUERY_UPDATE`` for one delta of a live query."""
    payload = delta.to_wire(sub.client_id)
    payload["value"] = shown(delta.value, sub.fields)
    return {"type": "QUERY_UPDATE", "payload": payload}


def scored_rows(
    hits: Iterable[SearchHit | Ranked],
    values: Mapping[str, JsonValue],
    fields: frozenset[str] | None,
) -> list[ScoredResult]:
    """``results`` of SEARCH_RESP / HYBRID_QUERY_RESP: key, value, score, matchedTerms."""
    get = values.get
    rows: list[ScoredResult] = []
    for hit in hits:
        key = hit.doc_id if isinstance(hit, SearchHit) else hit.key
        rows.append(
            {
                "key": key,
                "value": shown(get(key), fields),
                "score": hit.score,
                "matchedTerms": list(hit.matched_terms),
            }
        )
    return rows


def scored_update(
    sub: Subscription, delta: SearchDelta | ScoredDelta, value: JsonValue | None
) -> ServerMessage:
    """``SEARCH_UPDATE`` or ``HYBRID_QUERY_UPDATE`` for one delta."""
    key = delta.doc_id if isinstance(delta, SearchDelta) else delta.key
    payload: ScoredUpdatePayload = {
        "subscriptionId": sub.client_id,
        "key": key,
        "value": None if delta.change == "LEAVE" else shown(value, sub.fields),
        "score": delta.score,
        "matchedTerms": list(delta.matched_terms),
        "changeType": delta.change,
    }
    if sub.kind == "search":
        return {"type": "SEARCH_UPDATE", "payload": payload}
    return {"type": "HYBRID_QUERY_UPDATE", "payload": payload}
