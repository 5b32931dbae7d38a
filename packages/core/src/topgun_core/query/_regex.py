"""Pattern matching for ``regex`` and ``like``, protected against runaway patterns.

``regex`` uses the third-party ``regex`` module because it can abandon a search
after a time budget: a pattern is at most :data:`REGEX_PATTERN_CHARS_MAX`
characters, compiled once into a bounded LRU cache, and each search over one value
gets :data:`REGEX_TIMEOUT_MS`. A search that runs out of time counts as *no match*;
it is counted in :data:`regex_stats` and logged (at most once per pattern per
cache lifetime), so a catastrophic pattern costs a bounded amount per record and
never hangs a query. Semantics are ``re.search``: case-sensitive, unanchored unless
the pattern anchors itself.

``like`` is SQL ``LIKE``: ``%`` matches any run of characters (also none), ``_``
exactly one character, the whole value must match, and letters compare
case-insensitively (both sides through ``str.lower``). The escape character is
backslash: ``\\%`` is a literal percent sign, ``\\_`` a literal underscore and
``\\\\`` a literal backslash; a backslash before any other character, or at the end
of the pattern, is a validation error. Matching is the classic linear-memory
wildcard algorithm (worst case length(pattern) * length(value) steps, no
backtracking explosion), so ``like`` needs no time budget.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Final

import regex

from topgun_core.errors import ValidationError
from topgun_core.query._limits import (
    LIKE_PATTERN_CHARS_MAX,
    REGEX_CACHE_ENTRIES_MAX,
    REGEX_PATTERN_CHARS_MAX,
    REGEX_TIMEOUT_MS,
)

__all__ = [
    "LikePattern",
    "RegexStats",
    "compile_like",
    "compile_regex",
    "regex_search",
    "regex_stats",
]

_log = logging.getLogger(__name__)

_TIMEOUT_S: Final = REGEX_TIMEOUT_MS / 1000


@dataclass(slots=True)
class RegexStats:
    """Process-wide regex counters: searches run and searches that hit the time budget."""

    searches: int = 0
    timeouts: int = 0


regex_stats: Final = RegexStats()
"""The counters every regex search updates (read them for metrics)."""


@functools.lru_cache(maxsize=REGEX_CACHE_ENTRIES_MAX)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.VERSION0)


def compile_regex(pattern: str, path: str) -> regex.Pattern[str]:
    """Compile (cached) a regex predicate's pattern; a bad or long one names ``path``."""
    if len(pattern) > REGEX_PATTERN_CHARS_MAX:
        raise ValidationError(
            path, f"regex pattern longer than {REGEX_PATTERN_CHARS_MAX} characters"
        )
    try:
        return _compiled(pattern)
    except regex.error as exc:
        raise ValidationError(path, f"invalid regex: {exc}") from None


@functools.lru_cache(maxsize=REGEX_CACHE_ENTRIES_MAX)
def _warn_timeout(pattern: str) -> None:
    # Cached on the pattern: one warning per pattern, however many values time out.
    _log.warning(
        "regex search exceeded %d ms; treated as no match: %.80r", REGEX_TIMEOUT_MS, pattern
    )


def regex_search(compiled: regex.Pattern[str], text: str) -> bool:
    """Whether ``compiled`` occurs anywhere in ``text``; False if the time budget runs out."""
    regex_stats.searches += 1
    try:
        return compiled.search(text, timeout=_TIMEOUT_S) is not None
    except TimeoutError:
        regex_stats.timeouts += 1
        _warn_timeout(compiled.pattern)
        return False


_ANY_ONE: Final = 1
_ANY_RUN: Final = 2


@dataclass(frozen=True, slots=True)
class LikePattern:
    """A parsed ``like`` pattern: literal characters and the two wildcards, lower-cased."""

    tokens: tuple[str | int, ...]

    def matches(self, value: str) -> bool:
        """Whether the whole of ``value`` matches, case-insensitively."""
        return _wildcard_match(self.tokens, value.lower())


def compile_like(pattern: str, path: str) -> LikePattern:
    """Parse a ``like`` pattern (escape rules in the module docstring)."""
    if len(pattern) > LIKE_PATTERN_CHARS_MAX:
        raise ValidationError(path, f"like pattern longer than {LIKE_PATTERN_CHARS_MAX} characters")
    tokens: list[str | int] = []
    chars = iter(pattern.lower())
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if escaped not in ("%", "_", "\\"):
                raise ValidationError(
                    path, "like escape: a backslash must be followed by %, _ or a backslash"
                )
            tokens.append(escaped)
        elif char == "%":
            if not tokens or tokens[-1] != _ANY_RUN:  # a run of % is one %
                tokens.append(_ANY_RUN)
        elif char == "_":
            tokens.append(_ANY_ONE)
        else:
            tokens.append(char)
    return LikePattern(tuple(tokens))


def _wildcard_match(tokens: tuple[str | int, ...], text: str) -> bool:
    # Greedy matching that remembers only the last ``%``: on a mismatch it lets that
    # ``%`` swallow one more character and retries. Earlier ``%`` never need revisiting,
    # which is what makes this polynomial rather than exponential.
    t = s = 0
    star_t = star_s = -1
    while s < len(text):
        if t < len(tokens) and (tokens[t] == _ANY_ONE or tokens[t] == text[s]):
            t += 1
            s += 1
        elif t < len(tokens) and tokens[t] == _ANY_RUN:
            star_t, star_s = t, s
            t += 1
        elif star_t >= 0:
            star_s += 1
            t, s = star_t + 1, star_s
        else:
            return False
    while t < len(tokens) and tokens[t] == _ANY_RUN:
        t += 1
    return t == len(tokens)
