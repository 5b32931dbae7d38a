"""Scored results: full-text hits for a search or a hybrid query, and their deltas.

A *hybrid* predicate mixes full-text leaves (``match``, ``matchPhrase``,
``matchPrefix``) with ordinary comparisons. :func:`split_hybrid` takes the
full-text leaves found at the root or directly under a root ``and`` as the
*text part* (their ``attribute`` names an indexed field, or ``"*"`` for all of the
map's full-text fields) and keeps everything else as the *filter*. Ranking
(:func:`rank_hybrid`, SEMANTICS.md §9):

- text part only: the text hits in BM25 order;
- text part and a filter without ``sort``: the text hits that pass the filter, in
  BM25 order (the filter has no order of its own to fuse);
- text part and ``sort``: reciprocal rank fusion of the text hits and the filtered
  rows in sort order, keeping rows in both;
- no text part: the filtered rows in sort (or key) order, scored ``1/(k + r + 1)``.

Several text leaves add their scores per document. :func:`diff_ranked` turns a new
ranking into ENTER / UPDATE / LEAVE against what the subscriber was last told, with
the same score-drift policy as :class:`~topgun_core.search.LiveSearch`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from topgun_core.errors import PermissionDenied, ValidationError
from topgun_core.protocol import ChangeType
from topgun_core.query import P, Predicate, QuerySpec, SortOrder, evaluate
from topgun_core.search import SCORE_TOLERANCE, FullTextIndex, SearchHit, hybrid_rank
from topgun_core.values import JsonValue

__all__ = [
    "ALL_FIELDS",
    "TEXT_OPS",
    "Ranked",
    "ScoredDelta",
    "diff_ranked",
    "rank_hybrid",
    "readable_boost",
    "split_hybrid",
]

ALL_FIELDS = "*"
"""The attribute of a hybrid text leaf that means "every full-text field of the map"."""

TEXT_OPS = frozenset({"match", "matchPhrase", "matchPrefix"})


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked row: key, score and the query terms it matched."""

    key: str
    score: float
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoredDelta:
    """One change of a ranked window."""

    change: ChangeType
    key: str
    score: float
    matched_terms: tuple[str, ...]


def split_hybrid(predicate: Predicate | None) -> tuple[list[Predicate], Predicate | None]:
    """``(text leaves, filter)`` of a hybrid predicate (module docstring)."""
    if predicate is None:
        return [], None
    parts = list(predicate.children) if predicate.op == "and" else [predicate]
    text = [p for p in parts if p.op in TEXT_OPS]
    rest = [p for p in parts if p.op not in TEXT_OPS]
    if not text:
        return [], predicate
    if not rest:
        return text, None
    return text, rest[0] if len(rest) == 1 else P.and_(*rest)


def readable_boost(
    index: FullTextIndex, boost: Mapping[str, float] | None, fields: frozenset[str] | None
) -> dict[str, float] | None:
    """``boost`` with every field the reader may not see weighted 0 (None: no boost)."""
    if fields is None:
        return dict(boost) if boost else None
    return {
        name: (float(boost.get(name, 1.0)) if boost else 1.0) if name in fields else 0.0
        for name in index.fields
    }


def _leaf_hits(
    index: FullTextIndex, leaf: Predicate, fields: frozenset[str] | None
) -> list[SearchHit]:
    attribute = leaf.attribute
    text = leaf.value
    assert isinstance(text, str)
    assert attribute is not None
    field = None if attribute == ALL_FIELDS else attribute
    if field is not None and field not in index.fields:
        raise ValidationError("predicate", f"{field!r} is not a full-text field of this map")
    if leaf.op == "match":
        if field is None:
            return index.search(text, boost=readable_boost(index, None, fields))
        return index.search(text, boost={name: float(name == field) for name in index.fields})
    if field is None and fields is not None and not fields.issuperset(index.fields):
        raise PermissionDenied(f"{leaf.op} over every field reads fields you may not read")
    if leaf.op == "matchPhrase":
        hits = index.match_phrase(text, field=field)
    else:
        hits = index.match_prefix(text, field=field)
    return hits


def text_hits(
    index: FullTextIndex, leaves: Iterable[Predicate], fields: frozenset[str] | None
) -> list[SearchHit]:
    """The documents every text leaf matches, scores added, best first."""
    scores: dict[str, float] = {}
    terms: dict[str, tuple[str, ...]] = {}
    first = True
    for leaf in leaves:
        hits = {hit.doc_id: hit for hit in _leaf_hits(index, leaf, fields)}
        keep = hits.keys() if first else hits.keys() & scores.keys()
        scores = {k: scores.get(k, 0.0) + hits[k].score for k in keep}
        terms = {k: terms.get(k, ()) + hits[k].matched_terms for k in keep}
        first = False
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [SearchHit(k, score, tuple(dict.fromkeys(terms[k]))) for k, score in ordered]


def rank_hybrid(
    records: Mapping[str, JsonValue],
    index: FullTextIndex | None,
    text: list[Predicate],
    spec: QuerySpec,
    fields: frozenset[str] | None,
) -> list[Ranked]:
    """Rank a hybrid query over ``records`` (module docstring), cut to ``spec.limit``."""
    hits: list[SearchHit] | None = None
    if text:
        if index is None:
            raise ValidationError("predicate", "this map has no full-text index")
        hits = text_hits(index, text, fields)
    test = spec.predicate
    filtered: list[str] | None = None
    if hits is not None and not spec.sort:
        if test is not None:
            hits = [h for h in hits if _passes(records, h.doc_id, test)]
    else:
        order = SortOrder(spec.sort)
        rows = (
            (k, v) for k, v in records.items() if test is None or evaluate(test, v)
        ) if hits is None else (
            (h.doc_id, records[h.doc_id]) for h in hits if _passes(records, h.doc_id, test)
        )  # fmt: skip
        filtered = [k for k, _ in sorted(rows, key=lambda row: order.key(row[0], row[1]))]
    terms = {hit.doc_id: hit.matched_terms for hit in hits or ()}
    ranked = [Ranked(k, s, terms.get(k, ())) for k, s in hybrid_rank(hits, filtered)]
    return ranked if spec.limit is None else ranked[: spec.limit]


def _passes(records: Mapping[str, JsonValue], key: str, test: Predicate | None) -> bool:
    value = records.get(key)
    return value is not None and (test is None or evaluate(test, value))


def diff_ranked(
    known: Mapping[str, Ranked], fresh: list[Ranked], changed: set[str]
) -> tuple[list[ScoredDelta], dict[str, Ranked]]:
    """Deltas from ``known`` (what the subscriber holds) to ``fresh``, and the new view.

    LEAVEs first (old order), then ENTER / UPDATE in the new order; an unchanged
    row is UPDATEd only when its document changed, its terms changed, or its score
    moved by more than ``SCORE_TOLERANCE`` from the score last reported.
    """
    fresh_keys = {row.key for row in fresh}
    deltas = [ScoredDelta("LEAVE", k, 0.0, ()) for k in known if k not in fresh_keys]
    view: dict[str, Ranked] = {}
    for row in fresh:
        old = known.get(row.key)
        if old is None:
            deltas.append(ScoredDelta("ENTER", row.key, row.score, row.matched_terms))
        elif (
            row.key in changed
            or row.matched_terms != old.matched_terms
            or abs(row.score - old.score) > SCORE_TOLERANCE * abs(old.score)
        ):
            deltas.append(ScoredDelta("UPDATE", row.key, row.score, row.matched_terms))
        else:
            row = old  # noqa: PLW2901 - the subscriber keeps the score it was told
        view[row.key] = row
    return deltas, view
