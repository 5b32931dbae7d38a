"""Full-text search: tokenizer, Porter stemmer, BM25 index, rank fusion, live search.

Pure and sans-IO (SEMANTICS.md §9). Text becomes terms with :func:`tokenize`
(lower-case, split on non-letters/digits, drop short tokens and English
:data:`STOPWORDS`, Porter-stem with :func:`porter_stem`). :class:`FullTextIndex`
ranks documents with BM25 (k1 1.2, b 0.75, :func:`bm25_idf`) over per-field and
combined indexes, with boosts, ``min_score`` and ``limit``, and answers phrase and
prefix queries. :func:`matches`, :func:`matches_phrase` and :func:`matches_prefix`
are the ``match`` / ``matchPhrase`` / ``matchPrefix`` predicates on one value.
:func:`rrf` and :func:`hybrid_rank` fuse rankings; :class:`LiveSearch` turns writes
into ENTER / UPDATE / LEAVE deltas. Each private module's docstring says how its
part works.
"""

from topgun_core.search._bm25 import K1, B, bm25_idf
from topgun_core.search._fusion import RRF_K, hybrid_rank, rrf
from topgun_core.search._hits import SearchChange, SearchDelta, SearchHit
from topgun_core.search._index import PREFIX_EXPANSIONS_MAX, FullTextIndex, MatchOp
from topgun_core.search._live import SCORE_TOLERANCE, LiveSearch
from topgun_core.search._match import matches, matches_phrase, matches_prefix
from topgun_core.search._porter import porter_stem
from topgun_core.search._stopwords import STOPWORDS
from topgun_core.search._tokenize import STEM_CHARS_MAX, STEM_CHARS_MIN, TOKEN_CHARS_MIN, tokenize

__all__ = [
    "K1",
    "PREFIX_EXPANSIONS_MAX",
    "RRF_K",
    "SCORE_TOLERANCE",
    "STEM_CHARS_MAX",
    "STEM_CHARS_MIN",
    "STOPWORDS",
    "TOKEN_CHARS_MIN",
    "B",
    "FullTextIndex",
    "LiveSearch",
    "MatchOp",
    "SearchChange",
    "SearchDelta",
    "SearchHit",
    "bm25_idf",
    "hybrid_rank",
    "matches",
    "matches_phrase",
    "matches_prefix",
    "porter_stem",
    "rrf",
    "tokenize",
]
