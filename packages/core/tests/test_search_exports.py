"""The public API of topgun_core.search is exactly what is pinned here."""

from __future__ import annotations

import inspect

from topgun_core import search

SEARCH_API = {
    "B", "K1", "PREFIX_EXPANSIONS_MAX", "RRF_K", "SCORE_TOLERANCE", "STEM_CHARS_MAX",
    "STEM_CHARS_MIN", "STOPWORDS", "TOKEN_CHARS_MIN", "FullTextIndex", "LiveSearch", "MatchOp",
    "SearchChange", "SearchDelta", "SearchHit", "bm25_idf", "hybrid_rank", "matches",
    "matches_phrase", "matches_prefix", "porter_stem", "rrf", "tokenize",
}  # fmt: skip


def test_search_exports_are_pinned() -> None:
    assert set(search.__all__) == SEARCH_API
    assert len(search.__all__) == len(SEARCH_API)


def test_every_export_resolves_and_is_documented() -> None:
    for name in search.__all__:
        value = getattr(search, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert value.__doc__, name


def test_bm25_constants() -> None:
    assert (search.K1, search.B) == (1.2, 0.75)
