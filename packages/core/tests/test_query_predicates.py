"""Predicate building, the wire form, validation at the edge, and legacy ``where``."""

from __future__ import annotations

from typing import get_args

import pytest

from topgun_core.errors import ValidationError
from topgun_core.protocol import PredicateOp
from topgun_core.query import (
    PREDICATE_DEPTH_MAX,
    PREDICATE_VALUES_MAX,
    REGEX_PATTERN_CHARS_MAX,
    P,
    Predicate,
    QuerySpec,
    evaluate,
    predicate_from_wire,
    where_to_predicate,
)


def test_builder_operators_flatten_and_produce_the_wire_form() -> None:
    built = P.eq("age", 3) & P.gt("score", 1) & P.lt("score", 9) | ~P.eq("banned", True)  # noqa: FBT003
    assert built.to_wire() == {
        "op": "or",
        "children": [
            {
                "op": "and",
                "children": [
                    {"op": "eq", "attribute": "age", "value": 3},
                    {"op": "gt", "attribute": "score", "value": 1},
                    {"op": "lt", "attribute": "score", "value": 9},
                ],
            },
            {"op": "not", "children": [{"op": "eq", "attribute": "banned", "value": True}]},
        ],
    }


@pytest.mark.parametrize(
    ("built", "wire"),
    [
        (P.neq("a", 1), {"op": "neq", "attribute": "a", "value": 1}),
        (P.gte("a", 1), {"op": "gte", "attribute": "a", "value": 1}),
        (P.lte("a", "m"), {"op": "lte", "attribute": "a", "value": "m"}),
        (P.between("a", 1, 5), {"op": "between", "attribute": "a", "value": [1, 5]}),
        (P.in_("a", (1, 2)), {"op": "in", "attribute": "a", "value": [1, 2]}),
        (P.like("a", "x%"), {"op": "like", "attribute": "a", "value": "x%"}),
        (P.regex("a", "^x"), {"op": "regex", "attribute": "a", "value": "^x"}),
        (P.contains("a", "x"), {"op": "contains", "attribute": "a", "value": "x"}),
        (P.contains_all("a", ["x"]), {"op": "containsAll", "attribute": "a", "value": ["x"]}),
        (P.contains_any("a", ["x"]), {"op": "containsAny", "attribute": "a", "value": ["x"]}),
        (P.match("a", "fox"), {"op": "match", "attribute": "a", "value": "fox"}),
        (P.match_phrase("a", "q f"), {"op": "matchPhrase", "attribute": "a", "value": "q f"}),
        (P.match_prefix("a", "fo"), {"op": "matchPrefix", "attribute": "a", "value": "fo"}),
        (P.and_(), {"op": "and", "children": []}),
        (P.or_(), {"op": "or", "children": []}),
        (P.not_(P.eq("a", 1)), {"op": "not", "children": [P.eq("a", 1).to_wire()]}),
    ],
)
def test_every_builder_round_trips_through_the_wire(built: Predicate, wire: object) -> None:
    assert built.to_wire() == wire
    assert isinstance(wire, dict)
    assert predicate_from_wire(wire).to_wire() == wire


def test_every_op_is_accepted_on_the_wire() -> None:
    # SEMANTICS §8 fix: the reference schema rejected half of them.
    ops = get_args(PredicateOp)
    assert len(ops) == 19
    for op in ops:
        if op in ("and", "or"):
            node: dict[str, object] = {"op": op, "children": []}
        elif op == "not":
            node = {"op": op, "children": [{"op": "eq", "attribute": "a", "value": 1}]}
        elif op == "between":
            node = {"op": op, "attribute": "a", "value": [1, 2]}
        elif op in ("in", "containsAll", "containsAny"):
            node = {"op": op, "attribute": "a", "value": [1]}
        else:
            node = {"op": op, "attribute": "a", "value": "x"}
        assert predicate_from_wire(node).op == op


@pytest.mark.parametrize(
    ("node", "field"),
    [
        ({"op": "nope", "attribute": "a", "value": 1}, "predicate.op"),
        ({"op": "EQ", "attribute": "a", "value": 1}, "predicate.op"),
        ({"attribute": "a", "value": 1}, "predicate.op"),
        (
            {"op": "and", "children": [{"op": "eq", "attribute": "a", "value": 1}, {"op": "x"}]},
            "predicate.children.1.op",
        ),
        ({"op": "eq", "value": 1}, "predicate.attribute"),
        ({"op": "eq", "attribute": "", "value": 1}, "predicate.attribute"),
        ({"op": "eq", "attribute": "a"}, "predicate.value"),
        ({"op": "gt", "attribute": "a", "value": True}, "predicate.value"),
        ({"op": "gt", "attribute": "a", "value": [1]}, "predicate.value"),
        ({"op": "gt", "attribute": "a", "value": float("nan")}, "predicate.value"),
        ({"op": "between", "attribute": "a", "value": [1]}, "predicate.value"),
        ({"op": "between", "attribute": "a", "value": [1, "z"]}, "predicate.value"),
        ({"op": "in", "attribute": "a", "value": 1}, "predicate.value"),
        ({"op": "like", "attribute": "a", "value": 1}, "predicate.value"),
        ({"op": "like", "attribute": "a", "value": "50\\"}, "predicate.value"),
        ({"op": "like", "attribute": "a", "value": "\\x"}, "predicate.value"),
        ({"op": "regex", "attribute": "a", "value": "("}, "predicate.value"),
        ({"op": "match", "attribute": "a", "value": 3}, "predicate.value"),
        ({"op": "not", "children": []}, "predicate.children"),
        ({"op": "and", "children": {}}, "predicate.children"),
        ({"op": "and", "attribute": "a", "children": []}, "predicate"),
        ({"op": "eq", "attribute": "a", "value": 1, "children": []}, "predicate.children"),
        ({"op": "eq", "attribute": "a", "value": 1, "extra": 2}, "predicate"),
        ({"op": "eq", "attribute": "a", "value": {1: 2}}, "predicate.value"),
        ({"op": "eq", "attribute": "a", "value": {1, 2}}, "predicate.value"),
    ],
)
def test_invalid_nodes_are_validation_errors_naming_the_path(node: object, field: str) -> None:
    assert isinstance(node, dict)
    with pytest.raises(ValidationError) as info:
        predicate_from_wire(node)
    assert info.value.field == field
    assert info.value.code == 400


def test_evaluate_validates_wire_dicts_too() -> None:
    with pytest.raises(ValidationError, match="unknown operator"):
        evaluate({"op": "near", "attribute": "a", "value": 1}, {"a": 1})


def test_builders_validate_their_operands() -> None:
    with pytest.raises(ValidationError):
        P.gt("a", [1])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        P.like("a", "trailing\\")
    with pytest.raises(ValidationError):
        P.regex("a", "x" * (REGEX_PATTERN_CHARS_MAX + 1))
    with pytest.raises(ValidationError):
        P.in_("a", list(range(PREDICATE_VALUES_MAX + 1)))
    with pytest.raises(ValidationError):
        P.eq("", 1)
    P.regex("a", "x" * REGEX_PATTERN_CHARS_MAX)  # exactly at the limit is fine


def test_depth_is_bounded_before_recursion_can_exhaust_the_stack() -> None:
    node: dict[str, object] = {"op": "eq", "attribute": "a", "value": 1}
    for _ in range(5_000):
        node = {"op": "not", "children": [node]}
    with pytest.raises(ValidationError, match="deeper"):
        predicate_from_wire(node)
    built = P.eq("a", 1)
    for _ in range(PREDICATE_DEPTH_MAX - 1):
        built = ~built
    assert built.depth == PREDICATE_DEPTH_MAX
    with pytest.raises(ValidationError, match="deeper"):
        ~built  # noqa: B018


def test_node_count_is_bounded() -> None:
    leaves = [P.eq("a", i) for i in range(600)]
    with pytest.raises(ValidationError, match="nodes"):
        P.or_(*leaves) | P.or_(*leaves)


def test_attributes_lists_every_path_read() -> None:
    built = P.eq("a.b", 1) & (P.gt("c", 2) | ~P.contains("d", "x"))
    assert built.attributes() == {"a.b", "c", "d"}


def test_repr_reads_like_the_builders() -> None:
    assert repr(P.in_("a", [1]) & P.between("b", 1, 2)) == (
        "P.and_(P.in_('a', [1]), P.between('b', 1, 2))"
    )


# ---------------------------------------------------------------- legacy where


def test_where_literals_become_eq_and_operators_translate() -> None:
    translated = where_to_predicate(
        {"status": "active", "age": {"$gte": 18, "$lt": 65}, "role": {"$in": ["a", "b"]}}
    )
    assert translated.to_wire() == {
        "op": "and",
        "children": [
            {"op": "eq", "attribute": "status", "value": "active"},
            {"op": "gte", "attribute": "age", "value": 18},
            {"op": "lt", "attribute": "age", "value": 65},
            {"op": "in", "attribute": "role", "value": ["a", "b"]},
        ],
    }
    assert where_to_predicate({"x": {"$ne": 1}, "y": {"$gt": 0, "$lte": 2}}).to_wire()[
        "children"
    ] == [
        {"op": "neq", "attribute": "x", "value": 1},
        {"op": "gt", "attribute": "y", "value": 0},
        {"op": "lte", "attribute": "y", "value": 2},
    ]


def test_where_without_dollar_keys_is_a_deep_literal() -> None:
    translated = where_to_predicate({"address": {"city": "Paris"}})
    assert translated.to_wire()["children"] == [
        {"op": "eq", "attribute": "address", "value": {"city": "Paris"}}
    ]
    assert evaluate(translated, {"address": {"city": "Paris"}})
    assert not evaluate(translated, {"address": {"city": "Paris", "zip": "75"}})


def test_empty_where_matches_everything() -> None:
    assert evaluate(where_to_predicate({}), {"anything": 1})


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ({"age": {"$regex": "x"}}, "where.age.$regex"),
        ({"age": {"$gt": 1, "plain": 2}}, "where.age"),
        ({"age": {"$in": 3}}, "where.age.$in.value"),
        ({"age": {"$gt": [1]}}, "where.age.$gt.value"),
        ({"": 1}, "where"),
    ],
)
def test_bad_where_is_a_validation_error(where: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        where_to_predicate(where)
    assert info.value.field == field


def test_query_spec_joins_predicate_and_where() -> None:
    spec = QuerySpec.from_wire(
        {
            "predicate": {"op": "eq", "attribute": "a", "value": 1},
            "where": {"b": 2},
            "sort": {"b": "desc", "a": "asc"},
            "limit": 5,
        }
    )
    assert spec.predicate is not None
    assert evaluate(spec.predicate, {"a": 1, "b": 2})
    assert not evaluate(spec.predicate, {"a": 1, "b": 3})
    assert spec.sort == (("b", "desc"), ("a", "asc"))
    assert spec.limit == 5
    assert QuerySpec.from_wire(spec.to_wire()).to_wire() == spec.to_wire()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": {"a": "up"}}, "query.sort.a"),
        ({"sort": [1]}, "query.sort"),
        ({"limit": 0}, "query.limit"),
        ({"limit": -1}, "query.limit"),
        ({"limit": "5"}, "query.limit"),
        ({"cursor": 5}, "query.cursor"),
        ({"where": []}, "query.where"),
        ({"predicate": {"op": "zz"}}, "query.predicate.op"),
        ({"order": {}}, "query"),
        ({"sort": {f"f{i}": "asc" for i in range(9)}}, "query.sort"),
    ],
)
def test_bad_queries_are_validation_errors(query: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        QuerySpec.from_wire(query)
    assert info.value.field == field


def test_query_spec_accepts_sort_as_pairs_or_a_dict() -> None:
    as_list = QuerySpec(sort=[("a", "desc"), ("b", "asc")])  # type: ignore[arg-type]
    as_dict = QuerySpec(sort={"a": "desc", "b": "asc"})  # type: ignore[arg-type]
    assert as_list.sort == as_dict.sort == (("a", "desc"), ("b", "asc"))
    with pytest.raises(ValidationError):
        QuerySpec(sort=[("a", "desc"), ("a", "asc")])  # type: ignore[arg-type]
