"""Hybrid logical clock and timestamps (SEMANTICS.md §2)."""

from __future__ import annotations

import logging

import pytest

from topgun_core import HLC, ClockDriftError, SystemClock, Timestamp, ValidationError
from topgun_core.testing import FakeClock


def test_timestamp_total_order_millis_counter_node() -> None:
    ordered = [
        Timestamp(100, 0, "B"),
        Timestamp(100, 1, "A"),
        Timestamp(101, 0, "A"),
    ]
    shuffled = [ordered[2], ordered[0], ordered[1]]
    assert sorted(shuffled) == ordered
    assert Timestamp(100, 0, "A") < Timestamp(100, 0, "B")
    # Node ids compare by code point: "Z" (0x5A) sorts before "a" (0x61).
    assert Timestamp(1, 0, "Z") < Timestamp(1, 0, "a")


def test_timestamp_string_form_and_parse() -> None:
    ts = Timestamp(1700000000000, 7, "node-1")
    assert str(ts) == "1700000000000:7:node-1"
    assert Timestamp.parse(str(ts)) == ts


@pytest.mark.parametrize("bad", ["", "1:2", "1:2:3:4", "a:0:n", "1:-1:n", "1:0:", "1:0:é", 12])
def test_timestamp_parse_rejects_malformed_input_naming_it(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        Timestamp.parse(bad)
    assert info.value.field in {"timestamp", "nodeId"}


def test_timestamp_wire_round_trip() -> None:
    ts = Timestamp(5, 1, "n")
    assert ts.to_wire() == {"millis": 5, "counter": 1, "nodeId": "n"}
    assert Timestamp.from_wire(ts.to_wire()) == ts


def test_timestamp_is_immutable() -> None:
    ts = Timestamp(1, 2, "n")
    with pytest.raises(AttributeError):
        ts.millis = 5  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["", "a:b", "ü", 3])
def test_hlc_rejects_bad_node_ids(bad: object) -> None:
    with pytest.raises(ValidationError):
        HLC(bad)  # type: ignore[arg-type]


def test_now_takes_wall_time_and_resets_counter() -> None:
    clock = FakeClock(1000)
    hlc = HLC("A", clock=clock)
    assert hlc.now() == Timestamp(1000, 0, "A")
    assert hlc.now() == Timestamp(1000, 1, "A")
    clock.advance(1)
    assert hlc.now() == Timestamp(1001, 0, "A")


def test_now_is_monotonic_when_wall_clock_steps_back() -> None:
    clock = FakeClock(5000)
    hlc = HLC("A", clock=clock)
    first = hlc.now()
    clock.set(4000)
    second = hlc.now()
    assert second == Timestamp(5000, 1, "A")
    assert second > first


@pytest.mark.parametrize(
    ("last", "wall", "remote", "expected"),
    [
        # all three equal -> max(counters) + 1
        ((100, 3), 100, (100, 5), (100, 6)),
        # equal to last only -> last.counter + 1
        ((200, 3), 100, (150, 9), (200, 4)),
        # equal to remote only -> remote.counter + 1
        ((100, 3), 100, (150, 9), (150, 10)),
        # wall is ahead of both -> counter 0
        ((100, 3), 300, (150, 9), (300, 0)),
    ],
)
def test_update_counter_rules(
    last: tuple[int, int], wall: int, remote: tuple[int, int], expected: tuple[int, int]
) -> None:
    clock = FakeClock(last[0])
    hlc = HLC("A", clock=clock)
    for _ in range(last[1] + 1):
        hlc.now()
    assert hlc.last == Timestamp(last[0], last[1], "A")
    clock.set(wall)
    hlc.update(Timestamp(remote[0], remote[1], "B"))
    assert hlc.last == Timestamp(expected[0], expected[1], "A")


def test_remote_clock_behind_never_errors() -> None:
    hlc = HLC("A", clock=FakeClock(1_000_000), strict=True)
    hlc.update(Timestamp(0, 0, "B"))
    assert hlc.last.millis == 1_000_000


def test_now_after_update_is_greater_than_remote() -> None:
    clock = FakeClock(100)
    hlc = HLC("A", clock=clock)
    remote = Timestamp(150, 4, "B")
    hlc.update(remote)
    assert hlc.now() > remote


def test_non_strict_drift_warns_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(0)
    hlc = HLC("A", clock=clock, max_drift_ms=1000)
    ahead = Timestamp(5000, 0, "B")
    with caplog.at_level(logging.WARNING, logger="topgun_core.hlc"):
        hlc.update(ahead)
        hlc.update(ahead)
    drift_logs = [r for r in caplog.records if "clock drift" in r.getMessage()]
    assert len(drift_logs) == 1
    assert "5000 ms" in drift_logs[0].getMessage()
    assert hlc.last.millis == 5000  # non-strict mode accepts and continues


def test_strict_drift_rejection_leaves_clock_untouched() -> None:
    hlc = HLC("A", clock=FakeClock(1000), max_drift_ms=100, strict=True)
    hlc.now()
    before = hlc.last
    with pytest.raises(ClockDriftError):
        hlc.update(Timestamp(1101, 0, "B"))
    assert hlc.last == before


def test_system_clock_reads_milliseconds() -> None:
    ms = SystemClock().now_ms()
    assert isinstance(ms, int)
    assert ms > 1_600_000_000_000


def test_fake_clock_refuses_to_go_backwards_with_advance() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        FakeClock(0).advance(-1)


def test_negative_max_drift_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_drift_ms"):
        HLC("A", max_drift_ms=-1)
