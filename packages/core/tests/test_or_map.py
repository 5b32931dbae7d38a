"""ORMap: SEMANTICS.md §4 vectors, the §6 entry hash, tombstones, sync merges, drift, listeners."""

from __future__ import annotations

import pytest

from topgun_core.errors import ClockDriftError, ValidationError
from topgun_core.hashing import hash32
from topgun_core.hlc import HLC, Timestamp
from topgun_core.or_map import ORMap, ORRecord, entry_hash, json_equal
from topgun_core.testing import FakeClock
from topgun_core.values import JsonValue

START_MS = 1_000_000


def _map(node: str = "local", *, strict: bool = False, clock: FakeClock | None = None) -> ORMap:
    return ORMap(HLC(node, clock=clock or FakeClock(START_MS), strict=strict))


def _rec(value: JsonValue, millis: int, node: str = "A", counter: int = 0) -> ORRecord:
    ts = Timestamp(millis, counter, node)
    return ORRecord(value, ts, str(ts))


def _state(m: ORMap) -> tuple[dict[str, list[ORRecord]], frozenset[str], int]:
    return dict(m.entries()), frozenset(m.tombstones), m.merkle.root_hash


def test_vector_add_and_remove() -> None:
    m = _map()
    m.add("tags", "work")
    m.add("tags", "urgent")
    assert m.get("tags") == ["work", "urgent"]
    removed = m.remove("tags", "work")
    assert len(removed) == 1
    assert m.get("tags") == ["urgent"]
    assert set(m.tombstones) == set(removed)


def test_same_value_twice_keeps_two_entries_and_remove_takes_both() -> None:
    m = _map()
    first = m.add("k", "x")
    second = m.add("k", "x")
    assert first.tag != second.tag
    assert first.tag == str(first.timestamp)
    assert m.get("k") == ["x", "x"]
    assert m.remove("k", "x") == [first.tag, second.tag]
    assert m.get("k") == []
    assert "k" not in m
    assert m.merkle.root_hash == 0
    assert m.remove("k", "x") == []


def test_vector_concurrent_adds_merge_to_both() -> None:
    clock = FakeClock(START_MS)
    a, b = _map("A", clock=clock), _map("B", clock=clock)
    a.add("k", "from A")
    b.add("k", "from B")
    a.merge(b)
    b.merge(a)
    assert a.get("k") == b.get("k") == ["from A", "from B"]
    assert _state(a) == _state(b)


def test_vector_add_wins_over_concurrent_remove() -> None:
    clock = FakeClock(START_MS)
    a, b = _map("A", clock=clock), _map("B", clock=clock)
    b.merge_key("k", [a.add("k", "work")], [])
    clock.advance(1)
    a.remove("k", "work")
    b.add("k", "work")  # concurrent re-add: a new tag A never saw
    a.merge(b)
    b.merge(a)
    assert a.get("k") == ["work"]
    assert b.get("k") == ["work"]
    assert _state(a) == _state(b)


def test_vector_entry_hash() -> None:
    record = ORRecord("x", Timestamp(100, 0, "A"), "100:0:A")
    assert entry_hash("k", [record]) == hash32("key:k|100:0:A:x:100:0:A") == 300778023
    m = _map()
    assert m.apply("k", record)
    assert m.entry_hash("k") == 300778023
    assert m.merkle.root_hash == 300778023


def test_entry_hash_renders_sorted_tags_json_values_and_ttl() -> None:
    r1 = ORRecord({"b": 1, "a": [True, None]}, Timestamp(200, 0, "B"), "200:0:B", 1000.0)
    r2 = ORRecord(5, Timestamp(100, 1, "A"), "100:1:A")
    text = "key:k|100:1:A:5:100:1:A|200:0:B:" + '{"a":[true,null],"b":1}' + ":200:0:B:ttl=1000"
    assert entry_hash("k", [r1, r2]) == hash32(text)
    assert entry_hash("k", [r2, r1]) == hash32(text)


def test_apply_ignores_tombstoned_tags_and_older_restamps() -> None:
    m = _map()
    record = _rec("x", 100)
    assert m.apply_tombstone(record.tag)
    assert not m.apply_tombstone(record.tag)
    assert not m.apply("k", record)
    assert m.get("k") == []
    newer = _rec("y", 200)
    assert m.apply("k", newer)
    assert not m.apply("k", newer)  # idempotent
    assert not m.apply("k", newer._replace(value="z", timestamp=Timestamp(150, 0, "A")))
    restamped = newer._replace(value="z", timestamp=Timestamp(250, 0, "A"))
    assert m.apply("k", restamped)
    assert m.get("k") == ["z"]


def test_values_stay_in_timestamp_order_whatever_the_arrival_order() -> None:
    m = _map()
    for millis in (300, 100, 200):
        m.apply("k", _rec(millis, millis))
    assert m.get("k") == [100, 200, 300]
    m.apply("k", _rec(999, 100)._replace(timestamp=Timestamp(400, 0, "A")))
    assert m.get("k") == [200, 300, 999]


def test_tombstone_of_unknown_tag_blocks_later_add_and_learns_its_key() -> None:
    m = _map()
    record = _rec("x", 100)
    m.apply_tombstone(record.tag)
    assert m.tombstones_for(["k"]) == {"k": []}
    assert not m.merge_key("k", [record], [record.tag])
    assert m.tombstones_for(["k", "other"]) == {"k": [record.tag], "other": []}
    m.apply_tombstone("5:0:B")
    assert dict(m.tombstone_keys()) == {record.tag: "k", "5:0:B": None}


def test_merge_key_applies_tombstones_then_records() -> None:
    m = _map()
    old, keep = _rec("old", 100), _rec("keep", 110)
    m.apply("k", old)
    m.apply("k", keep)
    new = _rec("new", 200, "B")
    assert m.merge_key("k", [old, new], [old.tag])
    assert m.get("k") == ["keep", "new"]
    assert m.tombstones_for(["k"]) == {"k": [old.tag]}
    assert not m.merge_key("k", [old, new], [old.tag])


def test_invalid_tombstone_tag_changes_nothing() -> None:
    m = _map()
    with pytest.raises(ValidationError, match="not-a-tag"):
        m.merge_key("k", [_rec("x", 100)], ["not-a-tag"])
    assert m.get("k") == []
    with pytest.raises(ValidationError):
        m.apply_tombstone("1:2")


def test_prune_drops_old_tombstones_only() -> None:
    m = _map()
    for millis in (100, 200, 300):
        m.apply_tombstone(f"{millis}:0:A")
    assert m.prune(Timestamp(200, 0, "A")) == ["100:0:A"]
    assert set(m.tombstones) == {"200:0:A", "300:0:A"}


def test_ttl_hides_values_without_changing_hashes() -> None:
    clock = FakeClock(START_MS)
    m = _map(clock=clock)
    m.add("k", "short", ttl_ms=100)
    m.add("k", "forever")
    m.add("gone", "x", ttl_ms=10)
    root = m.merkle.root_hash
    clock.advance(100)
    assert m.get("k") == ["short", "forever"]
    clock.advance(1)
    assert m.get("k") == ["forever"]
    assert [r.value for r in m.records("k")] == ["short", "forever"]
    assert dict(m.items()) == {"k": ["forever"]}
    assert list(m) == ["k"]
    assert len(m) == 1
    assert m.merkle.root_hash == root
    with pytest.raises(ValueError, match="ttl_ms"):
        m.add("k", "bad", ttl_ms=0)


def test_strict_drift_rejects_and_changes_nothing() -> None:
    m = _map("me", strict=True)
    m.add("k", "before")
    root, clock_state, tombstones = m.merkle.root_hash, m.hlc.last, set(m.tombstones)
    ahead = _rec("future", START_MS + 60_001, "other")
    with pytest.raises(ClockDriftError):
        m.apply("k", ahead)
    with pytest.raises(ClockDriftError):
        m.merge_key("k", [ahead], ["5:0:x"])
    other = _map("other", clock=FakeClock(START_MS + 70_000))
    other.add("k", "future")
    other.remove("k", "nothing")
    with pytest.raises(ClockDriftError):
        m.merge(other)
    assert m.get("k") == ["before"]
    assert m.merkle.root_hash == root
    assert m.hlc.last == clock_state
    assert set(m.tombstones) == tombstones


def test_a_forged_tag_reused_under_two_keys_is_tombstoned_everywhere() -> None:
    m = _map()
    record = _rec("x", 100)
    assert m.apply("k1", record)
    assert m.apply("k2", record)
    assert m.apply_tombstone(record.tag)
    assert m.get("k1") == m.get("k2") == []
    assert m.merkle.root_hash == 0


def test_listeners_and_unsubscribe() -> None:
    m = _map()
    seen: list[tuple[str, JsonValue, str | None]] = []

    def listener(key: str, record: ORRecord | None, tag: str | None) -> None:
        seen.append((key, None if record is None else record.value, tag))

    unsubscribe = m.subscribe(listener)
    added = m.add("k", "x")
    m.remove("k", "x")
    m.apply_tombstone("1:0:z")  # not held here: nothing to report
    assert seen == [("k", "x", None), ("k", None, added.tag)]
    unsubscribe()
    m.add("k", "y")
    assert len(seen) == 2


def test_clear() -> None:
    m = _map()
    m.add("k", "x")
    m.remove("k", "x")
    m.add("j", "y")
    m.clear()
    assert _state(m) == ({}, frozenset(), 0)


def test_record_wire_round_trip() -> None:
    record = ORRecord([1, 2], Timestamp(1, 0, "n"), "1:0:n", 50)
    wire = record.to_wire()
    assert wire == {
        "value": [1, 2],
        "timestamp": {"millis": 1, "counter": 0, "nodeId": "n"},
        "tag": "1:0:n",
        "ttlMs": 50,
    }
    assert ORRecord.from_wire(wire) == record
    assert "ttlMs" not in record._replace(ttl_ms=None).to_wire()


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        ("1", 1, False),
        ([1, {"a": None}], [1.0, {"a": None}], True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1], [1, 2], False),
        (None, None, True),
        (b"x", "x", False),
    ],
)
def test_json_equal(a: JsonValue, b: JsonValue, *, equal: bool) -> None:
    assert json_equal(a, b) is equal
    assert json_equal(b, a) is equal


def test_remove_matches_values_like_javascript() -> None:
    m = _map()
    m.add("k", 1)
    m.add("k", value=True)
    m.add("k", {"a": [1]})
    assert len(m.remove("k", 1.0)) == 1
    assert len(m.remove("k", {"a": [1.0]})) == 1
    assert m.get("k") == [True]
