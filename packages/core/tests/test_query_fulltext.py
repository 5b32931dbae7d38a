"""The full-text predicate ops delegate to ``topgun_core.search`` on string values."""

from __future__ import annotations

import pytest

from topgun_core.query import LiveQuery, P, Predicate, QuerySpec, evaluate, execute
from topgun_core.values import JsonValue

DOC: JsonValue = {
    "body": "The Quick Brown Foxes are running quickly!",
    "tags": ["quick", "fox"],
    "count": 3,
}


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        (P.match("body", "quick foxes"), True),  # every term, after stemming
        (P.match("body", "RUNS fox"), True),
        (P.match("body", "quick cat"), False),
        (P.match("body", "the are"), False),  # stopwords only: no terms, no match
        (P.match_phrase("body", "brown foxes"), True),
        (P.match_phrase("body", "quick brown fox"), True),
        (P.match_phrase("body", "foxes brown"), False),
        (P.match_phrase("body", "quick fox"), False),
        (P.match_prefix("body", "qui"), True),
        (P.match_prefix("body", "brow"), True),
        (P.match_prefix("body", "zebr"), False),
        (P.match("tags", "quick"), False),  # not a string
        (P.match("count", "3"), False),
        (P.match_prefix("missing", "qu"), False),
        (~P.match("body", "cat") & P.match_prefix("body", "run"), True),
    ],
)
def test_full_text_ops(predicate: Predicate, expected: bool) -> None:
    assert evaluate(predicate, DOC) is expected
    assert evaluate(predicate.to_wire(), DOC) is expected


def test_full_text_ops_in_queries_and_live_queries() -> None:
    records: dict[str, JsonValue] = {
        "a": {"title": "Quick brown fox"},
        "b": {"title": "Lazy dog sleeps"},
        "c": {"title": "A fox hunting at night"},
    }
    spec = QuerySpec(P.match("title", "fox"), sort=(("title", "asc"),))
    assert [k for k, _ in execute(spec, records).results] == ["c", "a"]
    live = LiveQuery(spec, records)
    assert [d.change for d in live.apply("b", {"title": "Dog chases a fox"})] == ["ENTER"]
    assert [d.change for d in live.apply("a", {"title": "Quick brown cat"})] == ["LEAVE"]
