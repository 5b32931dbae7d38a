"""Full-text search: tokenizer, English stopwords and the Porter stemmer (SEMANTICS.md §9).

Pure and sans-IO. Text becomes terms with :func:`tokenize` (lower-case, split on
non-letters/digits, drop short tokens and English :data:`STOPWORDS`, Porter-stem
with :func:`porter_stem`). Each private module's docstring says how its part works.
"""

from topgun_core.search._porter import porter_stem
from topgun_core.search._stopwords import STOPWORDS
from topgun_core.search._tokenize import STEM_CHARS_MAX, STEM_CHARS_MIN, TOKEN_CHARS_MIN, tokenize

__all__ = [
    "STEM_CHARS_MAX",
    "STEM_CHARS_MIN",
    "STOPWORDS",
    "TOKEN_CHARS_MIN",
    "porter_stem",
    "tokenize",
]
