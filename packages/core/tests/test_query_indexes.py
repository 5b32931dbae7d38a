"""Indexes, the registry, IndexedMap and the planner's choices (with explain output)."""

from __future__ import annotations

import pytest

from topgun_core.query import (
    CompoundIndex,
    HashIndex,
    IndexedMap,
    IndexRegistry,
    InvertedIndex,
    NavigableIndex,
    P,
    Predicate,
    QuerySpec,
    execute,
    explain,
)
from topgun_core.values import JsonValue


def people(n: int = 1_000) -> IndexedMap:
    users = IndexedMap()
    for i in range(n):
        users.set(
            f"u{i:04}",
            {
                "age": i % 100,
                "status": ["active", "idle", "banned"][i % 3],
                "team": f"t{i % 10}",
                "tags": [f"tag{i % 5}", "all"],
                "bio": f"user number {i} likes {'cats' if i % 2 else 'dogs'}",
            },
        )
    return users


def scan_keys(users: IndexedMap, predicate: Predicate) -> set[str]:
    return {k for k, _ in execute(QuerySpec(predicate), dict(users.records)).results}


def indexed_keys(users: IndexedMap, predicate: Predicate) -> set[str]:
    return {k for k, _ in users.query(QuerySpec(predicate)).results}


def test_hash_index_answers_eq_in_neq_exactly() -> None:
    index = HashIndex("v")
    values: list[JsonValue] = [1, 1.0, True, "1", None, [1], {"a": 1}, float("nan"), 2]
    for i, v in enumerate(values):
        index.add(f"k{i}", {"v": v})
    index.add("missing", {})
    assert index.lookup(P.eq("v", 1)) == {"k0", "k1"}
    assert index.lookup(P.eq("v", True)) == {"k2"}  # noqa: FBT003
    assert index.lookup(P.eq("v", [1.0])) == {"k5"}
    assert index.lookup(P.eq("v", None)) == set()
    assert index.lookup(P.in_("v", ["1", 2, None])) == {"k3", "k8"}
    assert index.lookup(P.neq("v", 1)) == {"k2", "k3", "k5", "k6", "k8"}
    assert index.lookup(P.neq("v", None)) == set()
    assert index.estimate(P.eq("v", 1)) == 2
    assert index.estimate(P.neq("v", 1)) == 5
    assert len(index) == 7  # null, NaN and missing are not indexed
    index.remove("k0")
    index.remove("never-added")
    assert index.lookup(P.eq("v", 1)) == {"k1"}
    assert not index.supports(P.gt("v", 1))
    assert not index.supports(P.eq("w", 1))


def test_navigable_index_ranges_are_exact_and_typed() -> None:
    index = NavigableIndex("v")
    values: list[JsonValue] = [1, 2.5, 3, 3.0, "a", "b", "c", True, None, float("nan")]
    for i, v in enumerate(values):
        index.add(f"k{i}", {"v": v})
    assert index.lookup(P.gt("v", 2.5)) == {"k2", "k3"}
    assert index.lookup(P.gte("v", 2.5)) == {"k1", "k2", "k3"}
    assert index.lookup(P.lt("v", 3)) == {"k0", "k1"}
    assert index.lookup(P.lte("v", 3)) == {"k0", "k1", "k2", "k3"}
    assert index.lookup(P.between("v", "a", "b")) == {"k4", "k5"}
    assert index.lookup(P.gt("v", "a")) == {"k5", "k6"}
    assert index.lookup(P.between("v", 5, 1)) == set()
    assert index.lookup(P.eq("v", 3)) == {"k2", "k3"}
    assert index.lookup(P.in_("v", [1, "c", None])) == {"k0", "k6"}
    assert index.estimate(P.gte("v", 2.5)) == 3
    assert not index.supports(P.eq("v", True))  # noqa: FBT003
    assert not index.supports(P.in_("v", [True]))
    assert len(index) == 7
    index.remove("k2")
    assert index.lookup(P.gt("v", 2.5)) == {"k3"}


def test_navigable_index_with_an_empty_key_and_duplicates() -> None:
    index = NavigableIndex("v")
    for key in ("", "a", "b"):
        index.add(key, {"v": 5})
    assert index.lookup(P.lte("v", 5)) == {"", "a", "b"}
    assert index.lookup(P.lt("v", 5)) == set()
    assert index.lookup(P.gt("v", 4)) == {"", "a", "b"}


def test_inverted_index_lists_exact_strings_inexact() -> None:
    index = InvertedIndex("t")
    index.add("list", {"t": ["Red", "blue", 3]})
    index.add("text", {"t": "The quick brown fox"})
    index.add("short", {"t": "ox"})
    index.add("other", {"t": 42})
    assert index.lookup(P.contains("t", "red")) >= {"list"}
    assert "list" in index.lookup(P.contains("t", 3.0))
    assert index.exact(P.contains("t", 3))
    assert not index.exact(P.contains("t", "red"))
    assert "text" in index.lookup(P.contains("t", "QUICK"))
    assert "short" not in index.lookup(P.contains("t", "quick"))
    assert index.lookup(P.contains("t", "ox")) >= {"text", "short"}
    assert index.lookup(P.contains_any("t", [])) == set()
    assert index.lookup(P.contains_all("t", [])) == {"list", "text", "short"}
    assert index.lookup(P.contains_all("t", ["red", 3])) == {"list"}
    assert len(index) == 3
    index.remove("text")
    assert "text" not in index.lookup(P.contains("t", "quick"))


def test_compound_index_covers_an_and_of_eqs() -> None:
    index = CompoundIndex("a", "b")
    index.add("x", {"a": 1, "b": "p"})
    index.add("y", {"a": 1, "b": "q"})
    index.add("z", {"a": 1})
    conj = P.eq("b", "p") & P.gt("c", 0) & P.eq("a", 1.0)
    assert index.supports(conj)
    assert index.lookup(conj) == {"x"}
    assert index.estimate(conj) == 1
    assert not index.supports(P.eq("a", 1))
    assert not index.supports(P.eq("a", 1) & P.gt("b", 1))
    assert index.lookup(P.eq("a", None) & P.eq("b", "p")) == set()
    with pytest.raises(ValueError, match="two or more"):
        CompoundIndex("a")


def test_registry_keeps_indexes_current_and_skips_untouched_ones() -> None:
    records: dict[str, JsonValue] = {"k": {"a": 1, "b": 2}}
    registry = IndexRegistry(records)
    by_a = registry.add_index(HashIndex("a"))
    assert registry.add_index(HashIndex("a")) is by_a  # idempotent
    assert registry.has("hash", ("a",))
    assert "hash(a)" in registry
    assert registry.get("hash(a)") is by_a
    assert by_a.lookup(P.eq("a", 1)) == {"k"}
    records["k"] = {"a": 1, "b": 3}
    registry.update("k", {"a": 1, "b": 2}, records["k"])
    records["k"] = {"a": 5}
    registry.update("k", {"a": 1, "b": 3}, records["k"])
    assert by_a.lookup(P.eq("a", 5)) == {"k"}
    registry.update("k", records.pop("k"), None)
    assert len(by_a) == 0
    assert registry.remove_index("hash(a)")
    assert not registry.remove_index("hash(a)")
    assert len(registry) == 0


def test_indexed_map_set_remove_and_views() -> None:
    users = IndexedMap({"a": {"x": 1}, "b": None})
    users.add_index(HashIndex("x"))
    assert len(users) == 1
    assert users.set("a", {"x": 2}) == {"x": 1}
    assert users.remove("a") == {"x": 2}
    assert users.remove("a") is None
    assert "a" not in users
    users.set("c", {"x": 3})
    assert list(users) == ["c"]
    assert users.get("c") == {"x": 3}
    assert indexed_keys(users, P.eq("x", 3)) == {"c"}


# ---------------------------------------------------------------- planner


def plan_of(users: IndexedMap, predicate: Predicate) -> str:
    return str(users.explain(QuerySpec(predicate)))


def test_selective_equality_uses_the_hash_index() -> None:
    users = people()
    users.add_index(HashIndex("team"))
    plan = users.explain(QuerySpec(P.eq("team", "t3")))
    assert plan.kind == "index"
    assert plan.indexes() == ["hash(team)"]
    assert plan.rows == 100
    assert "chosen over a full scan" in plan.note
    assert plan.render().startswith("index eq team via hash(team) (rows≈100")


def test_unselective_predicates_fall_back_to_a_scan() -> None:
    users = people()
    users.add_index(NavigableIndex("age"))
    plan = users.explain(QuerySpec(P.gte("age", 0)))
    assert plan.kind == "scan"
    assert "cheaper than the best index plan" in plan.note


def test_no_index_means_scan() -> None:
    users = people()
    users.add_index(HashIndex("team"))
    plan = users.explain(QuerySpec(P.like("bio", "%cats")))
    assert plan.kind == "scan"
    assert plan.note == "no index applies"
    assert not plan.uses_index


def test_and_intersects_or_filters_and_not_complements() -> None:
    users = people()
    users.add_index(HashIndex("team"))
    users.add_index(NavigableIndex("age"))
    users.add_index(HashIndex("status"))
    both = users.explain(QuerySpec(P.eq("team", "t3") & P.lt("age", 10)))
    assert both.kind == "intersect"
    assert set(both.indexes()) == {"hash(team)", "navigable(age)"}
    assert both.exact
    partial = users.explain(QuerySpec(P.eq("team", "t3") & P.like("bio", "%cats")))
    assert partial.kind == "filter"
    assert partial.children[0].indexes() == ["hash(team)"]
    union = users.explain(QuerySpec(P.eq("team", "t3") | P.lt("age", 2)))
    assert union.kind == "union"
    half_indexed = users.explain(QuerySpec(P.eq("team", "t3") | P.like("bio", "x%")))
    assert half_indexed.kind == "scan"
    complement = users.explain(QuerySpec(~P.neq("team", "t3")))
    assert complement.kind == "complement"


def test_compound_index_is_preferred_for_its_conjunction() -> None:
    users = people()
    users.add_index(HashIndex("team"))
    users.add_index(CompoundIndex("team", "status"))
    plan = users.explain(QuerySpec(P.eq("status", "idle") & P.eq("team", "t4")))
    assert plan.indexes() == ["compound(team, status)"]
    assert plan.exact


def test_explain_to_dict_is_json_ready() -> None:
    users = people(100)
    users.add_index(HashIndex("team"))
    description = users.explain(QuerySpec(P.eq("team", "t1") & P.like("bio", "%cats"))).to_dict()
    assert description["kind"] == "filter"
    children = description["children"]
    assert isinstance(children, list)
    assert children[0]["index"] == "hash(team)"


def test_explain_function_over_a_registry() -> None:
    records: dict[str, JsonValue] = {f"k{i}": {"a": i} for i in range(100)}
    registry = IndexRegistry(records)
    registry.add_index(HashIndex("a"))
    plan = explain({"predicate": P.eq("a", 5).to_wire()}, registry)
    assert plan.kind == "index"
    assert execute({"predicate": P.eq("a", 5).to_wire()}, records, indexes=registry).results == [
        ("k5", {"a": 5})
    ]


@pytest.mark.parametrize(
    "predicate",
    [
        P.eq("team", "t3"),
        P.in_("team", ["t1", "t2", "zz"]),
        P.neq("status", "idle"),
        P.between("age", 10, 20),
        P.gt("age", 97) | P.lt("age", 2),
        ~P.eq("team", "t3"),
        ~(P.eq("team", "t3") & P.like("bio", "%cats")),
        P.contains("tags", "TAG1"),
        P.contains("bio", "number 12"),
        P.contains("bio", "s"),
        P.contains_all("tags", ["tag2", "all"]),
        P.contains_any("tags", ["tag2", "tag3"]),
        P.eq("status", "idle") & P.eq("team", "t4") & P.gte("age", 50),
        P.and_(),
        P.or_(),
        P.eq("status", "active") & (P.lt("age", 5) | P.contains("bio", "cats")),
    ],
)
def test_indexed_results_equal_scan_results(predicate: Predicate) -> None:
    users = people()
    for index in (
        HashIndex("team"),
        HashIndex("status"),
        NavigableIndex("age"),
        InvertedIndex("tags"),
        InvertedIndex("bio"),
        CompoundIndex("status", "team"),
    ):
        users.add_index(index)
    assert indexed_keys(users, predicate) == scan_keys(users, predicate)
