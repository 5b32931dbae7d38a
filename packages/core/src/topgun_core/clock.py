"""Injected time.

Core code never reads the wall clock directly: it takes a :class:`Clock`. Production
passes :class:`SystemClock`; tests pass ``topgun_core.testing.FakeClock`` so that
time-dependent rules (HLC, TTL, journal compaction) are tested without sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of wall-clock time in integer milliseconds since the Unix epoch."""

    def now_ms(self) -> int:
        """Current time in milliseconds since the epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    __slots__ = ()

    def now_ms(self) -> int:
        """Current wall-clock time in milliseconds since the epoch."""
        return time.time_ns() // 1_000_000
