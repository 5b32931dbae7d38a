"""LockTable: TTL clamping, FIFO waiters, re-acquire, release checks, expiry,
disconnect, limits, and fencing tokens that never repeat (including across the
release of the last holder and a restart) — with a stateful property test."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.locks import (
    LOCK_TTL_DEFAULT_MS,
    LOCK_TTL_MAX_MS,
    LOCK_TTL_MIN_MS,
    Granted,
    LockEffect,
    LockTable,
    Queued,
    Released,
    ReleaseResult,
    validate_lock_name,
)
from topgun_core.testing import FakeClock


def table(**kwargs: int) -> tuple[LockTable, FakeClock]:
    clock = FakeClock(1_000_000)
    return LockTable(clock, **kwargs), clock  # type: ignore[arg-type]


def granted(result: Granted | Queued) -> Granted:
    assert isinstance(result, Granted), result
    return result


def grants(effects: list[LockEffect] | tuple[LockEffect, ...]) -> list[Granted]:
    return [e for e in effects if isinstance(e, Granted)]


@pytest.mark.parametrize(
    ("asked", "lease"),
    [
        (None, LOCK_TTL_DEFAULT_MS),
        (-5, LOCK_TTL_MIN_MS),
        (0, LOCK_TTL_MIN_MS),
        (999, LOCK_TTL_MIN_MS),
        (1_000, 1_000),
        (1_001, 1_001),
        (10_000, 10_000),
        (299_999, 299_999),
        (300_000, 300_000),
        (300_001, LOCK_TTL_MAX_MS),
        (10**12, LOCK_TTL_MAX_MS),
    ],
)
def test_ttl_is_clamped(asked: int | None, lease: int) -> None:
    locks, clock = table()
    grant = granted(locks.request("job", "a", "r1", asked))
    assert grant.ttl_ms == lease
    assert grant.expires_at_ms == clock.now_ms() + lease


@pytest.mark.parametrize("ttl", [1.5, "10", True])
def test_ttl_must_be_an_integer(ttl: object) -> None:
    locks, _ = table()
    with pytest.raises(ValidationError) as caught:
        locks.request("job", "a", "r1", ttl)  # type: ignore[arg-type]
    assert caught.value.field == "ttl"


def test_first_request_is_granted_with_token_1() -> None:
    locks, _ = table()
    grant = granted(locks.request("job", "a", "r1"))
    assert grant == Granted("job", "a", "r1", 1, 1_010_000, 10_000)
    assert locks.holder("job") == grant
    assert len(locks) == 1


def test_waiters_are_served_fifo_with_new_larger_tokens() -> None:
    locks, _ = table()
    first = granted(locks.request("job", "a", "ra"))
    assert locks.request("job", "b", "rb") == Queued("job", "b", "rb", 1)
    assert locks.request("job", "c", "rc", 5_000) == Queued("job", "c", "rc", 2)
    assert [w.owner for w in locks.waiters("job")] == ["b", "c"]
    released = locks.release("job", "a", first.fencing_token)
    assert released.ok
    assert released.effects == (
        Released("job", "a", "ra", 1, "released"),
        Granted("job", "b", "rb", 2, 1_010_000, 10_000),
    )
    second = locks.release("job", "b", 2)
    assert grants(second.effects) == [Granted("job", "c", "rc", 3, 1_005_000, 5_000)]
    third = locks.release("job", "c", 3)
    assert third == ReleaseResult(ok=True, effects=(Released("job", "c", "rc", 3, "released"),))
    assert locks.holder("job") is None
    assert len(locks) == 0


def test_waiting_again_keeps_the_place_and_updates_the_request() -> None:
    locks, _ = table()
    locks.request("job", "a", "ra")
    locks.request("job", "b", "rb1")
    locks.request("job", "c", "rc")
    assert locks.request("job", "b", "rb2", 2_000) == Queued("job", "b", "rb2", 1)
    effects = locks.release("job", "a", 1).effects
    assert grants(effects)[0].request_id == "rb2"
    assert grants(effects)[0].ttl_ms == 2_000


def test_reacquire_by_the_holder_extends_and_keeps_the_token() -> None:
    locks, clock = table()
    first = granted(locks.request("job", "a", "r1", 5_000))
    locks.request("job", "b", "rb")
    clock.advance(4_000)
    again = granted(locks.request("job", "a", "r2", 5_000))
    assert again == Granted(
        "job", "a", "r2", first.fencing_token, clock.now_ms() + 5_000, 5_000, extended=True
    )
    clock.advance(4_000)  # past the first expiry, within the extension
    assert locks.expire() == []
    assert locks.holder("job") == again
    assert [w.owner for w in locks.waiters("job")] == ["b"]


@pytest.mark.parametrize(
    ("owner", "token", "error"),
    [
        ("b", 1, "lock 'job' is not held by this client"),
        ("a", 2, "fencing token 2 is not the current token of lock 'job'"),
        ("a", 0, "fencing token 0 is not the current token of lock 'job'"),
    ],
)
def test_release_needs_owner_and_token(owner: str, token: int, error: str) -> None:
    locks, _ = table()
    grant = granted(locks.request("job", "a", "r1"))
    locks.request("job", "c", "rc")
    assert locks.release("job", owner, token) == ReleaseResult(ok=False, error=error)
    assert locks.holder("job") == grant
    assert len(locks.waiters("job")) == 1


def test_release_of_a_free_lock_or_a_stale_token_is_refused() -> None:
    locks, _ = table()
    assert locks.release("job", "a", 1) == ReleaseResult(ok=False, error="lock 'job' is not held")
    locks.request("job", "a", "r1")
    locks.release("job", "a", 1)
    locks.request("job", "a", "r2")  # a new lease, token 2
    assert not locks.release("job", "a", 1).ok
    assert locks.release("job", "a", 2).ok
    with pytest.raises(ValidationError):
        locks.release("job", "a", "2")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        locks.release("job", "a", fencing_token=True)


def test_expiry_grants_the_next_waiter_a_larger_token() -> None:
    locks, clock = table()
    locks.request("job", "a", "ra", 1_000)
    locks.request("job", "b", "rb", 2_000)
    locks.request("other", "c", "rc", 3_000)
    assert locks.next_expiry_ms() == clock.now_ms() + 1_000
    clock.advance(999)
    assert locks.expire() == []
    clock.advance(1)  # exactly the TTL: the lease is over
    effects = locks.expire()
    assert effects == [
        Released("job", "a", "ra", 1, "expired"),
        Granted("job", "b", "rb", 2, clock.now_ms() + 2_000, 2_000),
    ]
    assert locks.next_expiry_ms() == clock.now_ms() + 2_000
    clock.advance(2_000)
    ended = locks.expire()
    assert ended == [
        Released("other", "c", "rc", 1, "expired"),
        Released("job", "b", "rb", 2, "expired"),
    ]
    assert locks.next_expiry_ms() is None
    assert len(locks) == 0


def test_a_lapsed_lease_stays_valid_until_expire_runs() -> None:
    locks, clock = table()
    locks.request("job", "a", "ra", 1_000)
    clock.advance(5_000)
    assert locks.release("job", "a", 1).ok


def test_release_all_on_disconnect() -> None:
    locks, _ = table()
    locks.request("x", "gone", "r1")
    locks.request("y", "gone", "r2")
    locks.request("x", "b", "rb")
    locks.request("z", "c", "rc")
    locks.request("z", "gone", "r3")
    locks.request("z", "d", "rd")
    effects = locks.release_all("gone")
    assert effects == [
        Released("x", "gone", "r1", 1, "disconnected"),
        Granted("x", "b", "rb", 2, 1_010_000, 10_000),
        Released("y", "gone", "r2", 1, "disconnected"),
    ]
    assert [w.owner for w in locks.waiters("z")] == ["d"]
    assert locks.holder("y") is None
    assert locks.release_all("gone") == []
    effects = locks.release("z", "c", 1).effects
    assert grants(effects)[0].owner == "d"


def test_cancel_drops_a_wait() -> None:
    locks, _ = table()
    locks.request("job", "a", "ra")
    locks.request("job", "b", "rb")
    locks.request("job", "c", "rc")
    assert locks.cancel("job", "b")
    assert not locks.cancel("job", "b")
    assert not locks.cancel("job", "a")  # the holder is not waiting
    assert not locks.cancel("nope", "a")
    assert grants(locks.release("job", "a", 1).effects)[0].owner == "c"
    assert locks.release_all("b") == []


def test_limits() -> None:
    locks, _ = table(locks_max=2, waiters_max=1)
    locks.request("x", "a", "r")
    locks.request("y", "a", "r")
    with pytest.raises(LimitExceeded) as caught:
        locks.request("z", "a", "r")
    assert caught.value.limit == "locks_max"
    locks.request("x", "b", "r")
    locks.request("x", "b", "r2")  # the same waiter again fits
    with pytest.raises(LimitExceeded) as caught:
        locks.request("x", "c", "r")
    assert caught.value.limit == "lock_waiters_max"
    assert caught.value.code == 413
    locks.request("x", "a", "r3")  # the holder extending fits


@pytest.mark.parametrize(
    ("name", "owner", "request_id", "field"),
    [
        ("", "a", "r", "name"),
        ("x" * 257, "a", "r", "name"),
        (5, "a", "r", "name"),
        ("x", "", "r", "owner"),
        ("x", "a", "", "requestId"),
    ],
)
def test_request_validation(name: object, owner: str, request_id: str, field: str) -> None:
    locks, _ = table()
    with pytest.raises(ValidationError) as caught:
        locks.request(name, owner, request_id)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert validate_lock_name("x" * 256) == "x" * 256


def test_bad_configuration_is_refused() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="ttl"):
        LockTable(clock, ttl_min_ms=5_000, ttl_default_ms=1_000)
    with pytest.raises(ValueError, match="ttl"):
        LockTable(clock, ttl_min_ms=0)
    with pytest.raises(ValueError, match="waiters_max"):
        LockTable(clock, waiters_max=0)
    with pytest.raises(ValidationError):
        LockTable(clock, high_water={"x": -1})
    with pytest.raises(ValidationError):
        LockTable(clock, fencing_floor=-1)


# ---------------------------------------------------------------- fencing across time


def test_tokens_increase_across_release_of_the_last_holder() -> None:
    locks, _ = table()
    tokens = []
    for i in range(5):
        grant = granted(locks.request("job", f"owner{i}", "r"))
        tokens.append(grant.fencing_token)
        assert locks.release("job", grant.owner, grant.fencing_token).ok
        assert locks.holder("job") is None
    assert tokens == [1, 2, 3, 4, 5]
    assert locks.fencing_high_water() == {"job": 5}
    assert granted(locks.request("other", "a", "r")).fencing_token == 1  # per name


def test_tokens_increase_across_a_restart() -> None:
    locks, clock = table()
    for _ in range(3):
        grant = granted(locks.request("job", "a", "r"))
        locks.release("job", "a", grant.fencing_token)
    locks.request("held", "a", "r")
    marks, floor = locks.fencing_high_water(), locks.fencing_floor
    assert marks == {"job": 3, "held": 1}
    restarted = LockTable(clock, high_water=marks, fencing_floor=floor)
    assert granted(restarted.request("job", "b", "r")).fencing_token == 4
    assert granted(restarted.request("held", "b", "r")).fencing_token == 2
    assert granted(restarted.request("new", "b", "r")).fencing_token == 1


def test_restore_never_lowers_marks() -> None:
    locks, _ = table()
    for _ in range(5):
        locks.release("job", "a", granted(locks.request("job", "a", "r")).fencing_token)
    locks.restore_high_water({"job": 2, "other": 7}, floor=1)
    assert locks.fencing_high_water() == {"job": 5, "other": 7}
    assert locks.fencing_floor == 1
    assert granted(locks.request("job", "a", "r")).fencing_token == 6
    assert granted(locks.request("other", "a", "r")).fencing_token == 8
    assert granted(locks.request("fresh", "a", "r")).fencing_token == 2  # above the floor


def test_forgotten_names_fall_back_to_the_floor() -> None:
    locks, _ = table(fencing_names_max=2)
    for name, rounds in [("a", 5), ("b", 2), ("c", 1)]:
        for _ in range(rounds):
            locks.release(name, "o", granted(locks.request(name, "o", "r")).fencing_token)
    assert locks.fencing_high_water() == {"b": 2, "c": 1}  # "a" was the least recent
    assert locks.fencing_floor == 5
    assert granted(locks.request("a", "o", "r")).fencing_token == 6
    restored = LockTable(FakeClock(), high_water={"x": 1, "y": 2, "z": 3}, fencing_names_max=2)
    assert restored.fencing_floor == 1
    assert granted(restored.request("x", "o", "r")).fencing_token == 2


def test_expiry_heap_stays_bounded_under_repeated_extensions() -> None:
    locks, clock = table()
    locks.request("job", "a", "r")
    for _ in range(10_000):
        clock.advance(1)
        locks.request("job", "a", "r")
    assert locks.next_expiry_ms() == clock.now_ms() + 10_000
    clock.advance(10_000)
    assert [type(e) for e in locks.expire()] == [Released]


# ---------------------------------------------------------------- property test

NAMES = st.sampled_from(["x", "y", "z", "w"])
OWNERS = st.sampled_from(["a", "b", "c"])


class LockMachine(RuleBasedStateMachine):
    """Random request / release / expire / cancel / disconnect / restart sequences.

    Every grant seen (results and effects) is checked: per name, a new lease's token
    is strictly greater than every token ever issued for that name, and a lock is
    never granted while the model says someone else holds it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(0)
        self.locks = LockTable(self.clock, waiters_max=3, locks_max=3, fencing_names_max=2)
        self.last_token: dict[str, int] = {}
        self.holders: dict[str, Granted] = {}

    def observe(self, effects: list[LockEffect] | tuple[LockEffect, ...]) -> None:
        for effect in effects:
            if isinstance(effect, Released):
                held = self.holders.pop(effect.name)
                assert (held.owner, held.fencing_token) == (effect.owner, effect.fencing_token)
            else:
                self.observe_grant(effect)

    def observe_grant(self, grant: Granted) -> None:
        if grant.extended:
            assert self.holders[grant.name].fencing_token == grant.fencing_token
            assert self.holders[grant.name].owner == grant.owner
        else:
            assert grant.name not in self.holders, "two holders at once"
            assert grant.fencing_token > self.last_token.get(grant.name, 0)
            self.last_token[grant.name] = grant.fencing_token
        self.holders[grant.name] = grant

    @rule(name=NAMES, owner=OWNERS, ttl=st.integers(0, 400_000))
    def request(self, name: str, owner: str, ttl: int) -> None:
        try:
            result = self.locks.request(name, owner, f"{owner}-{name}", ttl)
        except LimitExceeded:
            return
        if isinstance(result, Granted):
            self.observe_grant(result)

    @rule(name=NAMES, owner=OWNERS, guess=st.integers(0, 40))
    def release(self, name: str, owner: str, guess: int) -> None:
        held = self.holders.get(name)
        token = held.fencing_token if held is not None and guess % 2 else guess
        result = self.locks.release(name, owner, token)
        assert result.ok == (
            held is not None and held.owner == owner and held.fencing_token == token
        )
        self.observe(result.effects)

    @rule(ms=st.integers(0, 400_000))
    def advance_and_expire(self, ms: int) -> None:
        self.clock.advance(ms)
        self.observe(self.locks.expire())

    @rule(name=NAMES, owner=OWNERS)
    def cancel(self, name: str, owner: str) -> None:
        self.locks.cancel(name, owner)

    @rule(owner=OWNERS)
    def disconnect(self, owner: str) -> None:
        self.observe(self.locks.release_all(owner))
        assert all(h.owner != owner for h in self.holders.values())

    @rule()
    def restart(self) -> None:
        marks, floor = self.locks.fencing_high_water(), self.locks.fencing_floor
        self.locks = LockTable(
            self.clock,
            waiters_max=3,
            locks_max=3,
            fencing_names_max=2,
            high_water=marks,
            fencing_floor=floor,
        )
        self.holders.clear()

    @invariant()
    def table_agrees_with_the_model(self) -> None:
        for name in ["x", "y", "z", "w"]:
            assert self.locks.holder(name) == self.holders.get(name)
            waiting = [w.owner for w in self.locks.waiters(name)]
            assert len(waiting) == len(set(waiting))
            held = self.holders.get(name)
            assert held is None or held.owner not in waiting
            assert not waiting or held is not None


TestLockMachine = LockMachine.TestCase
TestLockMachine.settings = settings(max_examples=200, stateful_step_count=60, deadline=None)
