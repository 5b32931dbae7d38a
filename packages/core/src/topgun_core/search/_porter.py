"""The classic Porter (1980) suffix-stripping stemmer, written out step by step.

This follows Martin Porter's own reference implementation (the ANSI C and
JavaScript versions on tartarus.org), which he calls the definitive one. It differs
from the 1980 paper in the three places Porter documents: step 2 maps ``-bli`` to
``-ble`` (the paper has ``-abli`` → ``-able``) and ``-logi`` to ``-log`` (not in the
paper), and words of one or two letters are returned unchanged. Every other rule is
the paper's, so the usual test vocabulary (``caresses`` → ``caress``, ``ponies`` →
``poni``, ``relational`` → ``relat``, ``generalizations`` → ``gener``) holds.

Vocabulary: a *consonant* is a letter other than a, e, i, o, u, and other than a
``y`` that follows a consonant; the other letters are vowels. Any word is
``[C](VC){m}[V]`` where C and V are runs of consonants and vowels; ``m`` is the word's
*measure*. Each rule ``(condition) S1 -> S2`` replaces suffix S1 by S2 when the
stem left after removing S1 meets the condition; within a step only the rule with
the longest matching suffix is tried, and if its condition fails the step does
nothing. Input is expected lower-case; letters outside a-z count as consonants.
"""

from __future__ import annotations

__all__ = ["porter_stem"]

_VOWELS = frozenset("aeiou")


def _is_consonant(word: str, i: int) -> bool:
    char = word[i]
    if char in _VOWELS:
        return False
    if char == "y":
        return i == 0 or not _is_consonant(word, i - 1)
    return True


def _measure(stem: str) -> int:
    """``m`` in ``[C](VC){m}[V]``: the number of vowel-run → consonant-run switches."""
    m = 0
    prev_vowel = False
    for i in range(len(stem)):
        vowel = not _is_consonant(stem, i)
        if prev_vowel and not vowel:
            m += 1
        prev_vowel = vowel
    return m


def _has_vowel(stem: str) -> bool:
    return any(not _is_consonant(stem, i) for i in range(len(stem)))


def _ends_double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _is_consonant(word, len(word) - 1)


def _ends_cvc(word: str) -> bool:
    """``*o``: ends consonant-vowel-consonant, the last consonant not w, x or y."""
    n = len(word)
    return (
        n >= 3
        and _is_consonant(word, n - 3)
        and not _is_consonant(word, n - 2)
        and _is_consonant(word, n - 1)
        and word[-1] not in "wxy"
    )


def _step1a(word: str) -> str:
    if not word.endswith("s"):
        return word
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-2]
    if word.endswith("ss"):
        return word
    return word[:-1]


def _step1b(word: str) -> str:
    if word.endswith("eed"):
        return word[:-1] if _measure(word[:-3]) > 0 else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and _has_vowel(word[: -len(suffix)]):
            return _step1b_tidy(word[: -len(suffix)])
    return word


def _step1b_tidy(word: str) -> str:
    """After removing -ed or -ing: restore an -e, or undouble a final consonant."""
    if word.endswith(("at", "bl", "iz")):
        return word + "e"
    if _ends_double_consonant(word) and word[-1] not in "lsz":
        return word[:-1]
    if _measure(word) == 1 and _ends_cvc(word):
        return word + "e"
    return word


def _step1c(word: str) -> str:
    if word.endswith("y") and _has_vowel(word[:-1]):
        return word[:-1] + "i"
    return word


# Each list is ordered so that a longer suffix is tried before any suffix it ends
# with; ``_replace`` stops at the first suffix that matches, as the algorithm says.
_STEP2: tuple[tuple[str, str], ...] = (
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
    ("izer", "ize"), ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"),
    ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"),
    ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
    ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"), ("logi", "log"),
)  # fmt: skip
_STEP3: tuple[tuple[str, str], ...] = (
    ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
    ("ful", ""), ("ness", ""),
)  # fmt: skip
_STEP4: tuple[str, ...] = (
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
    "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
)  # fmt: skip


def _replace(word: str, rules: tuple[tuple[str, str], ...], measure_min: int) -> str:
    for suffix, replacement in rules:
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            return stem + replacement if _measure(stem) > measure_min else word
    return word


def _longest(word: str, suffixes: tuple[str, ...]) -> str | None:
    """The longest suffix of ``suffixes`` that ``word`` ends with (step 4)."""
    best: str | None = None
    for suffix in suffixes:
        if word.endswith(suffix) and (best is None or len(suffix) > len(best)):
            best = suffix
    return best


def _step4(word: str) -> str:
    suffix = _longest(word, _STEP4)
    if suffix is None:
        return word
    stem = word[: -len(suffix)]
    if suffix == "ion" and not stem.endswith(("s", "t")):
        return word
    return stem if _measure(stem) > 1 else word


def _step5(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _ends_cvc(stem)):
            word = stem
    if word.endswith("ll") and _measure(word) > 1:
        word = word[:-1]
    return word


def porter_stem(word: str) -> str:
    """The Porter stem of a lower-case ``word``: ``porter_stem("running") == "run"``.

    Words of one or two letters come back unchanged. The function is pure; callers
    that stem the same words over and over (the tokenizer) cache its results.
    """
    if len(word) <= 2:
        return word
    word = _step1b(_step1a(word))
    if len(word) <= 1:
        return word
    word = _step1c(word)
    word = _replace(word, _STEP2, 0)
    word = _replace(word, _STEP3, 0)
    return _step5(_step4(word))
