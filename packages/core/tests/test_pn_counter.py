"""PNCounter: the SEMANTICS.md §5 vector, wire shape, validation, limits and listeners."""

from __future__ import annotations

import itertools

import pytest

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.pn_counter import COUNT_MAX, PNCounter, PNCounterState


def _vector_replicas() -> list[PNCounter]:
    a, b, c = PNCounter("A"), PNCounter("B"), PNCounter("C")
    a.add_and_get(10)
    b.add_and_get(20)
    c.add_and_get(30)
    a.add_and_get(-5)
    return [a, b, c]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_vector_three_nodes_merge_to_55_in_any_order(order: tuple[int, ...]) -> None:
    replicas = _vector_replicas()
    states = [r.state for r in replicas]
    for replica in replicas:
        for index in order:
            replica.merge(states[index])
        assert replica.value == 55
    assert replicas[0].state == {"p": {"A": 10, "B": 20, "C": 30}, "n": {"A": 5}}


def test_increment_decrement_and_state_shape() -> None:
    counter = PNCounter("me")
    assert counter.increment() == 1
    assert counter.increment() == 2
    assert counter.decrement() == 1
    assert counter.add_and_get(0) == 1
    assert counter.add_and_get(-3) == -2
    assert counter.value == -2
    assert counter.state == {"p": {"me": 2}, "n": {"me": 4}}
    assert counter.node_id == "me"


def test_state_is_a_copy() -> None:
    counter = PNCounter("me")
    counter.increment()
    state = counter.state
    state["p"]["me"] = 100
    state["n"]["x"] = 1
    assert counter.state == {"p": {"me": 1}, "n": {}}
    assert counter.value == 1


def test_merge_takes_per_node_maxima_and_reports_change() -> None:
    counter = PNCounter("me")
    counter.add_and_get(5)
    assert not counter.merge({"p": {"me": 3}, "n": {}})
    assert counter.merge({"p": {"me": 7, "x": 1}, "n": {"x": 2}})
    assert counter.value == 6
    assert not counter.merge(counter.state)  # idempotent
    assert counter.increment() == 7
    assert counter.state["p"]["me"] == 8


@pytest.mark.parametrize(
    ("state", "field"),
    [
        ({"p": {"a": -1}, "n": {}}, "state.p.a"),
        ({"p": {}, "n": {"a": 1.5}}, "state.n.a"),
        ({"p": {"a": True}, "n": {}}, "state.p.a"),
        ({"p": {"a": COUNT_MAX + 1}, "n": {}}, "state.p.a"),
        ({"p": {"bad:id": 1}, "n": {}}, "state.p"),
        ({"p": {"": 1}, "n": {}}, "state.p"),
        ({"p": {}}, "state.n"),
        ({"p": [], "n": {}}, "state.p"),
        ({"p": {}, "n": {}, "x": {}}, "state"),
    ],
)
def test_invalid_state_is_rejected_and_changes_nothing(state: object, field: str) -> None:
    counter = PNCounter("me")
    counter.increment()
    with pytest.raises(ValidationError) as info:
        counter.merge({"p": {"ok": 9}, **state})  # type: ignore[dict-item]
    assert info.value.field == field
    assert counter.state == {"p": {"me": 1}, "n": {}}


def test_non_mapping_state_is_rejected() -> None:
    with pytest.raises(ValidationError):
        PNCounter("me").merge([])  # type: ignore[arg-type]


def test_tally_limit() -> None:
    counter = PNCounter("me")
    counter.merge({"p": {"me": COUNT_MAX}, "n": {}})
    with pytest.raises(LimitExceeded):
        counter.increment()
    assert counter.value == COUNT_MAX
    assert counter.decrement() == COUNT_MAX - 1


def test_delta_must_be_an_int() -> None:
    counter = PNCounter("me")
    with pytest.raises(TypeError):
        counter.add_and_get(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        counter.add_and_get(True)  # noqa: FBT003


def test_invalid_node_id() -> None:
    with pytest.raises(ValidationError):
        PNCounter("a:b")


def test_subscribe_sees_every_change_and_unsubscribe_detaches() -> None:
    counter = PNCounter("me")
    seen: list[int] = []
    unsubscribe = counter.subscribe(seen.append)
    counter.increment()
    counter.add_and_get(0)  # no change, no call
    counter.merge({"p": {"x": 4}, "n": {}})
    counter.merge({"p": {"x": 4}, "n": {}})  # no change, no call
    counter.decrement()
    assert seen == [1, 5, 4]
    unsubscribe()
    unsubscribe()
    counter.increment()
    assert seen == [1, 5, 4]


def test_state_type_accepts_own_state() -> None:
    state: PNCounterState = {"p": {"a": 1}, "n": {"b": 2}}
    counter = PNCounter("me")
    assert counter.merge(state)
    assert counter.value == -1
