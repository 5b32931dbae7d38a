"""LiveSearch: ENTER / UPDATE / LEAVE deltas, limit windows, and the drift policy."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topgun_core.search import FullTextIndex, LiveSearch, SearchDelta, SearchHit


def changes(deltas: list[SearchDelta]) -> list[tuple[str, str]]:
    return [(d.change, d.doc_id) for d in deltas]


def test_enter_update_leave() -> None:
    live = LiveSearch(["title", "body"], "fox")
    assert live.results == []
    assert changes(live.apply("a", {"title": "fox"})) == [("ENTER", "a")]
    entered = live.results[0]
    assert entered == SearchHit("a", entered.score, ("fox",))
    # a second fox halves the idf: a's score moves far more than 1 %
    assert changes(live.apply("b", {"title": "fox fox", "body": "fox"})) == [
        ("ENTER", "b"),
        ("UPDATE", "a"),
    ]
    assert changes(live.apply("c", {"title": "dog"})) == [("UPDATE", "b"), ("UPDATE", "a")]
    assert changes(live.apply("b", {"title": "dog"})) == [("LEAVE", "b"), ("UPDATE", "a")]
    assert changes(live.apply("a", None)) == [("LEAVE", "a")]
    assert changes(live.apply("a", None)) == []  # deleting what is not there: nothing
    assert live.results == []


def test_leave_carries_no_score_and_enter_carries_the_hit() -> None:
    live = LiveSearch(["title"], "fox")
    (enter,) = live.apply("a", {"title": "fox"})
    assert enter == SearchDelta("ENTER", "a", live.results[0].score, ("fox",))
    assert live.apply("a", {"title": "cat"}) == [SearchDelta("LEAVE", "a", 0.0, ())]


def test_a_changed_document_is_updated_even_when_its_score_is_not() -> None:
    live = LiveSearch(["title"], "fox")
    live.apply("a", {"title": "fox", "n": 1})
    (delta,) = live.apply("a", {"title": "fox", "n": 2})
    assert delta.change == "UPDATE"
    assert delta.score == live.results[0].score
    assert changes(live.apply("a", {"title": "fox", "n": 3})) == [("UPDATE", "a")]


def test_limit_window_lets_the_next_document_enter() -> None:
    live = LiveSearch(["title"], "fox", limit=2, score_tolerance=math.inf)
    live.apply("a", {"title": "fox fox fox"})
    live.apply("b", {"title": "fox fox"})
    assert changes(live.apply("c", {"title": "fox and a few other words"})) == []  # 3rd
    assert [h.doc_id for h in live.results] == ["a", "b"]
    assert changes(live.apply("a", None)) == [("LEAVE", "a"), ("ENTER", "c")]
    # a better document pushes the last one out: LEAVE comes first
    assert changes(live.apply("d", {"title": "fox fox fox fox"})) == [
        ("LEAVE", "c"),
        ("ENTER", "d"),
    ]
    assert [h.doc_id for h in live.results] == ["d", "b"]
    assert changes(live.apply("b", {"title": "cat"})) == [("LEAVE", "b"), ("ENTER", "c")]


def corpus(size: int) -> FullTextIndex:
    index = FullTextIndex(["body"])
    for i in range(size):
        index.add(f"doc{i:03}", {"body": f"word{i} filler text number {i % 7}"})
    index.add("fox1", {"body": "the fox"})
    index.add("fox2", {"body": "a fox and another fox"})
    return index


def test_small_drift_is_not_reported_and_never_accumulates() -> None:
    index = corpus(200)
    live = LiveSearch(index, "fox")
    reported = {h.doc_id: h.score for h in live.results}
    quiet = 0
    for i in range(60):  # each unrelated write moves the fox scores a little
        index.add(f"new{i}", {"body": f"unrelated words {i}"})
        deltas = live.refresh([f"new{i}"])
        assert all(d.change == "UPDATE" for d in deltas)
        quiet += not deltas
        reported.update((d.doc_id, d.score) for d in deltas)
        for hit in index.search("fox"):
            assert abs(hit.score - reported[hit.doc_id]) <= 0.01 * reported[hit.doc_id]
    assert quiet > 40  # most writes said nothing
    assert quiet < 60  # but the drift was reported before it passed 1 %


def test_zero_tolerance_reports_every_move() -> None:
    index = corpus(50)
    live = LiveSearch(index, "fox", score_tolerance=0.0)
    index.add("new", {"body": "unrelated"})
    assert changes(live.refresh(["new"])) == [("UPDATE", "fox2"), ("UPDATE", "fox1")]
    assert live.results == index.search("fox")


def test_drift_below_min_score_is_a_leave() -> None:
    index = FullTextIndex(["body"])
    index.add("a", {"body": "fox"})
    index.add("b", {"body": "dog"})
    score = index.search("fox")[0].score
    live = LiveSearch(index, "fox", min_score=score * 0.99)
    assert [h.doc_id for h in live.results] == ["a"]
    index.add("c", {"body": "fox"})  # fox is commoner now: a's score drops
    assert changes(live.refresh(["c"])) == [("LEAVE", "a")]


def test_shared_index_batched_refresh() -> None:
    index = FullTextIndex(["title"])
    foxes = LiveSearch(index, "fox")
    dogs = LiveSearch(index, "dog", score_tolerance=math.inf)
    index.add("a", {"title": "fox"})
    index.add("b", {"title": "dog"})
    index.add("c", {"title": "fox dog"})
    index.remove("c")
    assert changes(foxes.refresh(["a", "b", "c"])) == [("ENTER", "a")]
    assert changes(dogs.refresh(["a", "b", "c"])) == [("ENTER", "b")]
    assert foxes.index is dogs.index is index
    assert foxes.query == "fox"


def test_invalid_tolerance() -> None:
    with pytest.raises(ValueError, match="score_tolerance"):
        LiveSearch(["title"], "x", score_tolerance=-0.1)
    with pytest.raises(ValueError, match="score_tolerance"):
        LiveSearch(["title"], "x", score_tolerance=math.nan)


WORDS = ["fox", "foxes", "quick", "brown", "dog", "lazy", "the", "run", "running", "cat"]
texts = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
docs = st.fixed_dictionaries({"title": texts, "body": texts})
writes = st.lists(
    st.tuples(st.sampled_from([f"d{i}" for i in range(6)]), st.one_of(docs, st.none())),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(
    writes,
    st.sampled_from(["fox", "quick brown", "run dog cat", "lazy"]),
    st.sampled_from([None, 1, 2, 4]),
    st.sampled_from([0.0, 0.4, 1.0]),
    st.sampled_from([None, {"title": 2.0}]),
    st.sampled_from([0.0, 0.01, 0.2, math.inf]),
)
def test_deltas_applied_to_the_initial_result_equal_a_fresh_search(
    writes: list, query: str, limit: int | None, min_score: float, boost: dict | None, tol: float
) -> None:
    index = FullTextIndex(["title", "body"])
    index.add("d0", {"title": "fox", "body": "quick brown dog"})
    live = LiveSearch(
        index, query, limit=limit, min_score=min_score, boost=boost, score_tolerance=tol
    )
    view = {h.doc_id: h for h in live.results}
    for doc_id, doc in writes:
        if doc is None:
            index.remove(doc_id)
        else:
            index.add(doc_id, doc)
        for delta in live.refresh([doc_id]):
            if delta.change == "LEAVE":
                del view[delta.doc_id]
            else:
                assert (delta.change == "ENTER") == (delta.doc_id not in view)
                view[delta.doc_id] = SearchHit(delta.doc_id, delta.score, delta.matched_terms)
        fresh = index.search(query, limit=limit, min_score=min_score, boost=boost)
        assert [h.doc_id for h in live.results] == [h.doc_id for h in fresh]
        assert set(view) == {h.doc_id for h in fresh}
        for hit in fresh:
            known = view[hit.doc_id]
            assert known == live.results[[h.doc_id for h in fresh].index(hit.doc_id)]
            assert known.matched_terms == hit.matched_terms
            if tol == 0.0:
                assert known.score == hit.score
            elif doc_id == hit.doc_id or tol < math.inf:
                assert abs(known.score - hit.score) <= tol * known.score
