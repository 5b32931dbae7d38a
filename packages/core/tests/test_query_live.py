"""Live queries: initial snapshot, ENTER / UPDATE / LEAVE, windows, routing and bounds."""

from __future__ import annotations

import pytest

from topgun_core.errors import ConflictError, LimitExceeded, ValidationError
from topgun_core.query import (
    Delta,
    HashIndex,
    IndexedMap,
    LiveQuery,
    LiveQueryRegistry,
    P,
    QueryLimits,
    QuerySpec,
    changed_attributes,
    execute,
)
from topgun_core.testing import FakeClock
from topgun_core.values import JsonValue


def changes(deltas: list[Delta]) -> list[tuple[str, str]]:
    return [(d.change, d.key) for d in deltas]


def test_enter_update_leave_without_a_window() -> None:
    records: dict[str, JsonValue] = {"a": {"age": 40}, "b": {"age": 10}}
    live = LiveQuery(QuerySpec(P.gt("age", 30)), records)
    assert live.results == [("a", {"age": 40})]
    assert changes(live.apply("b", {"age": 31})) == [("ENTER", "b")]
    assert changes(live.apply("b", {"age": 32})) == [("UPDATE", "b")]
    assert changes(live.apply("a", {"age": 1})) == [("LEAVE", "a")]
    assert changes(live.apply("a", {"age": 2})) == []
    assert live.apply("b", None) == [Delta("b", None, "LEAVE")]
    assert live.results == []


def test_delta_wire_form() -> None:
    assert Delta("k", {"v": 1}, "ENTER").to_wire("q1") == {
        "queryId": "q1",
        "key": "k",
        "value": {"v": 1},
        "changeType": "ENTER",
    }


def window() -> tuple[LiveQuery, dict[str, JsonValue]]:
    records: dict[str, JsonValue] = {f"k{i}": {"score": i} for i in range(6)}
    live = LiveQuery(QuerySpec(sort=(("score", "desc"),), limit=3), records)
    return live, records


def test_window_is_the_first_page() -> None:
    live, records = window()
    assert [k for k, _ in live.results] == ["k5", "k4", "k3"]
    assert live.has_more
    assert len(live) == 6
    assert live.results == execute(QuerySpec(sort=(("score", "desc"),), limit=3), records).results


def test_leaving_the_window_pulls_the_next_row_in() -> None:
    live, _ = window()
    deltas = live.apply("k4", None)
    assert changes(deltas) == [("LEAVE", "k4"), ("ENTER", "k2")]
    assert deltas[1].value == {"score": 2}
    assert [k for k, _ in live.results] == ["k5", "k3", "k2"]


def test_sorting_out_of_the_window_is_a_leave_and_an_enter() -> None:
    live, _ = window()
    deltas = live.apply("k5", {"score": -1})
    assert changes(deltas) == [("LEAVE", "k5"), ("ENTER", "k2")]
    assert deltas[0].value == {"score": -1}


def test_entering_the_window_pushes_the_last_row_out() -> None:
    live, _ = window()
    assert changes(live.apply("k0", {"score": 99})) == [("LEAVE", "k3"), ("ENTER", "k0")]
    assert changes(live.apply("new", {"score": 4.5})) == [("LEAVE", "k4"), ("ENTER", "new")]
    assert [k for k, _ in live.results] == ["k0", "k5", "new"]


def test_moving_inside_the_window_is_an_update() -> None:
    live, _ = window()
    assert changes(live.apply("k3", {"score": 100})) == [("UPDATE", "k3")]
    assert [k for k, _ in live.results] == ["k3", "k5", "k4"]


def test_changes_beyond_the_window_are_silent() -> None:
    live, _ = window()
    assert live.apply("k1", {"score": 1.5}) == []
    assert live.apply("k0", None) == []
    assert live.apply("other", {"score": -5}) == []


def test_a_shrinking_set_leaves_without_replacement() -> None:
    records: dict[str, JsonValue] = {"a": {"s": 1}, "b": {"s": 2}}
    live = LiveQuery(QuerySpec(sort=(("s", "asc"),), limit=3), records)
    assert changes(live.apply("a", None)) == [("LEAVE", "a")]
    assert not live.has_more


def test_next_cursor_continues_after_the_window() -> None:
    live, records = window()
    clock = FakeClock(1_000)
    cursor = live.next_cursor(clock)
    assert cursor is not None
    spec = QuerySpec(sort=(("score", "desc"),), limit=3, cursor=cursor)
    assert [k for k, _ in execute(spec, records, clock=clock).results] == ["k2", "k1", "k0"]
    live.apply("k0", None)
    live.apply("k1", None)
    live.apply("k2", None)
    assert live.next_cursor(clock) is None


def test_a_live_query_starts_with_a_bounded_matching_set() -> None:
    records: dict[str, JsonValue] = {f"k{i}": {"v": i} for i in range(10)}
    limits = QueryLimits(live_rows_max=9)
    with pytest.raises(LimitExceeded) as info:
        LiveQuery(QuerySpec(), records, limits=limits)
    assert info.value.limit == "live_rows_max"
    live = LiveQuery(QuerySpec(P.lt("v", 9)), records, limits=limits)
    assert len(live) == 9


def test_a_live_query_has_no_cursor() -> None:
    with pytest.raises(ValidationError) as info:
        LiveQuery({"cursor": "abc"}, {})
    assert info.value.field == "query.cursor"


def test_initial_result_can_come_from_indexes() -> None:
    users = IndexedMap({f"k{i}": {"team": i % 10} for i in range(500)})
    users.add_index(HashIndex("team"))
    live = LiveQuery(QuerySpec(P.eq("team", 3)), users.records, indexes=users.indexes)
    assert len(live) == 50


# ---------------------------------------------------------------- registry


def test_changed_attributes() -> None:
    assert changed_attributes({"a": 1, "b": [1]}, {"a": 1.0, "b": [2], "c": None}) == {"b", "c"}
    assert changed_attributes({"a": 1}, {}) == {"a"}
    assert changed_attributes(None, {"a": 1}) is None
    assert changed_attributes({"a": 1}, [1]) is None


def test_registry_routes_only_to_queries_that_can_change() -> None:
    records: dict[str, JsonValue] = {
        "u1": {"team": "red", "age": 30, "name": "ann"},
        "u2": {"team": "blue", "age": 50, "name": "bob"},
    }
    registry = LiveQueryRegistry()
    registry.subscribe("red", QuerySpec(P.eq("team", "red")), records)  # equality anchor
    registry.subscribe("old", QuerySpec(P.gt("age", 40)), records)  # range anchor
    registry.subscribe("named", QuerySpec(P.like("name", "a%") & P.gt("age", 0)), records)
    registry.subscribe("bees", QuerySpec(P.like("name", "b%")), records)  # attribute routed
    registry.subscribe("all", QuerySpec(), records)  # no attributes: every write
    # An edit of a field nobody filters on reaches the holders of the key only.
    note = {**records["u2"], "note": "x"}
    assert registry.affected("u2", records["u2"], note) == {"old", "bees", "all"}
    # A value with team=red reaches the anchored query through the hash route.
    moved = {"team": "red", "age": 50, "name": "bob"}
    assert registry.affected("u2", records["u2"], moved) == {"red", "old", "bees", "all"}
    # An age change reaches the range queries whose interval holds the new age.
    younger = {"team": "blue", "age": 20, "name": "bob"}
    assert registry.affected("u2", records["u2"], younger) == {"old", "named", "bees", "all"}
    # An insert reaches the unanchored queries, the matching anchors and ranges.
    fresh = {"team": "green", "age": 1, "name": "cy"}
    assert registry.affected("u3", None, fresh) == {"named", "bees", "all"}
    unnamed = {"team": "green", "age": "n/a"}
    assert registry.affected("u3", None, unnamed) == {"bees", "all"}
    # A delete reaches the holders only.
    assert registry.affected("u1", records["u1"], None) == {"red", "named", "all"}


def test_range_routing_handles_open_empty_and_string_ranges() -> None:
    registry = LiveQueryRegistry()
    registry.subscribe("low", QuerySpec(P.lte("v", 10)), {})
    registry.subscribe("mid", QuerySpec(P.between("v", 5, 7)), {})
    registry.subscribe("empty", QuerySpec(P.between("v", 7, 5)), {})
    registry.subscribe("words", QuerySpec(P.gte("v", "m")), {})
    registry.subscribe("nested", QuerySpec(P.lt("a.b", 0) & P.like("c", "x%")), {})
    assert registry.affected("k", None, {"v": 6}) == {"low", "mid"}
    assert registry.affected("k", None, {"v": 7.0}) == {"low", "mid"}
    assert registry.affected("k", None, {"v": 11}) == set()
    assert registry.affected("k", None, {"v": -1e9}) == {"low"}
    assert registry.affected("k", None, {"v": "z"}) == {"words"}
    assert registry.affected("k", None, {"v": "a"}) == set()
    assert registry.affected("k", None, {"v": True}) == set()
    assert registry.affected("k", None, {"v": float("nan")}) == set()
    assert registry.affected("k", None, {"a": {"b": -1}}) == {"nested"}
    registry.unsubscribe("mid")
    registry.unsubscribe("low")
    assert registry.affected("k", None, {"v": 6}) == set()
    assert registry.affected("k", None, {"v": "zz"}) == {"words"}


def test_registry_apply_emits_deltas_per_query_in_id_order() -> None:
    records: dict[str, JsonValue] = {"u1": {"team": "red"}}
    registry = LiveQueryRegistry()
    live_red = registry.subscribe("q-red", QuerySpec(P.eq("team", "red")), records)
    registry.subscribe("q-any", QuerySpec(P.in_("team", ["red", "blue"])), records)
    assert live_red.results == [("u1", {"team": "red"})]
    out = registry.apply("u2", None, {"team": "red"})
    assert [(q, d.change, d.key) for q, d in out] == [
        ("q-any", "ENTER", "u2"),
        ("q-red", "ENTER", "u2"),
    ]
    out = registry.apply("u1", {"team": "red"}, {"team": "blue"})
    assert [(q, d.change) for q, d in out] == [("q-any", "UPDATE"), ("q-red", "LEAVE")]
    out = registry.apply("u1", {"team": "blue"}, {"team": "red"})
    assert [(q, d.change) for q, d in out] == [("q-any", "UPDATE"), ("q-red", "ENTER")]


def test_unsubscribe_stops_routing() -> None:
    registry = LiveQueryRegistry()
    registry.subscribe("a", QuerySpec(P.eq("x", 1)), {"k": {"x": 1}})
    registry.subscribe("b", QuerySpec(P.gt("y", 1)), {"k": {"x": 1}})
    assert "a" in registry
    assert list(registry) == ["a", "b"]
    assert registry.unsubscribe("a")
    assert not registry.unsubscribe("a")
    assert registry.get("a") is None
    assert registry.apply("k", {"x": 1}, None) == []
    assert registry.affected("z", None, {"x": 1, "y": 2}) == {"b"}
    assert registry.unsubscribe("b")
    assert registry.affected("z", None, {"x": 1, "y": 2}) == set()
    assert len(registry) == 0


def test_registry_is_bounded_and_ids_are_unique() -> None:
    registry = LiveQueryRegistry(limits=QueryLimits(live_queries_max=2))
    registry.subscribe("a", QuerySpec(), {})
    with pytest.raises(ConflictError):
        registry.subscribe("a", QuerySpec(), {})
    registry.subscribe("b", QuerySpec(), {})
    with pytest.raises(LimitExceeded) as info:
        registry.subscribe("c", QuerySpec(), {})
    assert info.value.limit == "live_queries_max"
    assert info.value.code == 413
    registry.unsubscribe("a")
    registry.subscribe("c", QuerySpec(), {})


def test_eq_null_anchor_never_routes_new_rows() -> None:
    registry = LiveQueryRegistry()
    registry.subscribe("n", QuerySpec(P.eq("x", None)), {})
    assert registry.affected("k", None, {"x": None}) == set()
