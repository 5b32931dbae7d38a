"""Property tests: an incrementally maintained index equals one rebuilt from scratch,
and indexed predicates agree with the single-value predicates applied by a scan."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from topgun_core.search import (
    FullTextIndex,
    matches,
    matches_phrase,
    matches_prefix,
)

FIELDS = ["title", "meta.body"]
WORDS = [
    "fox", "foxes", "quick", "quickly", "brown", "dog", "dogs", "lazy", "the", "a", "of",
    "running", "run", "runner", "happy", "happiness", "connect", "connections", "x", "42",
]  # fmt: skip
QUERIES = ["fox", "quick brown", "running dogs", "happy", "the", "42 x", "connect fox lazy"]
PREFIXES = ["f", "fo", "run", "happy", "conn", "4", "q", "zz", ""]

texts = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)
values = st.one_of(texts, texts, st.none(), st.integers())
docs = st.fixed_dictionaries({"title": values, "meta": st.fixed_dictionaries({"body": values})})
doc_ids = st.sampled_from([f"d{i}" for i in range(8)])
ops = st.lists(st.tuples(doc_ids, st.one_of(docs, st.none())), max_size=30)


def _apply(index: FullTextIndex, changes: list[tuple[str, dict[str, object] | None]]) -> dict:
    state: dict[str, dict[str, object]] = {}
    for doc_id, doc in changes:
        if doc is None:
            index.remove(doc_id)
            state.pop(doc_id, None)
        else:
            index.add(doc_id, doc)
            state[doc_id] = doc
    return state


def _answers(index: FullTextIndex) -> list[object]:
    out: list[object] = [len(index), index.term_count]
    for query in QUERIES:
        out.append(index.search(query))
        out.append(index.search(query, limit=3, min_score=0.5))
        out.append(index.search(query, boost={"title": 2.5}))
        out.append(index.search(query, boost={"meta.body": 0.0}))
        out.append(index.match_phrase(query))
        out.append(index.match_phrase(query, field="title"))
    for prefix in PREFIXES:
        out.append(index.match_prefix(prefix, max_expansions=2))
        out.append(index.match_prefix(prefix, field="meta.body"))
    return out


@settings(max_examples=150, deadline=None)
@given(ops)
def test_incremental_index_equals_rebuilt(changes: list) -> None:
    incremental = FullTextIndex(FIELDS)
    state = _apply(incremental, changes)
    rebuilt = FullTextIndex(FIELDS)
    for doc_id in sorted(state, reverse=True):  # a different insertion order on purpose
        rebuilt.add(doc_id, state[doc_id])
    # exact equality: same ids, same matched terms, bit-identical scores
    assert _answers(incremental) == _answers(rebuilt)


def _field(doc: dict[str, object], field: str) -> object:
    value: object = doc
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@settings(max_examples=150, deadline=None)
@given(ops)
def test_indexed_predicates_agree_with_a_scan(changes: list) -> None:
    index = FullTextIndex(FIELDS)
    state = _apply(index, changes)
    for field in FIELDS:
        for query in QUERIES:
            expected = {d for d, doc in state.items() if matches(_field(doc, field), query)}
            assert index.matching("match", query, field=field) == expected
            expected = {d for d, doc in state.items() if matches_phrase(_field(doc, field), query)}
            assert index.matching("matchPhrase", query, field=field) == expected
        for prefix in PREFIXES:
            expected = {d for d, doc in state.items() if matches_prefix(_field(doc, field), prefix)}
            assert index.matching("matchPrefix", prefix, field=field) == expected
    for query in QUERIES:
        # without a field: the phrase inside some one field; search hits hold some term
        expected = {
            d
            for d, doc in state.items()
            if any(matches_phrase(_field(doc, f), query) for f in FIELDS)
        }
        assert index.matching("matchPhrase", query) == expected
        assert {h.doc_id for h in index.match_phrase(query)} == expected
        hits = {h.doc_id for h in index.search(query)}
        for word in query.split():
            assert index.matching("match", word) <= hits
