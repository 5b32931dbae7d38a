"""Hypothesis strategies for TopGun's CRDT inputs: timestamps, records, updates, counter states.

Importing this module needs ``hypothesis`` (an optional test dependency); nothing
else in ``topgun_core`` imports it.

The strategies draw from deliberately small spaces — four node ids, a few keys,
a couple of thousand milliseconds — so that generated updates collide on keys,
timestamps and tags often, which is where merge bugs live. Update lists are
*honest*: one timestamp never carries two different writes for the same key (LWW)
and one tag never names two adds (OR), as real HLCs guarantee; the laws only hold
for such histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.pn_counter import PNCounterState
from topgun_core.testing.laws import LWWUpdate, ORUpdate
from topgun_core.values import JsonValue

__all__ = [
    "KEYS",
    "NODE_IDS",
    "counter_states",
    "deliveries",
    "json_values",
    "keys",
    "lww_records",
    "lww_updates",
    "node_ids",
    "or_records",
    "or_updates",
    "shares",
    "timestamps",
    "ttls",
]

_T = TypeVar("_T")

NODE_IDS = ("A", "B", "C", "D")
"""Node ids the strategies draw from (few, so timestamps tie on millis and counter)."""

KEYS = ("a", "b", "c", "user:1", "日本")
"""Keys the strategies draw from (few, so updates collide)."""


def node_ids() -> st.SearchStrategy[str]:
    """A node id from :data:`NODE_IDS`."""
    return st.sampled_from(NODE_IDS)


def keys() -> st.SearchStrategy[str]:
    """A key from :data:`KEYS`."""
    return st.sampled_from(KEYS)


def timestamps(*, millis_max: int = 2_000, counter_max: int = 3) -> st.SearchStrategy[Timestamp]:
    """HLC timestamps in ``[0, millis_max]`` ms with small counters."""
    return st.builds(Timestamp, st.integers(0, millis_max), st.integers(0, counter_max), node_ids())


def json_values() -> st.SearchStrategy[JsonValue]:
    """Small JSON-like values (no NaN, which is unequal to itself)."""
    scalars: st.SearchStrategy[JsonValue] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-100, 100),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.text(max_size=4),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(max_size=3), children, max_size=3),
        ),
        max_leaves=6,
    )


def ttls() -> st.SearchStrategy[int | None]:
    """No TTL (mostly) or a positive TTL in milliseconds."""
    return st.one_of(st.none(), st.none(), st.integers(1, 5_000))


def lww_records() -> st.SearchStrategy[LWWRecord]:
    """LWW records; about a quarter are tombstones."""
    values = st.one_of(json_values(), st.none())
    return st.builds(LWWRecord, values, timestamps(), ttls())


def or_records() -> st.SearchStrategy[ORRecord]:
    """OR records whose tag is their timestamp's string, as an add makes them."""

    def build(value: JsonValue, timestamp: Timestamp, ttl_ms: int | None) -> ORRecord:
        return ORRecord(value, timestamp, str(timestamp), ttl_ms)

    return st.builds(build, json_values(), timestamps(), ttls())


def _lww_identity(update: LWWUpdate) -> tuple[str, Timestamp]:
    return update[0], update[1].timestamp


def lww_updates(*, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[list[LWWUpdate]]:
    """Honest LWW deliveries: no two share both key and timestamp."""
    return st.lists(
        st.tuples(keys(), lww_records()),
        min_size=min_size,
        max_size=max_size,
        unique_by=_lww_identity,
    )


def _or_tag(update: tuple[str, ORRecord]) -> str:
    return update[1].tag


@st.composite
def or_updates(draw: st.DrawFn, *, min_size: int = 0, max_size: int = 10) -> list[ORUpdate]:
    """Honest OR deliveries: adds with distinct tags, plus tombstones for some of them.

    A few tombstones name tags no add carries, as when a remove's add was pruned.
    """
    adds = draw(
        st.lists(
            st.tuples(keys(), or_records()), min_size=min_size, max_size=max_size, unique_by=_or_tag
        )
    )
    tags = [record.tag for _, record in adds]
    removed = draw(st.lists(st.sampled_from(tags), unique=True)) if tags else []
    strangers = draw(st.lists(timestamps().map(str), max_size=2))
    updates: list[ORUpdate] = list(adds)
    updates.extend(removed)
    updates.extend(tag for tag in strangers if tag not in tags)
    return updates


def counter_states(*, count_max: int = 1_000) -> st.SearchStrategy[PNCounterState]:
    """PN counter states over :data:`NODE_IDS` in the wire shape ``{p, n}``."""
    tallies = st.dictionaries(node_ids(), st.integers(0, count_max), max_size=len(NODE_IDS))

    def build(p: dict[str, int], n: dict[str, int]) -> PNCounterState:
        return {"p": p, "n": n}

    return st.builds(build, tallies, tallies)


@st.composite
def deliveries(
    draw: st.DrawFn, updates: Sequence[_T], *, replicas: int = 3, duplicates_max: int = 4
) -> list[list[_T]]:
    """One delivery order per replica: every update once, some again, all shuffled."""
    orders: list[list[_T]] = []
    for _ in range(replicas):
        extra = draw(st.lists(st.sampled_from(updates), max_size=duplicates_max)) if updates else []
        orders.append(draw(st.permutations([*updates, *extra])))
    return orders


@st.composite
def shares(draw: st.DrawFn, updates: Sequence[_T], *, parts: int = 3) -> list[list[_T]]:
    """``parts`` overlapping sub-sequences of one honest history, e.g. three replicas' states.

    Drawing replica states from one history keeps them honest *together*: two
    independently drawn histories could reuse a timestamp or tag for different writes.
    """
    return [[u for u in updates if draw(st.booleans())] for _ in range(parts)]
