"""Full-text predicates on one field value, and the rules they share with the index.

The query engine evaluates ``match``, ``matchPhrase`` and ``matchPrefix`` (SEMANTICS.md
§8) on a single value with :func:`matches`, :func:`matches_phrase` and
:func:`matches_prefix`; :class:`~topgun_core.search.FullTextIndex` answers the same
questions for many documents with postings, using the helpers below, so an indexed
evaluation and a scan agree:

- ``match``: every distinct term of the query occurs in the value (AND). A query
  with no terms (empty, or only stopwords) matches nothing.
- ``matchPhrase``: the phrase's terms occur consecutively and in order in the
  value's term sequence. Positions are positions in that sequence — stopwords and
  one-letter words hold none, so ``"bank of america"`` and ``"bank america"`` are the
  same phrase. A phrase with no terms matches nothing.
- ``matchPrefix``: some term of the value starts with the prefix, or with the
  prefix's Porter stem (so ``"happy"`` finds ``happi``, the stem of *happy* and
  *happiness*). The prefix is lower-cased and stripped; an empty prefix, or one
  holding a character that is not a letter or digit, matches nothing. Terms are
  stems: ``"connecti"`` does not find *connection*, whose term is ``connect``.

Values that are not strings never match.
"""

from __future__ import annotations

from collections.abc import Mapping

from topgun_core.search._porter import porter_stem
from topgun_core.search._tokenize import tokenize

__all__ = [
    "distinct",
    "field_text",
    "joined",
    "matches",
    "matches_phrase",
    "matches_prefix",
    "prefix_forms",
]


def distinct(terms: list[str]) -> tuple[str, ...]:
    """``terms`` without repeats, first occurrences in order."""
    return tuple(dict.fromkeys(terms))


def field_text(doc: Mapping[str, object], path: tuple[str, ...]) -> str | None:
    """The string at a dotted ``path`` (already split) in ``doc``, or ``None``."""
    value: object = doc
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value if isinstance(value, str) else None


def joined(terms: list[str]) -> str:
    """``terms`` as one space-padded string: ``" quick brown fox "`` (or ``""``).

    Terms hold no spaces, so a phrase occurs as consecutive terms exactly when its
    joined form is a substring of the text's: one C-level search, and a third of the
    memory of a tuple of terms.
    """
    return f" {' '.join(terms)} " if terms else ""


def prefix_forms(prefix: str) -> tuple[str, ...]:
    """The strings a term may start with to match ``prefix`` (none: matches nothing)."""
    lowered = prefix.strip().lower()
    if not lowered or not lowered.isalnum():
        return ()
    stem = porter_stem(lowered)
    return (lowered,) if stem == lowered else (lowered, stem)


def matches(value: object, query: str) -> bool:
    """``match``: every term of ``query`` occurs in the string ``value``."""
    if not isinstance(value, str):
        return False
    wanted = distinct(tokenize(query))
    if not wanted:
        return False
    present = set(tokenize(value))
    return all(term in present for term in wanted)


def matches_phrase(value: object, phrase: str) -> bool:
    """``matchPhrase``: the terms of ``phrase`` occur consecutively in ``value``."""
    if not isinstance(value, str):
        return False
    wanted = joined(tokenize(phrase))
    return bool(wanted) and wanted in joined(tokenize(value))


def matches_prefix(value: object, prefix: str) -> bool:
    """``matchPrefix``: some term of ``value`` starts with ``prefix`` (or its stem)."""
    if not isinstance(value, str):
        return False
    forms = prefix_forms(prefix)
    return bool(forms) and any(term.startswith(forms) for term in tokenize(value))
