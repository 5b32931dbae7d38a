"""The English stopword list the tokenizer drops before stemming (SEMANTICS.md §9).

The list is NLTK's English stopword list (179 entries) joined with the four words of
Martin Porter's Snowball English list that NLTK lacks (``would``, ``could``,
``ought``, ``cannot``), with every entry that holds an apostrophe left out: the
tokenizer splits on apostrophes, so ``don't`` arrives as ``don`` + ``t`` — and both
pieces (``don``, and every other contraction fragment such as ``isn``, ``ll``,
``re``, ``ve``) are already in the list. Single letters are kept for fidelity with
the source lists although the tokenizer never produces a one-letter token.

Words are compared after lower-casing and before stemming, so ``The`` is dropped
but ``thes`` is not. The list is fixed: changing it changes every index and every
score, so it is a protocol-level decision, not a setting.
"""

from __future__ import annotations

__all__ = ["STOPWORDS"]

STOPWORDS: frozenset[str] = frozenset({
    "a", "about", "above", "after", "again", "against", "ain", "all", "am", "an", "and", "any",
    "are", "aren", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "cannot", "could", "couldn", "d", "did", "didn", "do", "does",
    "doesn", "doing", "don", "down", "during", "each", "few", "for", "from", "further", "had",
    "hadn", "has", "hasn", "have", "haven", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "i", "if", "in", "into", "is", "isn", "it", "its", "itself",
    "just", "ll", "m", "ma", "me", "mightn", "more", "most", "mustn", "my", "myself", "needn",
    "no", "nor", "not", "now", "o", "of", "off", "on", "once", "only", "or", "other", "ought",
    "our", "ours", "ourselves", "out", "over", "own", "re", "s", "same", "shan", "she",
    "should", "shouldn", "so", "some", "such", "t", "than", "that", "the", "their", "theirs",
    "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to",
    "too", "under", "until", "up", "ve", "very", "was", "wasn", "we", "were", "weren", "what",
    "when", "where", "which", "while", "who", "whom", "why", "will", "with", "won", "would",
    "wouldn", "y", "you", "your", "yours", "yourself", "yourselves",
})  # fmt: skip
"""157 lower-case English stopwords (see the module docstring for their origin)."""
