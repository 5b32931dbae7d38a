"""Tokenizer, stopwords and Porter stemmer: SEMANTICS.md §9 vectors and edge cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topgun_core.search import (
    STEM_CHARS_MAX,
    STOPWORDS,
    porter_stem,
    tokenize,
)

# SEMANTICS.md §9 and the classic examples of Porter's paper and reference vocabulary.
PORTER = {
    "running": "run", "happiness": "happi", "relational": "relat",
    "generalization": "gener", "connections": "connect",
    "caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
    "feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled",
    "motoring": "motor", "sing": "sing", "conflated": "conflat", "troubled": "troubl",
    "sized": "size", "hopping": "hop", "tanned": "tan", "falling": "fall", "hissing": "hiss",
    "fizzed": "fizz", "failing": "fail", "filing": "file", "happy": "happi", "sky": "sky",
    "conditional": "condit", "rational": "ration", "valenci": "valenc",
    "hesitanci": "hesit", "digitizer": "digit", "conformabli": "conform",
    "radicalli": "radic", "differentli": "differ", "vileli": "vile",
    "analogousli": "analog", "vietnamization": "vietnam", "predication": "predic",
    "operator": "oper", "feudalism": "feudal", "decisiveness": "decis",
    "hopefulness": "hope", "callousness": "callous", "formaliti": "formal",
    "sensitiviti": "sensit", "sensibiliti": "sensibl", "triplicate": "triplic",
    "formative": "form", "formalize": "formal", "electriciti": "electr",
    "electrical": "electr", "hopeful": "hope", "goodness": "good", "revival": "reviv",
    "allowance": "allow", "inference": "infer", "airliner": "airlin",
    "gyroscopic": "gyroscop", "adjustable": "adjust", "defensible": "defens",
    "irritant": "irrit", "replacement": "replac", "adjustment": "adjust",
    "dependent": "depend", "adoption": "adopt", "homologou": "homolog",
    "communism": "commun", "activate": "activ", "angulariti": "angular",
    "homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler",
    "probate": "probat", "rate": "rate", "cease": "ceas", "controll": "control",
    "roll": "roll", "generalizations": "gener", "oscillators": "oscil",
    # the reference implementation's departures from the paper, and short words
    "possibly": "possibl", "archaeology": "archaeolog", "is": "is", "as": "as", "a": "a",
    # y is a vowel after a consonant, a consonant after a vowel
    "syzygy": "syzygi", "toy": "toi", "enjoying": "enjoi", "yield": "yield",
}  # fmt: skip


@pytest.mark.parametrize(("word", "stem"), sorted(PORTER.items()))
def test_porter_table(word: str, stem: str) -> None:
    assert porter_stem(word) == stem


def test_semantics_vector() -> None:
    assert tokenize("The Quick Brown Foxes are running quickly!") == [
        "quick",
        "brown",
        "fox",
        "run",
        "quickli",
    ]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("", []),
        ("   \n\t ", []),
        ("!!! ... ???", []),
        ("the and of are is", []),  # only stopwords
        ("I am a b c", []),  # short tokens and stopwords
        ("C++ and C#", []),
        ("naïve café", ["naïv", "café"]),  # unicode letters are letters
        ("Straße ÉCOLE", ["straße", "école"]),
        ("東京タワー", ["東京タワー"]),
        ("2024 model x1 7", ["2024", "model", "x1"]),  # digits are characters of words
        ("hello_world", ["hello", "world"]),  # underscore separates
        ("don't stop", ["stop"]),  # don + t: a stopword and a short token
        ("e-mail self-driving", ["mail", "self", "drive"]),
        ("UPPER lower MiXeD", ["upper", "lower", "mix"]),
        ("Cafe\u0301", ["cafe"]),  # a combining accent is not a letter: it separates
        ("fox fox FOX", ["fox", "fox", "fox"]),  # duplicates and order are kept
    ],
)
def test_tokenize_edge_cases(text: str, terms: list[str]) -> None:
    assert tokenize(text) == terms


def test_stopwords_are_dropped_before_stemming() -> None:
    # "being" is a stopword; its stem "be" would also be, but "beings" is not a stopword
    assert tokenize("being") == []
    assert tokenize("beings") == ["be"]
    assert tokenize("ours ourselves") == []


def test_stopword_list() -> None:
    assert {"the", "are", "and", "is", "of", "would", "don", "isn"} <= STOPWORDS
    assert 150 <= len(STOPWORDS) <= 180
    assert all(word == word.lower() and word.isalpha() for word in STOPWORDS)


def test_stem_length_limits() -> None:
    assert tokenize("x" * STEM_CHARS_MAX) == ["x" * STEM_CHARS_MAX]
    assert tokenize("x" * (STEM_CHARS_MAX + 1)) == []
    # a word longer than the limit whose stem is short enough is kept
    word = "ba" * 17 + "izations"
    assert len(word) == 42
    assert tokenize(word) == ["ba" * 17]
    assert tokenize("ok " + "q" * 100_000 + " fine") == ["ok", "fine"]


def test_tokenize_is_stable_across_cache_states() -> None:
    text = "Relational generalizations of happiness, running connections"
    first = tokenize(text)
    assert tokenize(text) == first
    assert first == ["relat", "gener", "happi", "run", "connect"]


words = st.text(alphabet="abcdeilmnorstuyz", min_size=0, max_size=60)


@given(words)
def test_porter_never_shrinks_more_than_22_letters(word: str) -> None:
    # the tokenizer skips stemming tokens that are more than STEM_CHARS_MAX + 30 long
    stem = porter_stem(word)
    assert len(word) - len(stem) <= 22
    assert stem == word if len(word) <= 2 else len(stem) >= 1


@given(st.lists(st.sampled_from(sorted(PORTER)), max_size=12))
def test_tokenize_stems_each_kept_word(chosen: list[str]) -> None:
    expected = [
        stem
        for stem in (porter_stem(w) for w in chosen if w not in STOPWORDS and len(w) >= 2)
        if 2 <= len(stem) <= STEM_CHARS_MAX
    ]
    assert tokenize(" ".join(w.upper() for w in chosen)) == expected


@given(st.text(max_size=200))
def test_tokenize_output_shape(text: str) -> None:
    for term in tokenize(text):
        assert 2 <= len(term) <= STEM_CHARS_MAX
        assert term.isalnum()
        assert term not in {"the", "and", "are"}
