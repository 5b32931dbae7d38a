"""Query execution: sort order, limits, pages and cursors (SEMANTICS.md §8)."""

from __future__ import annotations

import base64
import json

import pytest

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.query import (
    CURSOR_AGE_MS_MAX,
    CursorError,
    P,
    QueryLimits,
    QuerySpec,
    execute,
)
from topgun_core.testing import FakeClock
from topgun_core.values import JsonValue

T0 = 1_700_000_000_000

PEOPLE: dict[str, JsonValue] = {
    "p1": {"name": "ann", "age": 30, "city": "Oslo"},
    "p2": {"name": "bob", "age": 25},
    "p3": {"name": "cid", "age": 30, "city": "Bergen"},
    "p4": {"name": "dan", "age": None, "city": "Oslo"},
    "p5": {"name": "eve", "age": 41.5, "city": "Oslo"},
    "p6": {"name": "fay", "age": "old"},
    "p7": None,  # an absent record (tombstone) never matches
}


def keys(result_rows: list[tuple[str, JsonValue]]) -> list[str]:
    return [k for k, _ in result_rows]


def test_no_sort_orders_by_key_and_skips_absent_records() -> None:
    assert keys(execute({}, PEOPLE).results) == ["p1", "p2", "p3", "p4", "p5", "p6"]
    assert keys(execute({}, list(PEOPLE.items())).results) == ["p1", "p2", "p3", "p4", "p5", "p6"]


def test_sort_ascending_puts_missing_last_and_breaks_ties_by_key() -> None:
    result = execute({"sort": {"age": "asc"}}, PEOPLE)
    # numbers (25, 30, 30, 41.5), then strings ("old"), then null/missing (p4)
    assert keys(result.results) == ["p2", "p1", "p3", "p5", "p6", "p4"]


def test_sort_descending_still_puts_missing_last() -> None:
    result = execute({"sort": {"age": "desc"}}, PEOPLE)
    assert keys(result.results) == ["p6", "p5", "p1", "p3", "p2", "p4"]


def test_multi_field_sort_in_map_order() -> None:
    result = execute({"sort": {"city": "asc", "age": "desc"}}, PEOPLE)
    # Bergen, then Oslo by age desc (41.5, 30, null), then the two without a city
    assert keys(result.results) == ["p3", "p5", "p1", "p4", "p6", "p2"]
    flipped = execute({"sort": {"age": "desc", "city": "asc"}}, PEOPLE)
    assert keys(flipped.results) == ["p6", "p5", "p3", "p1", "p2", "p4"]


def test_sort_ranks_types_booleans_numbers_strings_then_others() -> None:
    rows: dict[str, JsonValue] = {
        "a": {"v": "x"},
        "b": {"v": 2},
        "c": {"v": True},
        "d": {"v": [1]},
        "e": {"v": b"\x01"},
        "f": {"v": {"k": 1}},
        "g": {},
        "h": {"v": False},
        "i": {"v": float("nan")},
    }
    assert keys(execute({"sort": {"v": "asc"}}, rows).results) == [
        "h", "c", "b", "a", "e", "d", "f", "g", "i",
    ]  # fmt: skip
    assert keys(execute({"sort": {"v": "desc"}}, rows).results) == [
        "f", "d", "e", "a", "b", "c", "h", "g", "i",
    ]  # fmt: skip


def test_sort_by_nested_path() -> None:
    rows: dict[str, JsonValue] = {"x": {"a": {"b": 2}}, "y": {"a": {"b": 1}}, "z": {"a": 3}}
    assert keys(execute({"sort": {"a.b": "asc"}}, rows).results) == ["y", "x", "z"]


def test_limit_with_predicate_and_sort() -> None:
    query = QuerySpec(P.eq("city", "Oslo"), sort=(("age", "desc"),), limit=2)
    result = execute(query, PEOPLE, clock=FakeClock(T0))
    assert keys(result.results) == ["p5", "p1"]
    assert result.has_more
    assert result.next_cursor is not None
    assert result.cursor_status == "none"
    assert result.to_wire() == [
        {"key": "p5", "value": PEOPLE["p5"]},
        {"key": "p1", "value": PEOPLE["p1"]},
    ]


def test_last_page_has_no_cursor() -> None:
    result = execute({"limit": 6}, PEOPLE)
    assert len(result.results) == 6
    assert not result.has_more
    assert result.next_cursor is None


def test_limit_without_sort_pages_by_key() -> None:
    # SEMANTICS §8 fix: the reference threw.
    clock = FakeClock(T0)
    first = execute({"limit": 4}, PEOPLE, clock=clock)
    assert keys(first.results) == ["p1", "p2", "p3", "p4"]
    assert first.next_cursor is not None
    second = execute({"limit": 4, "cursor": first.next_cursor}, PEOPLE, clock=clock)
    assert keys(second.results) == ["p5", "p6"]
    assert not second.has_more
    assert second.cursor_status == "valid"


def test_results_max_bounds_every_page() -> None:
    rows: dict[str, JsonValue] = {f"k{i:03}": {"i": i} for i in range(30)}
    limits = QueryLimits(results_max=10)
    unlimited = execute({}, rows, limits=limits, clock=FakeClock(T0))
    assert len(unlimited.results) == 10
    assert unlimited.has_more
    rest = execute({"cursor": unlimited.next_cursor}, rows, limits=limits, clock=FakeClock(T0))
    assert keys(rest.results)[0] == "k010"
    with pytest.raises(LimitExceeded) as info:
        execute({"limit": 11}, rows, limits=limits)
    assert info.value.limit == "results_max"
    assert info.value.code == 413


def _all_pages(query: QuerySpec, rows: dict[str, JsonValue], clock: FakeClock) -> list[list[str]]:
    pages = []
    cursor = None
    while True:
        result = execute(query.with_cursor(cursor), rows, clock=clock)
        pages.append(keys(result.results))
        if not result.has_more:
            return pages
        cursor = result.next_cursor


def test_cursor_round_trip_covers_everything_once() -> None:
    rows: dict[str, JsonValue] = {f"k{i:03}": {"g": i % 7, "n": -i} for i in range(100)}
    query = QuerySpec(P.gte("g", 2), sort=(("g", "desc"), ("n", "asc")), limit=9)
    pages = _all_pages(query, rows, FakeClock(T0))
    flat = [k for page in pages for k in page]
    expected = keys(execute(QuerySpec(query.predicate, query.sort), rows).results)
    assert flat == expected
    assert all(len(page) == 9 for page in pages[:-1])


def test_cursor_pages_with_concurrent_inserts_and_deletes() -> None:
    rows: dict[str, JsonValue] = {f"k{i:03}": {"score": i} for i in range(0, 100, 2)}
    clock = FakeClock(T0)
    query = QuerySpec(sort=(("score", "asc"),), limit=10)
    first = execute(query, rows, clock=clock)
    assert keys(first.results)[-1] == "k018"
    # Between pages: insert before and after the cursor, delete an unseen row, and
    # move a seen row past the cursor.
    rows["k001"] = {"score": 1}  # before the cursor: not shown (already paged past)
    rows["k019"] = {"score": 19}  # right after the cursor: shown next
    del rows["k020"]
    rows["k000"] = {"score": 500}  # seen on page 1; moved to the end, so seen again
    clock.advance(1_000)
    second = execute(query.with_cursor(first.next_cursor), rows, clock=clock)
    assert keys(second.results) == [
        "k019", "k022", "k024", "k026", "k028", "k030", "k032", "k034", "k036", "k038",
    ]  # fmt: skip
    pages = [keys(first.results), keys(second.results)]
    cursor = second.next_cursor
    while cursor is not None:
        page = execute(query.with_cursor(cursor), rows, clock=clock)
        pages.append(keys(page.results))
        cursor = page.next_cursor
    flat = [k for page in pages for k in page]
    assert flat[-1] == "k000"
    assert len(flat) == len(set(flat)) + 1  # only the moved row repeats
    assert "k020" not in flat


def test_cursor_with_equal_sort_values_uses_the_key_tie_break() -> None:
    rows: dict[str, JsonValue] = {f"k{i}": {"same": 1} for i in range(10)}
    pages = _all_pages(QuerySpec(sort=(("same", "desc"),), limit=3), rows, FakeClock(T0))
    assert [k for p in pages for k in p] == [f"k{i}" for i in range(10)]


def test_cursor_over_missing_values() -> None:
    rows: dict[str, JsonValue] = {f"k{i}": ({"v": i} if i % 2 else {}) for i in range(10)}
    pages = _all_pages(QuerySpec(sort=(("v", "desc"),), limit=3), rows, FakeClock(T0))
    expected = ["k9", "k7", "k5", "k3", "k1", "k0", "k2", "k4", "k6", "k8"]
    assert [k for p in pages for k in p] == expected


def test_cursor_carries_every_kind_of_sort_value() -> None:
    rows: dict[str, JsonValue] = {
        "a": {"v": True}, "b": {"v": 1.5}, "c": {"v": "s"}, "d": {"v": b"\x00"},
        "e": {"v": [1]}, "f": {"v": {"x": 1}}, "g": {"v": 2**70}, "h": {"v": float("inf")},
    }  # fmt: skip
    for direction in ("asc", "desc"):
        query = QuerySpec(sort=(("v", direction),), limit=1)
        pages = _all_pages(query, rows, FakeClock(T0))
        flat = [k for p in pages for k in p]
        assert flat == keys(execute(QuerySpec(sort=query.sort), rows).results)


def _first_cursor(clock: FakeClock) -> str:
    result = execute(
        QuerySpec(P.gt("age", 0), sort=(("age", "asc"),), limit=1), PEOPLE, clock=clock
    )
    assert result.next_cursor is not None
    return result.next_cursor


def _decode(cursor: str) -> dict[str, object]:
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert isinstance(payload, dict)
    return payload


def _encode(payload: dict[str, object]) -> str:
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def test_cursor_is_base64url_json_with_the_documented_fields() -> None:
    cursor = _first_cursor(FakeClock(T0))
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    payload = _decode(cursor)
    assert set(payload) == {"v", "s", "k", "p", "o", "t", "c"}
    assert payload["k"] == "p2"
    assert payload["t"] == T0


def _rejected(cursor: str, clock: FakeClock, query: QuerySpec | None = None) -> CursorError:
    query = query or QuerySpec(P.gt("age", 0), sort=(("age", "asc"),), limit=1)
    with pytest.raises(CursorError) as info:
        execute(query.with_cursor(cursor), PEOPLE, clock=clock)
    assert isinstance(info.value, ValidationError)
    assert info.value.field == "query.cursor"
    return info.value


def test_expired_cursor_is_rejected_with_status_expired() -> None:
    clock = FakeClock(T0)
    cursor = _first_cursor(clock)
    clock.advance(CURSOR_AGE_MS_MAX)
    execute(
        QuerySpec(P.gt("age", 0), sort=(("age", "asc"),), limit=1, cursor=cursor),
        PEOPLE,
        clock=clock,
    )  # exactly ten minutes old is still fine
    clock.advance(1)
    error = _rejected(cursor, clock)
    assert error.status == "expired"
    assert "expired" in error.message


def test_cursor_from_the_future_is_invalid() -> None:
    cursor = _first_cursor(FakeClock(T0 + CURSOR_AGE_MS_MAX + 1))
    assert _rejected(cursor, FakeClock(T0)).status == "invalid"


def test_cursor_for_another_predicate_or_sort_is_rejected() -> None:
    clock = FakeClock(T0)
    cursor = _first_cursor(clock)
    other_predicate = QuerySpec(P.gt("age", 1), sort=(("age", "asc"),), limit=1)
    assert _rejected(cursor, clock, other_predicate).status == "invalid"
    other_sort = QuerySpec(P.gt("age", 0), sort=(("age", "desc"),), limit=1)
    assert "different predicate or sort" in _rejected(cursor, clock, other_sort).problem
    other_field = QuerySpec(P.gt("age", 0), sort=(("name", "asc"),), limit=1)
    assert _rejected(cursor, clock, other_field).status == "invalid"
    # The page size may change between pages.
    execute(
        QuerySpec(P.gt("age", 0), sort=(("age", "asc"),), limit=3, cursor=cursor),
        PEOPLE,
        clock=clock,
    )


def test_equivalent_predicates_share_cursors() -> None:
    clock = FakeClock(T0)
    first = execute({"where": {"city": "Oslo"}, "limit": 1}, PEOPLE, clock=clock)
    same = {"predicate": {"op": "and", "children": [P.eq("city", "Oslo").to_wire()]}}
    page = execute({**same, "limit": 1, "cursor": first.next_cursor}, PEOPLE, clock=clock)
    assert keys(page.results) == ["p4"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.update(k="p9"),
        lambda p: p.update(t=p["t"] + 1),
        lambda p: p.update(s=[[1, 99]]),
        lambda p: p.update(v=2),
        lambda p: p.pop("c"),
        lambda p: p.update(extra=1),
    ],
)
def test_tampered_cursor_is_invalid(tamper: object) -> None:
    clock = FakeClock(T0)
    payload = _decode(_first_cursor(clock))
    assert callable(tamper)
    tamper(payload)
    assert _rejected(_encode(payload), clock).status == "invalid"


@pytest.mark.parametrize(
    ("checksummed_payload"),
    [
        {"s": "nope"},
        {"s": [[1]]},
        {"s": [[9, 1]]},
        {"s": [[1, True]]},
        {"s": [[1, "x"]]},
        {"s": [[0, 1]]},
        {"s": [None, None]},
        {"k": 5},
        {"t": "soon"},
    ],
)
def test_well_checksummed_but_malformed_cursors_are_invalid(
    checksummed_payload: dict[str, object],
) -> None:
    from topgun_core.hashing import hash32

    clock = FakeClock(T0)
    payload = _decode(_first_cursor(clock))
    payload.pop("c")
    payload.update(checksummed_payload)
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    payload["c"] = hash32(text)
    assert _rejected(_encode(payload), clock).status == "invalid"


@pytest.mark.parametrize("garbage", ["", "!!!", "e30", "bm90IGpzb24", "W10", "x" * 20_000])
def test_garbage_cursors_are_invalid(garbage: str) -> None:
    assert _rejected(garbage, FakeClock(T0)).status == "invalid"


def test_cursor_size_is_bounded_when_issuing() -> None:
    rows: dict[str, JsonValue] = {"a": {"v": "x" * 500}, "b": {"v": "y" * 500}}
    with pytest.raises(LimitExceeded) as info:
        execute(
            QuerySpec(sort=(("v", "asc"),), limit=1),
            rows,
            limits=QueryLimits(cursor_chars_max=200),
            clock=FakeClock(T0),
        )
    assert info.value.limit == "cursor_chars_max"


def test_live_clock_default_issues_usable_cursors() -> None:
    result = execute({"limit": 1}, PEOPLE)
    assert result.next_cursor is not None
    assert keys(execute({"limit": 1, "cursor": result.next_cursor}, PEOPLE).results) == ["p2"]
