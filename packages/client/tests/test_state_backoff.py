"""The connection state machine's table and the reconnect backoff (no sockets, no time)."""

from __future__ import annotations

import random

import pytest

from topgun_client import TRANSITIONS, Backoff, ConnectionState, IllegalTransition
from topgun_client._backoff import parse_retry_after
from topgun_client._state import StateMachine

S = ConnectionState


def test_happy_path_and_listener():
    seen = []
    machine = StateMachine(lambda old, new: seen.append((old, new)))
    for state in (S.CONNECTING, S.AUTHENTICATING, S.SYNCING, S.CONNECTED, S.BACKOFF, S.CONNECTING):
        machine.to(state)
    assert machine.state is S.CONNECTING
    assert seen[0] == (S.DISCONNECTED, S.CONNECTING)
    assert len(seen) == 6


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), S.CONNECTED),
        ((), S.SYNCING),
        ((S.CONNECTING,), S.CONNECTED),
        ((S.CONNECTING, S.AUTHENTICATING), S.CONNECTED),
        ((S.CONNECTING, S.AUTHENTICATING, S.SYNCING, S.CONNECTED), S.SYNCING),
        ((S.CLOSED,), S.CONNECTING),
        ((S.CONNECTING, S.BACKOFF), S.SYNCING),
    ],
)
def test_illegal_transitions_raise(path, illegal):
    machine = StateMachine()
    for state in path:
        machine.to(state)
    before = machine.state
    with pytest.raises(IllegalTransition, match=f"{before.name} -> {illegal.name}"):
        machine.to(illegal)
    assert machine.state is before


def test_table_is_complete_and_closed_is_final():
    assert set(TRANSITIONS) == set(ConnectionState)
    assert TRANSITIONS[S.CLOSED] == frozenset()
    for state, targets in TRANSITIONS.items():
        assert state not in targets
        if state is not S.CLOSED:
            assert S.CLOSED in targets


def test_full_jitter_stays_within_the_capped_exponential_bound():
    backoff = Backoff(100, 5_000, random.Random(7))
    delays = [backoff.next_delay_ms() for _ in range(12)]
    for attempt, delay in enumerate(delays):
        assert 0 <= delay <= min(5_000, 100 * 2**attempt)
    assert backoff.attempt == 12
    assert backoff.cap_ms(50) == 5_000
    # Jitter: the same attempt does not always give the same delay.
    spread = {Backoff(100, 5_000, random.Random(seed)).next_delay_ms() for seed in range(20)}
    assert len(spread) > 5


def test_reset_starts_over_and_hints_raise_the_floor():
    backoff = Backoff(100, 5_000, random.Random(1))
    for _ in range(10):
        backoff.next_delay_ms()
    backoff.reset()
    assert backoff.next_delay_ms() <= 100
    backoff.hint(3_000)
    hinted = backoff.next_delay_ms()
    assert 3_000 <= hinted <= 3_100  # the hint plus at most initial_ms of jitter
    assert backoff.next_delay_ms() <= 400  # a hint is used once


def test_backoff_validates_its_bounds():
    with pytest.raises(ValueError, match="initial_ms"):
        Backoff(0, 10)
    with pytest.raises(ValueError, match="initial_ms"):
        Backoff(100, 10)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("overloaded; retryAfter=1500", 1500),
        ('{"retryAfter": 250}', 250),
        ("retryAfter:42", 42),
        ("overloaded", None),
        ("", None),
    ],
)
def test_retry_after_in_a_close_reason(reason, expected):
    assert parse_retry_after(reason) == expected
