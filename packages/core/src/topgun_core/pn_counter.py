"""Positive-negative counter (SEMANTICS.md §5).

Each node only ever raises its own two tallies: ``p[node]`` for increments and
``n[node]`` for decrements. Merging takes the per-node maximum of each tally, which
is commutative, associative and idempotent, so replicas that have seen the same
updates agree on ``value = Σp - Σn`` whatever the delivery order. The state travels
in exactly the shape ``{"p": {node_id: n}, "n": {node_id: n}}``.

Tallies are capped at ``COUNT_MAX`` (2**53 - 1): beyond it a JavaScript peer could
no longer represent the number exactly, so the counter refuses to go there rather
than let replicas disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypedDict

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.hlc import validate_node_id
from topgun_core.listeners import Listeners

__all__ = ["COUNT_MAX", "CounterListener", "PNCounter", "PNCounterState"]

COUNT_MAX = 2**53 - 1
"""Largest per-node tally (JavaScript's ``Number.MAX_SAFE_INTEGER``)."""


class PNCounterState(TypedDict):
    """A counter's replicated state: per-node increment and decrement tallies."""

    p: dict[str, int]
    n: dict[str, int]


CounterListener = Callable[[int], None]
"""Change callback receiving the new value."""


class PNCounter:
    """A PN counter replica owned by ``node_id`` (the only tallies it raises locally)."""

    __slots__ = ("_listeners", "_n", "_node_id", "_p", "_value")

    def __init__(self, node_id: str) -> None:
        self._node_id = validate_node_id(node_id)
        self._p: dict[str, int] = {}
        self._n: dict[str, int] = {}
        self._value = 0  # Σp - Σn, kept incrementally
        self._listeners: Listeners[[int]] = Listeners()

    @property
    def node_id(self) -> str:
        """The node whose tallies local operations raise."""
        return self._node_id

    @property
    def value(self) -> int:
        """The counter's value: Σp - Σn."""
        return self._value

    @property
    def state(self) -> PNCounterState:
        """A copy of the state in wire shape ``{"p": {...}, "n": {...}}``."""
        return {"p": dict(self._p), "n": dict(self._n)}

    def increment(self) -> int:
        """Add 1; return the new value."""
        return self.add_and_get(1)

    def decrement(self) -> int:
        """Subtract 1; return the new value."""
        return self.add_and_get(-1)

    def add_and_get(self, delta: int) -> int:
        """Add ``delta`` (negative subtracts); return the new value.

        Raises ``LimitExceeded`` if this node's tally would pass ``COUNT_MAX``.
        """
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"delta must be an int, got {delta!r}")
        if delta == 0:
            return self._value
        tallies = self._p if delta > 0 else self._n
        new = tallies.get(self._node_id, 0) + abs(delta)
        if new > COUNT_MAX:
            raise LimitExceeded("counter tally", new, COUNT_MAX)
        tallies[self._node_id] = new
        self._value += delta
        self._notify()
        return self._value

    def merge(self, state: Mapping[str, object]) -> bool:
        """Merge a remote state by per-node maxima; return whether anything changed.

        The whole state is validated first (``ValidationError`` naming the field), so
        a bad state changes nothing.
        """
        p, n = _validated(state)
        changed = _merge_max(self._p, p) | _merge_max(self._n, n)
        if changed:
            self._value = sum(self._p.values()) - sum(self._n.values())
            self._notify()
        return changed

    def subscribe(self, listener: CounterListener) -> Callable[[], None]:
        """Call ``listener(value)`` after every change; return a function that detaches it."""
        return self._listeners.add(listener)

    def _notify(self) -> None:
        self._listeners.notify(self._value)


def _merge_max(local: dict[str, int], remote: dict[str, int]) -> bool:
    changed = False
    for node, count in remote.items():
        if count > local.get(node, 0):
            local[node] = count
            changed = True
    return changed


def _validated(state: Mapping[str, object]) -> tuple[dict[str, int], dict[str, int]]:
    if not isinstance(state, Mapping):
        raise ValidationError("state", "must be an object {p, n}")
    extra = set(state) - {"p", "n"}
    if extra:
        raise ValidationError("state", f"unexpected fields {sorted(map(str, extra))}")
    return _validated_tallies(state, "p"), _validated_tallies(state, "n")


def _validated_tallies(state: Mapping[str, object], field: str) -> dict[str, int]:
    tallies = state.get(field)
    if not isinstance(tallies, Mapping):
        raise ValidationError(f"state.{field}", "must be an object {nodeId: count}")
    checked: dict[str, int] = {}
    for node, count in tallies.items():
        try:
            validate_node_id(node)
        except ValidationError:
            raise ValidationError(f"state.{field}", f"invalid node id {node!r}") from None
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= COUNT_MAX:
            raise ValidationError(
                f"state.{field}.{node}", f"must be an integer in [0, {COUNT_MAX}], got {count!r}"
            )
        checked[node] = count
    return checked
