"""The index advisor: pattern counting, suggestions, auto-creation and its memory bound."""

from __future__ import annotations

from topgun_core.query import (
    CompoundIndex,
    HashIndex,
    IndexAdvisor,
    IndexedMap,
    IndexSuggestion,
    InvertedIndex,
    NavigableIndex,
    P,
    QueryLimits,
    QueryPattern,
    QuerySpec,
)


def test_patterns_are_counted_once_per_query_by_kind() -> None:
    advisor = IndexAdvisor(min_count=1)
    advisor.record(P.eq("a", 1) & P.in_("a", [2]) & P.gt("b", 3) & P.contains("tags", "x"))
    advisor.record(P.between("b", 1, 2) | P.like("name", "x%") | P.match("body", "fox"))
    assert advisor.count(QueryPattern("equality", ("a",))) == 1
    assert advisor.count(QueryPattern("range", ("b",))) == 2
    assert advisor.count(QueryPattern("contains", ("tags",))) == 1
    assert advisor.count(QueryPattern("equality", ("name",))) == 0
    assert len(advisor) == 3  # like and full-text leaves are not indexable here


def test_an_and_of_equalities_suggests_a_compound_index() -> None:
    advisor = IndexAdvisor(min_count=2)
    for _ in range(3):
        advisor.record(P.eq("status", "x") & P.eq("team", "y") & P.gt("age", 1))
    compound = QueryPattern("compound", ("status", "team"))
    assert advisor.count(compound) == 3
    suggestion = next(s for s in advisor.suggestions() if s.pattern == compound)
    built = suggestion.build()
    assert isinstance(built, CompoundIndex)
    assert built.attributes == ("status", "team")


def test_suggestions_are_ranked_and_skip_served_patterns() -> None:
    users = IndexedMap()
    advisor = IndexAdvisor(min_count=2)
    for i in range(5):
        advisor.record(P.eq("team", "t"))
        if i < 3:
            advisor.record(P.lt("age", 3))
        if i < 1:
            advisor.record(P.contains("tags", "x"))
    suggestions = advisor.suggestions(users.indexes)
    assert [(s.pattern.attributes, s.index_kind, s.count) for s in suggestions] == [
        (("team",), "hash", 5),
        (("age",), "navigable", 3),
    ]
    users.add_index(NavigableIndex("team"))  # a navigable index serves equality too
    assert [s.index_kind for s in advisor.suggestions(users.indexes)] == ["navigable"]
    assert len(advisor.suggestions(users.indexes, min_count=1)) == 2


def test_suggestions_build_the_right_index_kinds() -> None:
    kinds = {
        "hash": HashIndex,
        "navigable": NavigableIndex,
        "inverted": InvertedIndex,
    }
    for kind, cls in kinds.items():
        suggestion = IndexSuggestion(QueryPattern("equality", ("a",)), kind, 1)  # type: ignore[arg-type]
        assert isinstance(suggestion.build(), cls)


def test_auto_creation_at_the_threshold_through_indexed_map() -> None:
    users = IndexedMap(
        {f"u{i}": {"team": f"t{i % 20}"} for i in range(400)},
        advisor=IndexAdvisor(auto_create_threshold=3),
    )
    query = QuerySpec(P.eq("team", "t7"))
    assert users.query(query).plan.kind == "scan"
    assert users.query(query).plan.kind == "scan"
    result = users.query(query)  # the third query creates the index before it runs
    assert "hash(team)" in users.indexes
    assert result.plan.indexes() == ["hash(team)"]
    assert len(result.results) == 20
    users.query(query)
    assert len(users.indexes) == 1


def test_tracked_patterns_are_bounded_with_space_saving_counts() -> None:
    advisor = IndexAdvisor(min_count=1, limits=QueryLimits(tracked_patterns_max=3))
    for _ in range(5):
        advisor.record(P.eq("hot", 1))
    for name in ("a", "b", "c", "d", "e"):
        advisor.record(P.eq(name, 1))
    assert len(advisor) == 3
    # The heavy hitter survives; newcomers inherit the evicted count as error, so
    # their guaranteed count stays 1 and never inflates.
    assert advisor.count(QueryPattern("equality", ("hot",))) == 5
    assert advisor.count(QueryPattern("equality", ("e",))) == 1
    assert advisor.count(QueryPattern("equality", ("a",))) == 0
    assert advisor.suggestions()[0].pattern.attributes == ("hot",)


def test_recording_nothing_is_fine() -> None:
    advisor = IndexAdvisor()
    assert advisor.record(None) == []
    assert advisor.suggestions() == []
