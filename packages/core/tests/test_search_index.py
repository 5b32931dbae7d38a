"""FullTextIndex: BM25 scores computed by hand, boosts, limits, phrase and prefix queries."""

from __future__ import annotations

import math

import pytest

from topgun_core.search import FullTextIndex, SearchHit, bm25_idf

IDF_FOX = math.log(1.6)  # N = 3, df = 2: ln((3 - 2 + 0.5)/(2 + 0.5) + 1)
IDF_RARE = math.log(8 / 3)  # N = 3, df = 1: ln((3 - 1 + 0.5)/(1 + 0.5) + 1)


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-12)


def test_idf_vector() -> None:
    assert bm25_idf(10, 2) == pytest.approx(math.log(4.4))
    assert round(bm25_idf(10, 2), 5) == 1.48160
    assert bm25_idf(3, 2) == approx(IDF_FOX)
    assert bm25_idf(1, 1) > 0  # a term in every document still scores


@pytest.fixture
def tiny() -> FullTextIndex:
    # body lengths 1, 3, 2: N = 3, avgdl = 2
    index = FullTextIndex(["body"])
    index.add("d1", {"body": "fox"})
    index.add("d2", {"body": "Quick fox, fox!"})
    index.add("d3", {"body": "lazy dog"})
    return index


def test_bm25_scores_by_hand(tiny: FullTextIndex) -> None:
    # tf (k1 + 1) / (tf + k1 (1 - b + b dl/avgdl)), k1 = 1.2, b = 0.75
    d1 = IDF_FOX * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 1 / 2))  # = IDF_FOX * 2.2 / 1.75
    d2 = IDF_FOX * 4.4 / (2 + 1.2 * (0.25 + 0.75 * 3 / 2))  # = IDF_FOX * 4.4 / 3.65
    hits = tiny.search("foxes")
    assert [h.doc_id for h in hits] == ["d1", "d2"]  # the short document wins
    assert hits[0].score == approx(d1)
    assert hits[1].score == approx(d2)
    assert round(hits[0].score, 10) == 0.5908617053
    assert hits == [SearchHit("d1", hits[0].score, ("fox",)), SearchHit("d2", d2, ("fox",))]


def test_query_terms_add_up_and_are_deduplicated(tiny: FullTextIndex) -> None:
    quick = math.log(2.5 / 1.5 + 1) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 3 / 2))
    fox = IDF_FOX * 4.4 / 3.65
    hits = tiny.search("quick fox FOX quickly the")
    assert hits[0] == SearchHit("d2", hits[0].score, ("quick", "fox"))
    assert hits[0].score == approx(quick + fox)
    assert tiny.search("fox fox") == tiny.search("fox")
    assert [h.matched_terms for h in hits] == [("quick", "fox"), ("fox",)]


def test_nothing_to_find(tiny: FullTextIndex) -> None:
    assert tiny.search("") == []
    assert tiny.search("the of and") == []
    assert tiny.search("unicorn") == []
    assert FullTextIndex(["body"]).search("fox") == []


def test_limit_min_score_and_ties() -> None:
    index = FullTextIndex(["body"])
    for doc_id in ["c", "a", "d", "b"]:
        index.add(doc_id, {"body": "same words"})
    index.add("e", {"body": "words and more words here"})  # [word, word]: tf 2, same length
    hits = index.search("words")
    assert [h.doc_id for h in hits] == ["e", "a", "b", "c", "d"]  # ties by id
    assert len({h.score for h in hits[1:]}) == 1
    assert hits[0].score > hits[1].score
    assert [h.doc_id for h in index.search("words", limit=3)] == ["e", "a", "b"]
    assert index.search("words", limit=0) == []
    assert index.search("words", limit=99) == hits
    threshold = (hits[0].score + hits[1].score) / 2
    assert [h.doc_id for h in index.search("words", min_score=threshold)] == ["e"]
    assert index.search("words", min_score=hits[1].score) == hits  # inclusive
    assert index.search("words", min_score=hits[0].score * 2) == []


@pytest.fixture
def fielded() -> FullTextIndex:
    index = FullTextIndex(["title", "body"])
    index.add("a", {"title": "fox", "body": "dog"})
    index.add("b", {"title": "dog", "body": "fox fox"})
    index.add("c", {"title": "cat", "body": "cat"})
    return index


def test_combined_index_scores_without_boost(fielded: FullTextIndex) -> None:
    # combined lengths a 2, b 3, c 2: avgdl 7/3; fox is in a and b: idf ln 1.6
    a = IDF_FOX * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / (7 / 3)))
    b = IDF_FOX * 4.4 / (2 + 1.2 * (0.25 + 0.75 * 3 / (7 / 3)))
    hits = fielded.search("fox")
    assert [(h.doc_id, h.score) for h in hits] == [("b", approx(b)), ("a", approx(a))]
    assert fielded.search("fox", boost={}) == hits  # an empty boost is no boost


def test_boosts_weight_per_field_scores(fielded: FullTextIndex) -> None:
    # title: lengths 1, 1, 1, fox in a only; body: lengths 1, 2, 1 (avgdl 4/3), fox in b
    title_a = IDF_RARE * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 1 / 1))
    body_b = IDF_RARE * 4.4 / (2 + 1.2 * (0.25 + 0.75 * 2 / (4 / 3)))
    hits = fielded.search("fox", boost={"title": 3.0})
    assert [(h.doc_id, h.score) for h in hits] == [
        ("a", approx(3 * title_a)),
        ("b", approx(body_b)),
    ]
    hits = fielded.search("fox", boost={"title": 1.0, "body": 1.0})
    assert [(h.doc_id, h.score) for h in hits] == [("b", approx(body_b)), ("a", approx(title_a))]
    # weight 0: the field contributes nothing, not even a match
    hits = fielded.search("fox", boost={"title": 0.0})
    assert [(h.doc_id, h.score) for h in hits] == [("b", approx(body_b))]
    hits = fielded.search("fox dog", boost={"body": 0.0})
    assert [(h.doc_id, h.matched_terms) for h in hits] == [("a", ("fox",)), ("b", ("dog",))]


def test_documents_and_fields() -> None:
    index = FullTextIndex(["meta.title", "body"])
    index.add("nested", {"meta": {"title": "Nested fox"}, "body": 42})
    index.add("numbers", {"meta": {"title": 7}, "body": ["fox"]})  # not strings: ignored
    index.add("flat", {"meta.title": "fox"})  # a dotted name is a path, not a key
    index.add("stops", {"body": "the and of"})  # no terms: not in the index
    assert len(index) == 1
    assert "nested" in index
    assert "stops" not in index
    assert [h.doc_id for h in index.search("fox")] == ["nested"]
    assert index.fields == ("meta.title", "body")
    assert index.term_count == 2


def test_readd_replaces_and_remove(tiny: FullTextIndex) -> None:
    tiny.add("d1", {"body": "lazy cat"})
    assert [h.doc_id for h in tiny.search("fox")] == ["d2"]
    assert [h.doc_id for h in tiny.search("cat")] == ["d1"]
    assert tiny.remove("d1") is True
    assert tiny.remove("d1") is False
    assert tiny.search("cat") == []
    assert len(tiny) == 2
    tiny.add("d2", {"body": ""})  # re-adding with no text removes it
    assert len(tiny) == 1
    assert tiny.term_count == 2  # lazi, dog


def test_phrase() -> None:
    index = FullTextIndex(["title", "body"])
    index.add("a", {"title": "The quick brown fox", "body": "jumps over the lazy dog"})
    index.add("b", {"title": "brown quick fox", "body": "a fox runs quickly, brown"})
    index.add("c", {"title": "quick", "body": "fox jumping brown foxes"})
    index.add("d", {"body": "Bank of America"})

    def ids(phrase: str, **kwargs: str) -> list[str]:
        return sorted(h.doc_id for h in index.match_phrase(phrase, **kwargs))

    assert ids("quick brown fox") == ["a"]
    assert ids("brown foxes") == ["a", "c"]  # terms are stems
    assert ids("fox quick") == []  # order matters
    assert ids("quick fox") == ["b"]  # not in a: brown sits between
    assert ids("quick fox jump") == []  # a phrase never spans two fields
    assert ids("bank america") == ["d"]  # stopwords hold no position
    assert ids("fox", field="body") == ["b", "c"]
    assert ids("fox", field="title") == ["a", "b"]
    assert ids("") == []
    assert ids("the of") == []
    hits = index.match_phrase("brown fox")
    # phrase hits score as a search for the same words would score them
    assert hits == [h for h in index.search("brown fox") if h.doc_id in {"a", "c"}]
    assert index.matching("matchPhrase", "brown fox") == {"a", "c"}
    assert index.matching("matchPhrase", "brown fox", field="title") == {"a"}


def test_phrase_scores_by_the_field_when_asked() -> None:
    index = FullTextIndex(["title", "body"])
    index.add("a", {"title": "red fox", "body": "red fox red fox"})
    only_title = FullTextIndex(["title"])
    only_title.add("a", {"title": "red fox"})
    assert index.match_phrase("red fox", field="title") == only_title.search("red fox")


def test_prefix_expansion_and_cap() -> None:
    index = FullTextIndex(["body"])
    for i in range(30):
        index.add(f"d{i:02}", {"body": f"term{i:02} common"})
    index.add("happy", {"body": "Happiness is here"})
    hits = index.match_prefix("TERM", max_expansions=5)
    assert sorted(h.doc_id for h in hits) == ["d00", "d01", "d02", "d03", "d04"]
    assert {t for h in hits for t in h.matched_terms} == {f"term{i:02}" for i in range(5)}
    assert len(index.match_prefix("term")) == 30  # the default cap is 50
    assert len(index.match_prefix("term", max_expansions=0)) == 0
    assert [h.doc_id for h in index.match_prefix("happy")] == ["happy"]  # via its stem happi
    assert [h.doc_id for h in index.match_prefix("happ")] == ["happy"]
    assert index.match_prefix("") == []
    assert index.match_prefix("term 1") == []  # not one word
    assert index.match_prefix("zzz") == []
    assert index.matching("matchPrefix", "term") == {f"d{i:02}" for i in range(30)}
    assert len(index.matching("matchPrefix", "term", max_expansions=3)) == 3


def test_prefix_respects_field() -> None:
    index = FullTextIndex(["title", "body"])
    index.add("a", {"title": "apple", "body": "banana"})
    index.add("b", {"title": "banana", "body": "apricot"})
    assert [h.doc_id for h in index.match_prefix("ap", field="title")] == ["a"]
    assert sorted(h.doc_id for h in index.match_prefix("ap")) == ["a", "b"]
    # the cap counts only terms that exist in the field
    assert [h.doc_id for h in index.match_prefix("a", field="body", max_expansions=1)] == ["b"]


def test_matching_all_terms() -> None:
    index = FullTextIndex(["title", "body"])
    index.add("a", {"title": "quick fox", "body": "lazy dog"})
    index.add("b", {"title": "quick dog", "body": "slow fox"})
    assert index.matching("match", "fox dog") == {"a", "b"}
    assert index.matching("match", "fox dog", field="title") == set()
    assert index.matching("match", "quick fox", field="title") == {"a"}
    assert index.matching("match", "the") == set()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i: i.search("x", limit=-1), "limit"),
        (lambda i: i.search("x", min_score=math.nan), "min_score"),
        (lambda i: i.search("x", boost={"nope": 2.0}), "not indexed"),
        (lambda i: i.search("x", boost={"title": -1.0}), ">= 0"),
        (lambda i: i.search("x", boost={"title": math.inf}), "finite"),
        (lambda i: i.match_phrase("x", field="nope"), "not indexed"),
        (lambda i: i.match_phrase("x", field="title", boost={"title": 2.0}), "field="),
        (lambda i: i.match_prefix("x", max_expansions=-1), "max_expansions"),
        (lambda i: i.matching("match", "x", field="nope"), "not indexed"),
    ],
)
def test_invalid_arguments(call: object, message: str) -> None:
    index = FullTextIndex(["title", "body"])
    index.add("a", {"title": "x" * 3})
    with pytest.raises(ValueError, match=message):
        call(index)  # type: ignore[operator]


def test_invalid_fields() -> None:
    with pytest.raises(TypeError):
        FullTextIndex("title")
    with pytest.raises(ValueError, match="at least one"):
        FullTextIndex([])
    with pytest.raises(ValueError, match="duplicate"):
        FullTextIndex(["a", "a"])
    with pytest.raises(ValueError, match="empty"):
        FullTextIndex(["a..b"])
