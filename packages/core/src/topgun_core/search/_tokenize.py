"""Text → index terms, exactly as SEMANTICS.md §9 says.

``tokenize`` lower-cases the whole text, takes the maximal runs of Unicode letters
and digits (the regex class ``[^\\W_]``: categories L* and N*, the same set as
``\\p{L}\\p{N}``; everything else, including ``_``, apostrophes and combining marks,
separates), drops runs shorter than 2 characters, drops the English stopwords of
:data:`STOPWORDS`, stems what is left with the Porter stemmer, and drops stems
shorter than 2 or longer than 40 characters. The text is not Unicode-normalised:
an ``é`` written as ``e`` + combining accent splits the word, as the rule says.

Speed: the run splitting and the length-2 filter are one C-level ``findall``, and
the stopword test plus stemming of each distinct token is cached (a plain dict,
cleared when it holds :data:`TERM_CACHE_ENTRIES_MAX` tokens), so tokenizing costs one
dict lookup per token once the vocabulary is warm. Porter never shortens a word by
more than 22 characters (at most 2 + 4 + 4 + 5 + 5 + 2 over its steps), so a token
longer than ``STEM_CHARS_MAX + 30`` can never give a stem short enough to keep and
is dropped without stemming or caching: a megabyte of base64 costs a regex pass.
"""

from __future__ import annotations

import re

from topgun_core.search._porter import porter_stem
from topgun_core.search._stopwords import STOPWORDS

__all__ = [
    "STEM_CHARS_MAX",
    "STEM_CHARS_MIN",
    "TERM_CACHE_ENTRIES_MAX",
    "TOKEN_CHARS_MIN",
    "term_of",
    "tokenize",
]

TOKEN_CHARS_MIN = 2
"""Runs of letters/digits shorter than this are not tokens."""
STEM_CHARS_MIN = 2
"""Stems shorter than this are dropped."""
STEM_CHARS_MAX = 40
"""Stems longer than this are dropped."""
TERM_CACHE_ENTRIES_MAX = 200_000
"""Distinct tokens whose term is cached before the cache is cleared and refilled."""

_TOKEN_CHARS_STEMMED_MAX = STEM_CHARS_MAX + 30  # > STEM_CHARS_MAX + Porter's 22-char shrink
_RUNS = re.compile(r"[^\W_]{%d,}" % TOKEN_CHARS_MIN)  # noqa: UP031 - a regex, not a message
_cache: dict[str, str] = {}


def _compute_term(token: str) -> str:
    if token in STOPWORDS or len(token) > _TOKEN_CHARS_STEMMED_MAX:
        return ""
    stem = porter_stem(token)
    if not STEM_CHARS_MIN <= len(stem) <= STEM_CHARS_MAX:
        return ""
    return stem


def term_of(token: str) -> str:
    """The index term of one lower-case token, or ``""`` when the token is dropped."""
    term = _cache.get(token)
    if term is None:
        term = _compute_term(token)
        if len(token) <= _TOKEN_CHARS_STEMMED_MAX:
            if len(_cache) >= TERM_CACHE_ENTRIES_MAX:
                _cache.clear()
            _cache[token] = term
    return term


def tokenize(text: str) -> list[str]:
    """The index terms of ``text`` in order, duplicates kept.

    >>> tokenize("The Quick Brown Foxes are running quickly!")
    ['quick', 'brown', 'fox', 'run', 'quickli']
    """
    tokens = _RUNS.findall(text.lower())
    terms = list(map(_cache.get, tokens))
    if None in terms:  # tokens seen for the first time (or since the cache was cleared)
        terms = [
            term_of(token) if term is None else term
            for term, token in zip(terms, tokens, strict=True)
        ]
    return list(filter(None, terms))
