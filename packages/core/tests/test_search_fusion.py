"""Reciprocal rank fusion (SEMANTICS.md §9) and hybrid ranking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topgun_core.search import RRF_K, SearchHit, hybrid_rank, rrf


def test_rrf_vector() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]])
    assert fused == [
        ("b", 1 / 62 + 1 / 61),
        ("c", 1 / 63 + 1 / 62),
        ("a", 1 / 61),
        ("d", 1 / 63),
    ]
    assert RRF_K == 60
    assert fused[0][1] == pytest.approx(0.0325224749)


def test_rrf_exact_values_for_other_k() -> None:
    assert rrf([["x", "y", "z"]], k=0) == [("x", 1.0), ("y", 0.5), ("z", 1 / 3)]
    assert rrf([["x"], ["x"], ["x"]], k=1) == [("x", 1.5)]


def test_rrf_ties_break_by_id_and_duplicates_count_once() -> None:
    assert rrf([["b"], ["a"]]) == [("a", 1 / 61), ("b", 1 / 61)]
    assert rrf([["a", "a", "b"]]) == [("a", 1 / 61), ("b", 1 / 63)]
    assert rrf([]) == []
    assert rrf([[], []]) == []


def test_rrf_rejects_negative_k() -> None:
    with pytest.raises(ValueError, match="k must be"):
        rrf([["a"]], k=-1)


@given(st.lists(st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8), max_size=4))
def test_rrf_is_order_independent_and_sorted(lists: list[list[str]]) -> None:
    fused = rrf(lists)
    assert fused == rrf(list(reversed(lists)))
    assert fused == sorted(fused, key=lambda item: (-item[1], item[0]))
    assert {doc for doc, _ in fused} == {doc for ranked in lists for doc in ranked}


def hits(*pairs: tuple[str, float]) -> list[SearchHit]:
    return [SearchHit(doc_id, score, ("t",)) for doc_id, score in pairs]


def test_hybrid_fuses_both_lists_and_keeps_the_intersection() -> None:
    text = hits(("a", 9.0), ("b", 5.0), ("c", 1.0))
    filtered = ["c", "b", "x"]  # x passes the filter but does not match the text
    # c: rank 2 and rank 0; b: rank 1 twice. 1/63 + 1/61 > 2/62: RRF favours a top rank
    assert hybrid_rank(text, filtered) == [
        ("c", 1 / 63 + 1 / 61),
        ("b", 1 / 62 + 1 / 62),
    ]


def test_hybrid_with_one_part() -> None:
    text = hits(("a", 9.0), ("b", 5.0))
    assert hybrid_rank(text, None) == [("a", 9.0), ("b", 5.0)]
    assert hybrid_rank(None, ["z", "y"]) == [("z", 1 / 61), ("y", 1 / 62)]
    assert hybrid_rank(None, None) == []
    assert hybrid_rank([], ["z"]) == []  # the text matched nothing: no hybrid result
    assert hybrid_rank(text, [], k=10) == []
