"""Hybrid logical clock and its timestamps (SEMANTICS.md §2).

A :class:`Timestamp` is ``(millis, counter, node_id)``; as a ``NamedTuple`` it
compares in exactly the required total order — millis, then counter, then node id by
code point — using the interpreter's native tuple comparison, which keeps the merge
hot path cheap.

:class:`HLC` issues monotonic timestamps for one node (:meth:`HLC.now`) and folds in
timestamps seen from other nodes (:meth:`HLC.update`). A remote timestamp further in
the future than ``max_drift_ms`` is rejected with :class:`ClockDriftError` in strict
mode — leaving the clock untouched — and logged (rate-limited) otherwise. Only HLC
timestamps may feed ``update``; plain numbers such as a PONG's server time must not.
"""

from __future__ import annotations

import logging
from typing import NamedTuple, TypedDict

from topgun_core.clock import Clock, SystemClock
from topgun_core.errors import ClockDriftError, ValidationError

__all__ = ["HLC", "Timestamp", "TimestampWire", "validate_node_id"]

_log = logging.getLogger(__name__)

DRIFT_WARNING_INTERVAL_MS = 10_000
"""Non-strict mode logs at most one drift warning per this interval."""


class TimestampWire(TypedDict):
    """A timestamp as it travels on the wire: ``{millis, counter, nodeId}``."""

    millis: int
    counter: int
    nodeId: str


def validate_node_id(node_id: object) -> str:
    """Return ``node_id`` if it is non-empty ASCII without ``:``; raise otherwise."""
    if not isinstance(node_id, str) or not node_id:
        raise ValidationError("nodeId", "must be a non-empty string")
    if not node_id.isascii() or ":" in node_id:
        raise ValidationError("nodeId", f"must be ASCII without ':' (got {node_id!r})")
    return node_id


class Timestamp(NamedTuple):
    """An HLC timestamp, totally ordered by (millis, counter, node_id)."""

    millis: int
    counter: int
    node_id: str

    def __str__(self) -> str:
        return f"{self.millis}:{self.counter}:{self.node_id}"

    @classmethod
    def parse(cls, text: object) -> Timestamp:
        """Parse ``"<millis>:<counter>:<node_id>"``; raise ``ValidationError`` naming the input."""
        parts = text.split(":") if isinstance(text, str) else []
        if len(parts) != 3 or not _is_uint(parts[0]) or not _is_uint(parts[1]):
            raise ValidationError(
                "timestamp", f"not a '<millis>:<counter>:<nodeId>' string: {text!r}"
            )
        return cls(int(parts[0]), int(parts[1]), validate_node_id(parts[2]))

    def to_wire(self) -> TimestampWire:
        """The wire shape ``{millis, counter, nodeId}``."""
        return {"millis": self.millis, "counter": self.counter, "nodeId": self.node_id}

    @classmethod
    def from_wire(cls, wire: TimestampWire) -> Timestamp:
        """Build from an already-validated wire dict (the codec checked its types)."""
        return cls(wire["millis"], wire["counter"], wire["nodeId"])


def _is_uint(text: str) -> bool:
    return text.isascii() and text.isdigit()


class HLC:
    """A hybrid logical clock for one node.

    ``clock`` supplies wall time (default: the system clock). In ``strict`` mode a
    remote timestamp more than ``max_drift_ms`` ahead of wall time raises
    :class:`ClockDriftError`; otherwise it is accepted with a rate-limited warning.
    """

    __slots__ = (
        "_clock",
        "_counter",
        "_last_warning_ms",
        "_millis",
        "max_drift_ms",
        "node_id",
        "strict",
    )

    def __init__(
        self,
        node_id: str,
        *,
        clock: Clock | None = None,
        max_drift_ms: int = 60_000,
        strict: bool = False,
    ) -> None:
        if max_drift_ms < 0:
            raise ValueError("max_drift_ms must be >= 0")
        self.node_id = validate_node_id(node_id)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self.max_drift_ms = max_drift_ms
        self.strict = strict
        self._millis = 0
        self._counter = 0
        self._last_warning_ms: int | None = None

    @property
    def clock(self) -> Clock:
        """The wall clock this HLC reads."""
        return self._clock

    @property
    def last(self) -> Timestamp:
        """The most recent state of the clock (not a fresh timestamp)."""
        return Timestamp(self._millis, self._counter, self.node_id)

    def now(self) -> Timestamp:
        """Issue a new timestamp, strictly greater than every one issued or seen before."""
        wall = self._clock.now_ms()
        if wall > self._millis:
            self._millis = wall
            self._counter = 0
        else:
            self._counter += 1
        return Timestamp(self._millis, self._counter, self.node_id)

    def check_drift(self, remote: Timestamp) -> None:
        """Raise ``ClockDriftError`` (strict) or warn if ``remote`` is too far ahead.

        Lets a caller validate a whole batch before applying any of it.
        """
        self._check_drift(remote, self._clock.now_ms())

    def _check_drift(self, remote: Timestamp, wall: int) -> None:
        drift = remote.millis - wall
        if drift <= self.max_drift_ms:
            return
        if self.strict:
            raise ClockDriftError(drift, self.max_drift_ms)
        if (
            self._last_warning_ms is None
            or wall - self._last_warning_ms >= DRIFT_WARNING_INTERVAL_MS
        ):
            self._last_warning_ms = wall
            _log.warning(
                "clock drift of %d ms from node %s exceeds the maximum of %d ms",
                drift,
                remote.node_id,
                self.max_drift_ms,
            )

    def update(self, remote: Timestamp) -> None:
        """Fold a timestamp received from another node into this clock."""
        wall = self._clock.now_ms()  # read once: drift check and merge see the same instant
        self._check_drift(remote, wall)
        last_millis, last_counter = self._millis, self._counter
        millis = max(last_millis, wall, remote.millis)
        if millis == last_millis == remote.millis:
            counter = max(last_counter, remote.counter) + 1
        elif millis == last_millis:
            counter = last_counter + 1
        elif millis == remote.millis:
            counter = remote.counter + 1
        else:
            counter = 0
        self._millis = millis
        self._counter = counter
