"""Reusable CRDT law checks: the merge of replica states is a join.

Each check takes plain inputs (lists of updates, counter states) and raises
``AssertionError`` naming the law that failed, so it can run under any test runner
and inside a hypothesis property:

- *commutative*: merging b into a equals merging a into b;
- *associative*: (a ⊔ b) ⊔ c equals a ⊔ (b ⊔ c);
- *idempotent*: merging a state it already holds changes nothing and reports so;
- *convergent*: replicas that receive the same updates in any order, with
  duplicates, end equal — records, tombstones *and* Merkle roots.

Every observation also recomputes the Merkle root from scratch and compares it
with the incrementally maintained one, so the laws double as a check of the trie.
The generic :func:`check_merge_laws` and :func:`check_convergence` take the
build/merge/observe functions, so other replicated structures can reuse them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias, TypeVar

from topgun_core.hashing import combine_hashes, merkle_item_hash
from topgun_core.hlc import HLC
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap, ORRecord, entry_hash
from topgun_core.pn_counter import PNCounter, PNCounterState
from topgun_core.testing import FakeClock

__all__ = [
    "LWWUpdate",
    "ORUpdate",
    "check_convergence",
    "check_lww_convergence",
    "check_lww_merge_laws",
    "check_merge_laws",
    "check_or_convergence",
    "check_or_merge_laws",
    "check_pn_convergence",
    "check_pn_merge_laws",
    "lww_snapshot",
    "or_snapshot",
]

_S = TypeVar("_S")
_R = TypeVar("_R")
_U = TypeVar("_U")

LWWUpdate: TypeAlias = tuple[str, LWWRecord]
"""One LWW delivery: ``(key, record)`` for ``LWWMap.merge``."""

ORUpdate: TypeAlias = tuple[str, ORRecord] | str
"""One OR delivery: ``(key, record)`` for ``ORMap.apply``, or a tombstoned tag."""


def _expect(law: str, left: object, right: object) -> None:
    if left != right:
        raise AssertionError(f"{law} violated:\n  {left!r}\n!=\n  {right!r}")


def check_merge_laws(
    build: Callable[[_S], _R],
    join: Callable[[_R, _R], bool],
    observe: Callable[[_R], object],
    a: _S,
    b: _S,
    c: _S,
) -> None:
    """Check that ``join`` is commutative, associative and idempotent on replicas of a, b, c.

    ``build`` makes a fresh replica holding an input; ``join(x, y)`` merges ``y``
    into ``x`` and returns whether ``x`` changed; ``observe`` returns a comparable
    snapshot.
    """
    ab = build(a)
    join(ab, build(b))
    ba = build(b)
    join(ba, build(a))
    _expect("commutativity (a ⊔ b == b ⊔ a)", observe(ab), observe(ba))

    join(ab, build(c))
    bc = build(b)
    join(bc, build(c))
    a_bc = build(a)
    join(a_bc, bc)
    _expect("associativity ((a ⊔ b) ⊔ c == a ⊔ (b ⊔ c))", observe(ab), observe(a_bc))

    replica = build(a)
    before = observe(replica)
    changed = join(replica, build(a))
    _expect("idempotence (a ⊔ a == a)", observe(replica), before)
    _expect("idempotence (a ⊔ a reports no change)", changed, False)  # noqa: FBT003


def check_convergence(
    make: Callable[[], _R],
    deliver: Callable[[_R, _U], object],
    observe: Callable[[_R], object],
    orders: Sequence[Sequence[_U]],
) -> None:
    """Give each order of updates to a fresh replica; check they all end equal."""
    snapshots = []
    for order in orders:
        replica = make()
        for update in order:
            deliver(replica, update)
        snapshots.append(observe(replica))
    for index, snapshot in enumerate(snapshots[1:], start=1):
        _expect(f"convergence (replica 0 vs replica {index})", snapshot, snapshots[0])


# ---------------------------------------------------------------------- LWW map


def _fresh_lww() -> LWWMap:
    return LWWMap(HLC("laws", clock=FakeClock(0)))


def lww_snapshot(m: LWWMap) -> tuple[dict[str, LWWRecord], int]:
    """Every record (tombstones included) and the Merkle root, checked against a recompute."""
    records = dict(m.records())
    recomputed = combine_hashes(
        merkle_item_hash(key, *record.timestamp) for key, record in records.items()
    )
    _expect("LWW Merkle root == recomputed root", m.merkle.root_hash, recomputed)
    return records, m.merkle.root_hash


def _lww_build(make_map: Callable[[], LWWMap]) -> Callable[[Sequence[LWWUpdate]], LWWMap]:
    def build(updates: Sequence[LWWUpdate]) -> LWWMap:
        m = make_map()
        for key, record in updates:
            m.merge(key, record)
        return m

    return build


def _lww_join(target: LWWMap, source: LWWMap) -> bool:
    changed = False
    for key, record in list(source.records()):
        changed = target.merge(key, record) or changed
    return changed


def _lww_deliver(m: LWWMap, update: LWWUpdate) -> None:
    m.merge(*update)


def check_lww_merge_laws(
    a: Sequence[LWWUpdate],
    b: Sequence[LWWUpdate],
    c: Sequence[LWWUpdate],
    *,
    make_map: Callable[[], LWWMap] = _fresh_lww,
) -> None:
    """Merge laws for LWW maps built from three update lists."""
    check_merge_laws(_lww_build(make_map), _lww_join, lww_snapshot, a, b, c)


def check_lww_convergence(
    orders: Sequence[Sequence[LWWUpdate]], *, make_map: Callable[[], LWWMap] = _fresh_lww
) -> None:
    """LWW replicas fed the same updates in the given orders end equal."""
    check_convergence(make_map, _lww_deliver, lww_snapshot, orders)


# ---------------------------------------------------------------------- OR map


def _fresh_or() -> ORMap:
    return ORMap(HLC("laws", clock=FakeClock(0)))


def or_snapshot(m: ORMap) -> tuple[dict[str, list[ORRecord]], frozenset[str], int]:
    """Records by key (in order), tombstoned tags and the Merkle root (checked by a recompute)."""
    entries = dict(m.entries())
    recomputed = combine_hashes(entry_hash(key, records) for key, records in entries.items())
    _expect("OR Merkle root == recomputed root", m.merkle.root_hash, recomputed)
    return entries, frozenset(m.tombstones), m.merkle.root_hash


def _or_deliver(m: ORMap, update: ORUpdate) -> None:
    if isinstance(update, str):
        m.apply_tombstone(update)
    else:
        m.apply(*update)


def _or_build(make_map: Callable[[], ORMap]) -> Callable[[Sequence[ORUpdate]], ORMap]:
    def build(updates: Sequence[ORUpdate]) -> ORMap:
        m = make_map()
        for update in updates:
            _or_deliver(m, update)
        return m

    return build


def _or_join(target: ORMap, source: ORMap) -> bool:
    return target.merge(source)


def check_or_merge_laws(
    a: Sequence[ORUpdate],
    b: Sequence[ORUpdate],
    c: Sequence[ORUpdate],
    *,
    make_map: Callable[[], ORMap] = _fresh_or,
) -> None:
    """Merge laws for OR maps built from three update lists (adds and tombstones)."""
    check_merge_laws(_or_build(make_map), _or_join, or_snapshot, a, b, c)


def check_or_convergence(
    orders: Sequence[Sequence[ORUpdate]], *, make_map: Callable[[], ORMap] = _fresh_or
) -> None:
    """OR replicas fed the same adds and tombstones in the given orders end equal."""
    check_convergence(make_map, _or_deliver, or_snapshot, orders)


# ---------------------------------------------------------------------- PN counter


def _pn_build(state: PNCounterState) -> PNCounter:
    counter = PNCounter("laws")
    counter.merge(state)
    return counter


def _pn_join(target: PNCounter, source: PNCounter) -> bool:
    return target.merge(source.state)


def _pn_observe(counter: PNCounter) -> tuple[PNCounterState, int]:
    state = counter.state
    _expect(
        "PN value == Σp - Σn", counter.value, sum(state["p"].values()) - sum(state["n"].values())
    )
    return state, counter.value


def _pn_deliver(counter: PNCounter, state: PNCounterState) -> None:
    counter.merge(state)


def check_pn_merge_laws(a: PNCounterState, b: PNCounterState, c: PNCounterState) -> None:
    """Merge laws for PN counters holding three states."""
    check_merge_laws(_pn_build, _pn_join, _pn_observe, a, b, c)


def check_pn_convergence(orders: Sequence[Sequence[PNCounterState]]) -> None:
    """PN counters fed the same states in the given orders end equal."""
    check_convergence(lambda: PNCounter("laws"), _pn_deliver, _pn_observe, orders)
