"""LWWMap: SEMANTICS.md §3 vectors, TTL, tombstones, pruning, drift, listeners, wire shape."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from topgun_core.errors import ClockDriftError
from topgun_core.hlc import HLC, Timestamp
from topgun_core.lww_map import LWWMap, LWWRecord, validate_ttl_ms
from topgun_core.testing import FakeClock
from topgun_core.values import JsonValue

START_MS = 1_000_000


def _map(node: str = "local", *, start: int = START_MS, strict: bool = False) -> LWWMap:
    return LWWMap(HLC(node, clock=FakeClock(start), strict=strict))


def _clock(m: LWWMap) -> FakeClock:
    clock = m.hlc.clock
    assert isinstance(clock, FakeClock)
    return clock


def test_vector_later_write_wins_and_stale_is_ignored() -> None:
    m = _map()
    v1 = LWWRecord("v1", Timestamp(100, 0, "A"))
    v2 = LWWRecord("v2", Timestamp(200, 0, "B"))
    assert m.merge("k", v1)
    assert m.merge("k", v2)
    assert m.get("k") == "v2"
    assert not m.merge("k", v1)
    assert m.get("k") == "v2"


@pytest.mark.parametrize("order", [("A", "B"), ("B", "A")])
def test_vector_equal_millis_and_counter_higher_node_wins(order: tuple[str, str]) -> None:
    m = _map()
    for node in order:
        m.merge("k", LWWRecord(f"from {node}", Timestamp(100, 0, node)))
    assert m.get("k") == "from B"


def test_equal_timestamp_is_ignored() -> None:
    m = _map()
    assert m.merge("k", LWWRecord("x", Timestamp(100, 0, "A")))
    assert not m.merge("k", LWWRecord("y", Timestamp(100, 0, "A")))
    assert m.get("k") == "x"


def test_vector_ttl_expiry_boundary_is_alive() -> None:
    m = _map()
    m.set("k", "v", ttl_ms=100)
    clock = _clock(m)
    clock.advance(50)
    assert m.get("k") == "v"
    clock.advance(50)  # exactly millis + ttl: still alive
    assert m.get("k") == "v"
    assert len(m) == 1
    clock.advance(1)
    assert m.get("k") is None
    clock.advance(49)  # +150 ms
    assert m.get("k") is None
    assert m.get_record("k") is not None  # expiry hides, it does not delete
    assert len(m) == 0
    assert list(m) == []
    assert "k" not in m


@pytest.mark.parametrize("ttl", [0, -1, math.inf, math.nan, "10", True])
def test_invalid_ttl_is_rejected(ttl: object) -> None:
    m = _map()
    with pytest.raises(ValueError, match="ttl_ms"):
        m.set("k", "v", ttl_ms=ttl)  # type: ignore[arg-type]
    assert m.get_record("k") is None


def test_ttl_normalisation() -> None:
    assert validate_ttl_ms(None) is None
    assert validate_ttl_ms(100.0) == 100
    assert isinstance(validate_ttl_ms(100.0), int)
    assert validate_ttl_ms(0.5) == 0.5


def test_set_stamps_the_hlc_and_remove_writes_a_tombstone() -> None:
    m = _map("me")
    first = m.set("k", {"a": 1})
    assert first.timestamp == Timestamp(START_MS, 0, "me")
    tomb = m.remove("k")
    assert tomb.is_tombstone
    assert tomb.timestamp == Timestamp(START_MS, 1, "me")
    assert m.get("k") is None
    assert m.get_record("k") == tomb
    assert dict(m.records()) == {"k": tomb}
    assert len(m) == 0
    with pytest.raises(ValueError, match="remove"):
        m.set("k", None)


def test_remove_of_absent_key_still_replicates() -> None:
    m = _map()
    tomb = m.remove("ghost")
    assert m.get_record("ghost") == tomb
    assert m.merkle.root_hash != 0


def test_iteration_sees_live_entries_only() -> None:
    m = _map()
    m.set("a", 1)
    m.set("b", 2)
    m.set("c", 3, ttl_ms=10)
    m.remove("b")
    assert dict(m.items()) == {"a": 1, "c": 3}
    assert list(m) == ["a", "c"]
    assert len(m) == 2
    _clock(m).advance(11)
    assert dict(m.items()) == {"a": 1}
    assert len(m) == 1
    assert len(m.records()) == 3
    m.set("c", 4)  # a write without TTL replaces the expiring one
    assert len(m) == 2


def test_merkle_vector_through_the_map() -> None:
    m = _map()
    m.merge("a", LWWRecord("v1", Timestamp(100, 0, "test")))
    m.merge("b", LWWRecord("v2", Timestamp(200, 0, "test")))
    assert m.merkle.root_hash == 2625408098
    m.merge("a", LWWRecord(None, Timestamp(300, 0, "test")))
    assert m.merkle.root_hash == 291008020


def test_prune_drops_only_strictly_older_tombstones() -> None:
    m = _map()
    m.merge("old", LWWRecord(None, Timestamp(100, 0, "A")))
    m.merge("edge", LWWRecord(None, Timestamp(200, 0, "A")))
    m.merge("live", LWWRecord("x", Timestamp(50, 0, "A")))
    assert m.prune(Timestamp(200, 0, "A")) == ["old"]
    assert m.get_record("old") is None
    assert "old" not in m.merkle
    assert m.get_record("edge") is not None
    assert m.get("live") == "x"
    assert (
        m.merkle.root_hash
        == (
            m.merkle.item_hash("edge") + m.merkle.item_hash("live")  # type: ignore[operator]
        )
        % 2**32
    )


def test_merge_advances_the_clock() -> None:
    m = _map("me", start=1000)
    m.merge("k", LWWRecord("x", Timestamp(5000, 3, "other")))
    assert m.set("j", 1).timestamp > Timestamp(5000, 3, "other")


def test_strict_drift_rejects_and_changes_nothing() -> None:
    m = _map("me", strict=True)
    m.set("k", "before")
    root, clock_state = m.merkle.root_hash, m.hlc.last
    ahead = LWWRecord("future", Timestamp(START_MS + 60_001, 0, "other"))
    with pytest.raises(ClockDriftError, match="60001"):
        m.merge("k", ahead)
    with pytest.raises(ClockDriftError):
        m.merge("new", ahead)
    assert m.get("k") == "before"
    assert m.get_record("new") is None
    assert m.merkle.root_hash == root
    assert m.hlc.last == clock_state
    assert m.merge("k", LWWRecord("ok", Timestamp(START_MS + 60_000, 0, "other")))


def test_non_strict_drift_accepts() -> None:
    m = _map("me")
    assert m.merge("k", LWWRecord("future", Timestamp(START_MS + 10**6, 0, "other")))
    assert m.get("k") == "future"


def test_listeners_see_changes_and_unsubscribe_detaches() -> None:
    m = _map()
    seen: list[tuple[str, JsonValue, JsonValue]] = []

    def listener(key: str, record: LWWRecord | None, previous: LWWRecord | None) -> None:
        seen.append(
            (
                key,
                None if record is None else record.value,
                None if previous is None else previous.value,
            )
        )

    unsubscribe = m.subscribe(listener)
    m.set("k", 1)
    m.set("k", 2)
    assert not m.merge("k", LWWRecord(0, Timestamp(1, 0, "A")))  # rejected: no event
    m.remove("k")
    m.prune(Timestamp(START_MS + 10, 0, "z"))
    assert seen == [("k", 1, None), ("k", 2, 1), ("k", None, 2), ("k", None, None)]
    unsubscribe()
    unsubscribe()  # idempotent
    m.set("k", 3)
    assert len(seen) == 4


def test_listener_may_unsubscribe_while_notified() -> None:
    m = _map()
    calls: list[str] = []
    unsubscribers: list[Callable[[], None]] = []

    def once(key: str, _record: LWWRecord | None, _previous: LWWRecord | None) -> None:
        calls.append(key)
        unsubscribers[0]()

    unsubscribers.append(m.subscribe(once))
    m.set("a", 1)
    m.set("b", 1)
    assert calls == ["a"]


def test_clear_resets_everything() -> None:
    m = _map()
    m.set("a", 1, ttl_ms=5)
    m.remove("b")
    m.clear()
    assert len(m) == 0
    assert len(m.records()) == 0
    assert m.merkle.root_hash == 0


def test_record_wire_round_trip() -> None:
    plain = LWWRecord({"x": [1, "y"]}, Timestamp(1, 2, "n"))
    assert plain.to_wire() == {
        "value": {"x": [1, "y"]},
        "timestamp": {"millis": 1, "counter": 2, "nodeId": "n"},
    }
    assert LWWRecord.from_wire(plain.to_wire()) == plain
    with_ttl = LWWRecord(None, Timestamp(1, 2, "n"), 500)
    assert with_ttl.to_wire()["ttlMs"] == 500
    assert LWWRecord.from_wire(with_ttl.to_wire()) == with_ttl
    wire = with_ttl.to_wire()
    wire["ttlMs"] = -5
    with pytest.raises(ValueError, match="ttl_ms"):
        LWWRecord.from_wire(wire)


def test_record_expiry_helper() -> None:
    record = LWWRecord("v", Timestamp(100, 0, "A"), 100)
    assert not record.is_expired(200)
    assert record.is_expired(201)
    assert not LWWRecord("v", Timestamp(100, 0, "A")).is_expired(10**12)
