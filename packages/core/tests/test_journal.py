"""EventJournal (SEMANTICS.md §10): filters, reads with gaps, replay + live, TTL, restore."""

from __future__ import annotations

import gc
import logging
import weakref
from dataclasses import dataclass, field

import pytest

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.hlc import Timestamp
from topgun_core.journal import (
    EventJournal,
    JournalConfig,
    JournalEvent,
    JournalEventType,
)
from topgun_core.testing import FakeClock

START_MS = 1_700_000_000_000


def ts(n: int) -> Timestamp:
    return Timestamp(START_MS + n, 0, "node-a")


def put(
    journal: EventJournal,
    key: str,
    value: str = "v",
    *,
    map_name: str = "users",
    event_type: JournalEventType = "PUT",
) -> JournalEvent | None:
    return journal.append(event_type, map_name, key, value, None, ts(0), "node-a")


def make(clock: FakeClock | None = None, **config: object) -> EventJournal:
    return EventJournal(
        JournalConfig(**config),  # type: ignore[arg-type]
        clock=clock if clock is not None else FakeClock(START_MS),
    )


@dataclass
class Recorder:
    """A listener that records what it is given."""

    events: list[JournalEvent] = field(default_factory=list)

    def __call__(self, event: JournalEvent) -> None:
        self.events.append(event)

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.events]

    @property
    def sequences(self) -> list[int]:
        return [e.sequence for e in self.events]


# ---------------------------------------------------------------- events


def test_append_numbers_events_from_zero_and_records_every_field() -> None:
    clock = FakeClock(START_MS)
    journal = EventJournal(clock=clock)
    assert (journal.last_sequence, journal.next_sequence, len(journal)) == (-1, 0, 0)
    first = journal.append("PUT", "users", "u1", {"name": "Ann"}, None, ts(1), "node-a")
    clock.advance(5)
    second = journal.append("UPDATE", "users", "u1", {"name": "Bo"}, {"name": "Ann"}, ts(2), "n")
    assert first == JournalEvent(
        0, "PUT", "users", "u1", {"name": "Ann"}, None, ts(1), "node-a", START_MS
    )
    assert second is not None
    assert (second.sequence, second.previous_value, second.appended_at_ms) == (
        1,
        {"name": "Ann"},
        START_MS + 5,
    )
    assert (journal.last_sequence, journal.next_sequence, len(journal)) == (1, 2, 2)


def test_to_wire_is_the_protocol_shape() -> None:
    journal = make()
    update = journal.append("UPDATE", "users", "u1", [1, 2], "old", ts(7), "node-b")
    delete = journal.append("DELETE", "users", "u1", None, [1, 2], Timestamp(9, 3, "x"), "x")
    assert update is not None
    assert delete is not None
    assert update.to_wire() == {
        "sequence": 0,
        "type": "UPDATE",
        "mapName": "users",
        "key": "u1",
        "value": [1, 2],
        "previousValue": "old",
        "timestamp": {"millis": START_MS + 7, "counter": 0, "nodeId": "node-a"},
        "nodeId": "node-b",
    }
    assert delete.to_wire() == {
        "sequence": 1,
        "type": "DELETE",
        "mapName": "users",
        "key": "u1",
        "previousValue": [1, 2],
        "timestamp": {"millis": 9, "counter": 3, "nodeId": "x"},
        "nodeId": "x",
    }


def test_append_rejects_an_unknown_type_even_for_a_filtered_map() -> None:
    journal = make(exclude_maps={"secret"})
    for map_name in ("users", "secret"):
        with pytest.raises(ValidationError, match="type: must be PUT, UPDATE or DELETE"):
            journal.append("REMOVE", map_name, "k", None, None, ts(0), "n")  # type: ignore[arg-type]
    assert journal.next_sequence == 0


# ---------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"capacity": 0}, r"capacity must be an int > 0 \(got 0\)"),
        ({"capacity": -5}, "capacity must be an int > 0"),
        ({"capacity": 2.0}, "capacity must be an int > 0"),
        ({"ttl_ms": 0}, r"ttl_ms must be an int > 0 \(got 0\)"),
        ({"ttl_ms": -1}, "ttl_ms must be an int > 0"),
        ({"read_limit_max": 0}, "read_limit_max must be an int > 0"),
        ({"subscriptions_max": 0}, "subscriptions_max must be an int > 0"),
        ({"include_maps": "users"}, "include_maps must be a set of non-empty map names: 'users'"),
        ({"include_maps": 7}, "include_maps must be a set of non-empty map names: 7"),
        ({"exclude_maps": {""}}, "exclude_maps must be a set of non-empty map names"),
        ({"include_maps": {"ok", 3}}, "include_maps must be a set of non-empty map names"),
    ],
)
def test_config_validation_names_the_field(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JournalConfig(**settings)  # type: ignore[arg-type]


def test_config_defaults_and_normalised_sets() -> None:
    config = JournalConfig(include_maps=["a", "b"], exclude_maps={"c"})  # type: ignore[arg-type]
    assert config.include_maps == frozenset({"a", "b"})
    assert isinstance(config.exclude_maps, frozenset)
    default = JournalConfig()
    assert (default.capacity, default.ttl_ms, default.enabled) == (10_000, None, True)
    assert (default.read_limit_max, default.subscriptions_max) == (1000, 1000)
    assert EventJournal(config).config is config


# ---------------------------------------------------------------- filters


def test_include_maps_limits_journaling_to_those_maps() -> None:
    journal = make(include_maps={"users", "orders"})
    assert put(journal, "a", map_name="users") is not None
    assert put(journal, "b", map_name="logs") is None
    assert put(journal, "c", map_name="orders") is not None
    page = journal.read(0)
    assert [(e.map_name, e.sequence) for e in page.events] == [("users", 0), ("orders", 1)]


def test_exclude_maps_wins_over_include() -> None:
    journal = make(include_maps={"users", "audit"}, exclude_maps={"audit", "tmp"})
    assert [journal.accepts(m) for m in ("users", "audit", "tmp", "other")] == [
        True,
        False,
        False,
        False,
    ]
    assert put(journal, "a", map_name="audit") is None
    assert put(journal, "a", map_name="tmp") is None
    assert journal.next_sequence == 0


def test_empty_include_means_every_map_but_excluded() -> None:
    journal = make(exclude_maps={"tmp"})
    assert put(journal, "a", map_name="anything") is not None
    assert put(journal, "b", map_name="tmp") is None


def test_disabled_journal_records_nothing() -> None:
    journal = make(enabled=False)
    recorder = Recorder()
    journal.subscribe(recorder)
    assert put(journal, "a") is None
    assert (len(journal), journal.next_sequence, recorder.events) == (0, 0, [])


# ---------------------------------------------------------------- read


def test_read_pages_through_with_next_sequence() -> None:
    journal = make()
    for n in range(5):
        put(journal, f"k{n}")
    first = journal.read(0, 2)
    assert ([e.key for e in first.events], first.has_more, first.next_sequence) == (
        ["k0", "k1"],
        True,
        2,
    )
    second = journal.read(first.next_sequence, 3)
    assert ([e.key for e in second.events], second.has_more, second.next_sequence) == (
        ["k2", "k3", "k4"],
        False,
        5,
    )
    assert not second.truncated
    end = journal.read(5)
    assert (end.events, end.has_more, end.next_sequence, end.lost) == ((), False, 5, 0)


def test_read_filters_by_map_and_type_and_skips_past_non_matching() -> None:
    journal = make()
    put(journal, "a", map_name="users")
    put(journal, "b", map_name="orders")
    put(journal, "a", map_name="users", event_type="UPDATE")
    put(journal, "a", map_name="users", event_type="DELETE")
    put(journal, "c", map_name="orders", event_type="DELETE")
    users = journal.read(0, map_name="users")
    assert [e.type for e in users.events] == ["PUT", "UPDATE", "DELETE"]
    deletes = journal.read(0, types=["DELETE"])
    assert [(e.map_name, e.key) for e in deletes.events] == [("users", "a"), ("orders", "c")]
    both = journal.read(0, 1, map_name="orders", types={"PUT", "DELETE"})
    assert ([e.key for e in both.events], both.has_more, both.next_sequence) == (["b"], True, 2)
    last = journal.read(both.next_sequence, 1, map_name="orders", types={"PUT", "DELETE"})
    assert ([e.key for e in last.events], last.has_more, last.next_sequence) == (["c"], False, 5)
    nothing = journal.read(0, map_name="nope")
    assert (nothing.events, nothing.has_more, nothing.next_sequence) == ((), False, 5)


def test_has_more_counts_only_matching_events() -> None:
    journal = make()
    put(journal, "a", map_name="users")
    put(journal, "b", map_name="orders")
    page = journal.read(0, 1, map_name="users")
    assert (page.has_more, page.next_sequence) == (False, 2)


def test_read_after_overflow_flags_the_gap() -> None:
    journal = make(capacity=3)
    for n in range(7):
        put(journal, f"k{n}")
    assert (journal.oldest_sequence, journal.last_sequence, len(journal)) == (4, 6, 3)
    page = journal.read(1)
    assert [e.sequence for e in page.events] == [4, 5, 6]
    assert (page.truncated, page.lost, page.next_sequence) == (True, 3, 7)
    assert not journal.read(4).truncated


def test_read_limits_are_enforced() -> None:
    journal = make(read_limit_max=10)
    put(journal, "a")
    with pytest.raises(LimitExceeded, match="read_limit_max exceeded: 11 > 10") as info:
        journal.read(0, 11)
    assert info.value.code == 413
    assert len(journal.read(0, 10).events) == 1
    with pytest.raises(ValidationError, match="limit: must be >= 1"):
        journal.read(0, 0)


@pytest.mark.parametrize(
    ("from_sequence", "message"),
    [(-1, "fromSequence: must be >= 0"), (2, "fromSequence: 2 is beyond the next sequence 1")],
)
def test_read_rejects_impossible_starts(from_sequence: int, message: str) -> None:
    journal = make()
    put(journal, "a")
    with pytest.raises(ValidationError, match=message):
        journal.read(from_sequence)


def test_type_filters_are_validated() -> None:
    journal = make()
    with pytest.raises(ValidationError, match="types: unknown event types 'REMOVE'"):
        journal.read(0, types=["PUT", "REMOVE"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="types: must not be empty"):
        journal.subscribe(Recorder(), types=[])
    assert journal.subscription_count == 0


# ---------------------------------------------------------------- subscribe


def test_subscribe_without_from_sequence_gets_only_new_events() -> None:
    journal = make()
    put(journal, "old")
    recorder = Recorder()
    subscription = journal.subscribe(recorder)
    put(journal, "new")
    assert (recorder.keys, recorder.sequences) == (["new"], [1])
    assert subscription.active
    assert subscription.lost == 0


def test_replay_from_a_sequence_then_live() -> None:
    journal = make()
    for n in range(4):
        put(journal, f"k{n}")
    recorder = Recorder()
    journal.subscribe(recorder, from_sequence=1)
    assert recorder.sequences == [1, 2, 3]  # replayed synchronously, before subscribe returns
    put(journal, "k4")
    put(journal, "k5")
    assert recorder.sequences == [1, 2, 3, 4, 5]


def test_replay_from_an_overwritten_sequence_reports_the_loss() -> None:
    journal = make(capacity=2)
    for n in range(5):
        put(journal, f"k{n}")
    recorder = Recorder()
    subscription = journal.subscribe(recorder, from_sequence=0)
    assert (recorder.sequences, subscription.lost) == ([3, 4], 3)


def test_subscribe_filters_by_map_and_type_in_replay_and_live() -> None:
    journal = make()
    put(journal, "a", map_name="users")
    put(journal, "b", map_name="orders", event_type="DELETE")
    put(journal, "c", map_name="users", event_type="DELETE")
    recorder = Recorder()
    journal.subscribe(recorder, from_sequence=0, map_name="users", types=["DELETE"])
    put(journal, "d", map_name="users", event_type="DELETE")
    put(journal, "e", map_name="users", event_type="UPDATE")
    put(journal, "f", map_name="orders", event_type="DELETE")
    assert recorder.keys == ["c", "d"]


def test_unsubscribe_really_detaches_and_is_idempotent() -> None:
    journal = make()
    recorder = Recorder()
    subscription = journal.subscribe(recorder)
    listener_ref = weakref.ref(recorder)
    put(journal, "a")
    assert journal.subscription_count == 1
    subscription.unsubscribe()
    subscription.unsubscribe()
    assert not subscription.active
    assert journal.subscription_count == 0
    put(journal, "b")
    assert recorder.keys == ["a"]
    del recorder
    gc.collect()
    assert listener_ref() is None  # neither the journal nor the subscription holds it


def test_journal_keeps_no_reference_to_a_detached_subscription() -> None:
    journal = make()
    subscription = journal.subscribe(Recorder())
    subscription_ref = weakref.ref(subscription)
    subscription.unsubscribe()
    del subscription
    gc.collect()
    assert subscription_ref() is None


def test_a_listener_unsubscribed_by_an_earlier_listener_is_not_called() -> None:
    journal = make()
    earlier, later = Recorder(), Recorder()

    def first(event: JournalEvent) -> None:
        earlier(event)
        later_subscription.unsubscribe()

    journal.subscribe(first)
    later_subscription = journal.subscribe(later)
    put(journal, "a")
    put(journal, "b")
    assert (earlier.keys, later.keys) == (["a", "b"], [])


def test_listener_exceptions_are_logged_and_isolated(caplog: pytest.LogCaptureFixture) -> None:
    journal = make()
    before, after = Recorder(), Recorder()
    journal.subscribe(before)

    def broken(event: JournalEvent) -> None:
        raise RuntimeError(f"boom on {event.key}")

    journal.subscribe(broken)
    journal.subscribe(after)
    with caplog.at_level(logging.ERROR, logger="topgun_core.journal"):
        event = put(journal, "a")
        put(journal, "b")
    assert event is not None
    assert (before.keys, after.keys) == (["a", "b"], ["a", "b"])
    failures = [r for r in caplog.records if "failed on event" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None
    assert "boom on a" in str(failures[0].exc_info[1])
    assert journal.subscription_count == 3  # a failing listener stays subscribed


def test_listener_exceptions_during_replay_are_isolated(caplog: pytest.LogCaptureFixture) -> None:
    journal = make()
    put(journal, "a")
    put(journal, "b")
    seen: list[str] = []

    def flaky(event: JournalEvent) -> None:
        seen.append(event.key)
        if event.key == "a":
            raise ValueError("bad")

    with caplog.at_level(logging.ERROR, logger="topgun_core.journal"):
        journal.subscribe(flaky, from_sequence=0)
    assert seen == ["a", "b"]
    assert any("failed on event 0" in r.getMessage() for r in caplog.records)


def test_appends_from_a_listener_reach_everyone_in_order() -> None:
    journal = make()
    first, last = Recorder(), Recorder()

    def echo(event: JournalEvent) -> None:
        first(event)
        if event.key == "a":
            put(journal, "echo")

    journal.subscribe(echo)
    journal.subscribe(last)
    put(journal, "a")
    assert first.keys == ["a", "echo"]
    assert last.keys == ["a", "echo"]  # not ["echo", "a"]


def test_appends_during_replay_are_replayed_without_duplicates() -> None:
    journal = make()
    put(journal, "a")
    other = Recorder()
    journal.subscribe(other)
    recorder = Recorder()

    def replaying(event: JournalEvent) -> None:
        recorder(event)
        if event.key == "a":
            put(journal, "during")

    journal.subscribe(replaying, from_sequence=0)
    put(journal, "after")
    assert recorder.keys == ["a", "during", "after"]
    assert other.keys == ["during", "after"]


def test_events_overwritten_during_replay_count_as_lost() -> None:
    journal = make(capacity=2)
    put(journal, "a")
    put(journal, "b")
    recorder = Recorder()

    def flooding(event: JournalEvent) -> None:
        recorder(event)
        if event.key == "a":  # pushes "b" out of the ring before replay reaches it
            put(journal, "c")
            put(journal, "d")

    subscription = journal.subscribe(flooding, from_sequence=0)
    assert (recorder.keys, subscription.lost) == (["a", "c", "d"], 1)


def test_subscribing_from_inside_a_listener_gets_no_duplicates() -> None:
    journal = make()
    inner = Recorder()

    def outer(event: JournalEvent) -> None:
        if event.key == "a":
            put(journal, "queued")  # delivered after "a" reaches every listener
            journal.subscribe(inner, from_sequence=0)

    journal.subscribe(outer)
    put(journal, "a")
    put(journal, "b")
    assert inner.keys == ["a", "queued", "b"]


def test_subscription_limit() -> None:
    journal = make(subscriptions_max=2)
    first = journal.subscribe(Recorder())
    journal.subscribe(Recorder())
    with pytest.raises(LimitExceeded, match="subscriptions_max exceeded: 3 > 2"):
        journal.subscribe(Recorder())
    first.unsubscribe()
    journal.subscribe(Recorder())
    assert journal.subscription_count == 2


def test_subscribe_validates_from_sequence() -> None:
    journal = make()
    with pytest.raises(ValidationError, match="fromSequence: 1 is beyond"):
        journal.subscribe(Recorder(), from_sequence=1)
    with pytest.raises(ValidationError, match="fromSequence: must be an integer"):
        journal.subscribe(Recorder(), from_sequence="0")  # type: ignore[arg-type]
    assert journal.subscription_count == 0


# ---------------------------------------------------------------- TTL


def test_compact_drops_strictly_older_than_ttl() -> None:
    clock = FakeClock(START_MS)
    journal = make(clock, ttl_ms=1000)
    put(journal, "t0")
    clock.advance(10)
    put(journal, "t10")
    clock.set(START_MS + 1000)  # t0 is exactly ttl_ms old: kept
    assert journal.compact() == 0
    assert len(journal) == 2
    clock.advance(1)  # t0 is now strictly older than now - ttl_ms
    assert journal.compact() == 1
    assert [e.key for e in journal.read(0).events] == ["t10"]
    assert journal.oldest_sequence == 1
    clock.advance(10)
    assert journal.compact() == 1
    assert (len(journal), journal.next_sequence) == (0, 2)
    assert put(journal, "later") is not None
    assert journal.last_sequence == 2  # numbering continues across compaction


def test_compact_without_ttl_drops_nothing() -> None:
    clock = FakeClock(START_MS)
    journal = make(clock)
    put(journal, "a")
    clock.advance(10**9)
    assert journal.compact() == 0
    assert len(journal) == 1


def test_append_compacts_expired_events() -> None:
    clock = FakeClock(START_MS)
    journal = make(clock, ttl_ms=100)
    put(journal, "old")
    clock.advance(101)
    put(journal, "new")
    assert len(journal) == 1
    assert journal.oldest_sequence == 1


def test_read_and_replay_never_return_expired_events() -> None:
    clock = FakeClock(START_MS)
    journal = make(clock, ttl_ms=100)
    put(journal, "old")
    clock.advance(50)
    put(journal, "young")
    clock.advance(51)  # "old" is 101 ms old, "young" 51 ms
    page = journal.read(0)
    assert ([e.key for e in page.events], page.lost) == (["young"], 1)
    recorder = Recorder()
    subscription = journal.subscribe(recorder, from_sequence=0)
    assert (recorder.keys, subscription.lost) == (["young"], 1)


def test_a_clock_stepping_back_keeps_expiry_a_prefix() -> None:
    clock = FakeClock(START_MS)
    journal = make(clock, ttl_ms=100)
    put(journal, "a")
    clock.set(START_MS - 5000)  # wall clock steps back
    late = put(journal, "b")
    assert late is not None
    assert late.appended_at_ms == START_MS  # journal time never goes back
    clock.set(START_MS + 101)
    assert journal.compact() == 2


# ---------------------------------------------------------------- restore


def test_start_sequence_continues_numbering() -> None:
    journal = EventJournal(clock=FakeClock(START_MS), start_sequence=500)
    assert journal.last_sequence == 499
    event = put(journal, "a")
    assert event is not None
    assert event.sequence == 500
    page = journal.read(0)
    assert (page.lost, [e.sequence for e in page.events]) == (500, [500])


def test_restore_continues_numbering_where_the_store_left_off() -> None:
    clock = FakeClock(START_MS)
    original = make(clock, capacity=4)
    for n in range(6):
        put(original, f"k{n}")
    saved = list(original.read(0).events)  # what a store would have kept: 2..5
    restored = make(clock, capacity=4)
    assert restored.restore(saved) == 4
    assert (restored.oldest_sequence, restored.last_sequence) == (2, 5)
    assert restored.read(2).events == tuple(saved)
    event = put(restored, "next")
    assert event is not None
    assert event.sequence == 6


def test_restore_keeps_the_newest_capacity_and_compacts_expired() -> None:
    clock = FakeClock(START_MS)
    source = make(clock)
    for n in range(5):
        put(source, f"k{n}")
        clock.advance(100)
    events = list(source.read(0).events)  # appended at +0, +100, ... +400; now is +500
    journal = make(clock, capacity=3, ttl_ms=250)
    assert journal.restore(iter(events)) == 2  # k2..k4 fit; k2 (+200) is expired
    assert [e.key for e in journal.read(0).events] == ["k3", "k4"]
    assert journal.next_sequence == 5


def test_restore_keeps_appended_at_non_decreasing() -> None:
    clock = FakeClock(START_MS)
    journal = make(clock, ttl_ms=100)
    events = [_event(0)._replace(appended_at_ms=START_MS), _event(1)._replace(appended_at_ms=5)]
    assert journal.restore(events) == 2
    assert [e.appended_at_ms for e in journal.read(0).events] == [START_MS, START_MS]


def test_restore_of_nothing_is_a_no_op() -> None:
    journal = make()
    assert journal.restore([]) == 0
    assert journal.next_sequence == 0


def _event(sequence: int, event_type: str = "PUT") -> JournalEvent:
    return JournalEvent(
        sequence,
        event_type,  # type: ignore[arg-type]
        "users",
        f"k{sequence}",
        "v",
        None,
        ts(sequence),
        "node-a",
        START_MS,
    )


def test_restore_refuses_bad_input_and_changes_nothing() -> None:
    journal = EventJournal(clock=FakeClock(START_MS), start_sequence=10)
    with pytest.raises(ValueError, match="sequences below 10 were already issued"):
        journal.restore([_event(9), _event(10)])
    with pytest.raises(
        ValueError, match="cannot restore event 12 of type 'PUT': expected sequence 11"
    ):
        journal.restore([_event(10), _event(12)])
    with pytest.raises(ValueError, match="cannot restore event 11 of type 'NOPE'"):
        journal.restore([_event(10), _event(11, "NOPE")])
    assert (len(journal), journal.next_sequence) == (0, 10)
    put(journal, "a")
    with pytest.raises(ValueError, match="needs an empty journal"):
        journal.restore([_event(11)])
