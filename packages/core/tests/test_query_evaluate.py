"""SEMANTICS.md §8 predicate rules as a table of edge cases.

Each row is (predicate, value, expected). Builder predicates and their wire dicts
must agree, so every row is evaluated both ways.
"""

from __future__ import annotations

import pytest

from topgun_core.query import P, Predicate, evaluate
from topgun_core.values import JsonValue

DOC: JsonValue = {
    "name": "Alice Smith",
    "age": 30,
    "score": 7.5,
    "one_float": 1.0,
    "active": True,
    "nothing": None,
    "tags": ["Red", "blue", 3, None, [1, 2], {"k": "V"}],
    "email": "alice_1%@example.com",
    "path": "C:\\temp",
    "address": {"city": "Paris", "geo": {"lat": 48.8}},
    "items": [{"sku": "a"}, {"sku": "b"}],
    "nan": float("nan"),
    "blob": b"\x00\x01",
}

CASES: list[tuple[str, Predicate, bool]] = [
    # eq is strict; numbers compare by value; booleans are not numbers
    ("eq int", P.eq("age", 30), True),
    ("eq int vs float", P.eq("age", 30.0), True),
    ("eq float vs int", P.eq("one_float", 1), True),
    ("eq number vs string", P.eq("age", "30"), False),
    ("eq true vs 1", P.eq("active", 1), False),
    ("eq 1 vs true", P.eq("one_float", True), False),  # noqa: FBT003
    ("eq bool", P.eq("active", True), True),  # noqa: FBT003
    ("eq list deep", P.eq("tags", ["Red", "blue", 3, None, [1, 2], {"k": "V"}]), True),
    ("eq list order matters", P.eq("tags", ["blue", "Red", 3, None, [1, 2], {"k": "V"}]), False),
    ("eq dict deep", P.eq("address", {"city": "Paris", "geo": {"lat": 48.8}}), True),
    ("eq bytes", P.eq("blob", b"\x00\x01"), True),
    # null and missing: every comparison is false, neq included
    ("eq null value", P.eq("nothing", None), False),
    ("eq missing", P.eq("missing", None), False),
    ("eq missing vs 1", P.eq("missing", 1), False),
    ("neq present", P.neq("age", 31), True),
    ("neq different type", P.neq("age", "30"), True),
    ("neq equal", P.neq("age", 30.0), False),
    ("neq missing", P.neq("missing", 1), False),
    ("neq null attribute", P.neq("nothing", 1), False),
    ("neq null operand", P.neq("age", None), False),
    ("gt missing", P.gt("missing", 1), False),
    ("lt null", P.lt("nothing", 1), False),
    ("not of missing eq", ~P.eq("missing", 1), True),
    # NaN equals and orders with nothing
    ("eq nan", P.eq("nan", float("nan")), False),
    ("gt nan", P.gt("nan", 0), False),
    ("lt nan", P.lt("nan", 0), False),
    ("neq nan", P.neq("nan", 1), False),
    # ordering: numbers with numbers, strings with strings, never across
    ("gt", P.gt("age", 29), True),
    ("gt equal", P.gt("age", 30), False),
    ("gte equal", P.gte("age", 30), True),
    ("lt float", P.lt("score", 7.6), True),
    ("lte equal", P.lte("score", 7.5), True),
    ("gt string vs number", P.gt("age", "1"), False),
    ("gt number vs string", P.gt("name", 1), False),
    ("gt bool", P.gt("active", 0), False),
    ("string order", P.gt("name", "Alice"), True),
    ("string order is case-sensitive", P.lt("name", "alice"), True),
    ("between inclusive low", P.between("age", 30, 40), True),
    ("between inclusive high", P.between("age", 20, 30), True),
    ("between outside", P.between("age", 31, 40), False),
    ("between reversed bounds", P.between("age", 40, 20), False),
    ("between strings", P.between("name", "A", "B"), True),
    ("between type mismatch", P.between("name", 1, 100), False),
    # in
    ("in hit", P.in_("age", [1, 30]), True),
    ("in float hit", P.in_("age", [30.0]), True),
    ("in miss by type", P.in_("age", ["30"]), False),
    ("in empty", P.in_("age", []), False),
    ("in null", P.in_("nothing", [None]), False),
    ("in missing", P.in_("missing", [1]), False),
    # and / or / not
    ("empty and", P.and_(), True),
    ("empty or", P.or_(), False),
    ("not empty or", ~P.or_(), True),
    ("and", P.eq("age", 30) & P.eq("active", True), True),  # noqa: FBT003
    ("and one false", P.eq("age", 30) & P.eq("active", False), False),  # noqa: FBT003
    ("or", P.eq("age", 1) | P.eq("active", True), True),  # noqa: FBT003
    ("single-child and", P.and_(P.eq("age", 30)), True),
    # nested paths: dicts by name, lists by decimal index
    ("nested", P.eq("address.city", "Paris"), True),
    ("deeper", P.gt("address.geo.lat", 48), True),
    ("nested missing", P.eq("address.zip", "75"), False),
    ("through a scalar", P.eq("age.x", 1), False),
    ("list index", P.eq("tags.1", "blue"), True),
    ("list index in objects", P.eq("items.1.sku", "b"), True),
    ("list index out of range", P.eq("tags.99", "blue"), False),
    ("negative index is not an index", P.eq("tags.-1", "V"), False),
    ("name is not an index", P.eq("tags.first", "Red"), False),
    # contains on strings: case-insensitive substring
    ("contains substring", P.contains("name", "ice sm"), True),
    ("contains ignores case", P.contains("name", "ALICE"), True),
    ("contains empty string", P.contains("name", ""), True),
    ("contains absent", P.contains("name", "bob"), False),
    ("contains number in string", P.contains("name", 1), False),
    # contains on lists: element membership, strings case-insensitive
    ("contains element", P.contains("tags", "red"), True),
    ("contains is not substring of elements", P.contains("tags", "re"), False),
    ("contains number element", P.contains("tags", 3.0), True),
    ("contains number as string", P.contains("tags", "3"), False),
    ("contains list element", P.contains("tags", [1, 2]), True),
    ("contains dict element is exact", P.contains("tags", {"k": "v"}), False),
    ("contains dict element", P.contains("tags", {"k": "V"}), True),
    ("contains null never", P.contains("tags", None), False),
    ("contains on number", P.contains("age", 3), False),
    ("contains on missing", P.contains("missing", "a"), False),
    ("containsAll list", P.contains_all("tags", ["RED", "Blue", 3]), True),
    ("containsAll list miss", P.contains_all("tags", ["red", "green"]), False),
    ("containsAll string", P.contains_all("name", ["alice", "SMITH"]), True),
    ("containsAll empty on list", P.contains_all("tags", []), True),
    ("containsAll empty on missing", P.contains_all("missing", []), False),
    ("containsAny list", P.contains_any("tags", ["green", "BLUE"]), True),
    ("containsAny string", P.contains_any("name", ["bob", "smith"]), True),
    ("containsAny none", P.contains_any("tags", ["green"]), False),
    ("containsAny empty", P.contains_any("tags", []), False),
    # like: SQL % and _, whole value, case-insensitive, backslash escapes
    ("like prefix", P.like("name", "alice%"), True),
    ("like is full match", P.like("name", "alice"), False),
    ("like suffix", P.like("email", "%@EXAMPLE.com"), True),
    ("like underscore", P.like("name", "_lice smit_"), True),
    ("like underscore needs one char", P.like("name", "alice smith_"), False),
    ("like percent matches empty", P.like("name", "alice% smith"), True),
    ("like many percents", P.like("name", "%%a%%%h"), True),
    ("like literal percent", P.like("email", "alice\\_1\\%@%"), True),
    ("like literal percent mismatch", P.like("email", "alice\\%%"), False),
    ("like escaped underscore is literal", P.like("name", "alice\\_smith"), False),
    ("like literal backslash", P.like("path", "c:\\\\temp"), True),
    ("like regex metacharacters are literal", P.like("email", "alice_1%.com"), True),
    ("like dot is literal", P.like("name", "alice.smith"), False),
    ("like on number", P.like("age", "30"), False),
    ("like empty pattern", P.like("nothing", ""), False),
    # regex: search semantics, case-sensitive
    ("regex search", P.regex("name", "ce Sm"), True),
    ("regex case-sensitive", P.regex("name", "alice"), False),
    ("regex inline flag", P.regex("name", "(?i)alice"), True),
    ("regex anchored start", P.regex("name", "^Alice"), True),
    ("regex anchored start miss", P.regex("name", "^Smith"), False),
    ("regex anchored end", P.regex("name", "Smith$"), True),
    ("regex full", P.regex("name", "^A.*h$"), True),
    ("regex on number", P.regex("age", "3"), False),
    ("regex on list", P.regex("tags", "Red"), False),
]


@pytest.mark.parametrize(
    ("predicate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_edge_case(predicate: Predicate, expected: bool) -> None:
    assert evaluate(predicate, DOC) is expected
    assert evaluate(predicate.to_wire(), DOC) is expected


@pytest.mark.parametrize("value", [None, 3, "text", [1, 2], True, b"x"])
def test_non_object_values_have_no_attributes(value: JsonValue) -> None:
    assert not evaluate(P.eq("a", 1), value)
    assert not evaluate(P.neq("a", 1), value)
    assert evaluate(~P.eq("a", 1), value)
    assert evaluate(P.and_(), value)


def test_a_dotted_key_cannot_be_addressed() -> None:
    assert not evaluate(P.eq("a.b", 1), {"a.b": 1})
    assert evaluate(P.eq("a.b", 1), {"a": {"b": 1}})


def test_evaluation_never_raises_on_odd_values() -> None:
    odd: list[JsonValue] = [{"a": v} for v in (None, [], {}, b"", float("inf"), -0.0, "", 2**70)]
    predicates = [
        P.gt("a", 1),
        P.eq("a", 0),
        P.like("a", "%"),
        P.regex("a", "."),
        P.contains("a", "x"),
        P.contains_all("a", [None]),
        P.in_("a", [None, [], {}]),
        P.between("a", "a", "z"),
    ]
    for value in odd:
        for predicate in predicates:
            evaluate(predicate, value)
    assert evaluate(P.eq("a", 0), {"a": -0.0})
    assert evaluate(P.gt("a", 2**69), {"a": 2**70})
    assert evaluate(P.eq("a", []), {"a": []})
    assert not evaluate(P.eq("a", [None]), {"a": [float("nan")]})
