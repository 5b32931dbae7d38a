"""Property tests: LWW, OR and PN merges are joins, and replicas converge under any delivery.

Inputs come from ``topgun_core.testing.strategies``; the checks are the shipped
``topgun_core.testing.laws``, so this file also proves the testing kit works.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topgun_core.hlc import HLC, Timestamp
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap
from topgun_core.pn_counter import PNCounterState
from topgun_core.testing import FakeClock
from topgun_core.testing.laws import (
    LWWUpdate,
    ORUpdate,
    check_lww_convergence,
    check_lww_merge_laws,
    check_or_convergence,
    check_or_merge_laws,
    check_pn_convergence,
    check_pn_merge_laws,
    lww_snapshot,
)
from topgun_core.testing.strategies import (
    counter_states,
    deliveries,
    lww_updates,
    or_updates,
    shares,
)

# Enough examples to find ordering bugs, few enough to keep the file at a few seconds.
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(lww_updates(max_size=24).flatmap(shares))
def test_lww_merge_is_a_join(abc: list[list[LWWUpdate]]) -> None:
    check_lww_merge_laws(*abc)


@PROPERTY
@given(or_updates(max_size=18).flatmap(shares))
def test_or_merge_is_a_join(abc: list[list[ORUpdate]]) -> None:
    check_or_merge_laws(*abc)


@PROPERTY
@given(counter_states(), counter_states(), counter_states())
def test_pn_merge_is_a_join(a: PNCounterState, b: PNCounterState, c: PNCounterState) -> None:
    check_pn_merge_laws(a, b, c)


@PROPERTY
@given(st.data(), lww_updates(max_size=20), st.integers(3, 5))
def test_lww_replicas_converge(data: st.DataObject, updates: list[LWWUpdate], n: int) -> None:
    check_lww_convergence(data.draw(deliveries(updates, replicas=n)))


@PROPERTY
@given(st.data(), or_updates(max_size=15), st.integers(3, 5))
def test_or_replicas_converge(data: st.DataObject, updates: list[ORUpdate], n: int) -> None:
    check_or_convergence(data.draw(deliveries(updates, replicas=n)))


@PROPERTY
@given(st.data(), st.lists(counter_states(), max_size=6), st.integers(3, 5))
def test_pn_replicas_converge(data: st.DataObject, states: list[PNCounterState], n: int) -> None:
    check_pn_convergence(data.draw(deliveries(states, replicas=n)))


@PROPERTY
@given(lww_updates(min_size=1))
def test_lww_winner_is_the_greatest_timestamp_per_key(updates: list[LWWUpdate]) -> None:
    m = LWWMap(HLC("r", clock=FakeClock(0)))
    for key, record in updates:
        m.merge(key, record)
    records, _ = lww_snapshot(m)
    best: dict[str, LWWRecord] = {}
    for key, record in updates:
        if key not in best or record.timestamp > best[key].timestamp:
            best[key] = record
    assert records == best


@PROPERTY
@given(or_updates(min_size=1))
def test_or_holds_exactly_the_untombstoned_adds(updates: list[ORUpdate]) -> None:
    m = ORMap(HLC("r", clock=FakeClock(0)))
    for update in updates:
        if isinstance(update, str):
            m.apply_tombstone(update)
        else:
            m.apply(*update)
    tombstoned = {u for u in updates if isinstance(u, str)}
    expected = {
        (key, record.tag)
        for key, record in (u for u in updates if not isinstance(u, str))
        if record.tag not in tombstoned
    }
    held = {(key, record.tag) for key, records in m.entries() for record in records}
    assert held == expected
    assert set(m.tombstones) == tombstoned


def test_failing_law_is_reported_by_name() -> None:
    # Two different writes with one timestamp break LWW's honesty assumption: the
    # laws must notice instead of passing vacuously.
    ts = Timestamp(1, 0, "A")
    with pytest.raises(AssertionError, match="commutativity"):
        check_lww_merge_laws([("k", LWWRecord("x", ts))], [("k", LWWRecord("y", ts))], [])
