"""TopGun's testing kit: deterministic stand-ins for the things core takes injected.

Shipped with the library (like ``trio.testing``) so that applications and the other
TopGun packages test against the same tools the core tests use.
"""

from __future__ import annotations

__all__ = ["FakeClock"]


class FakeClock:
    """A manually driven clock: time moves only when a test moves it."""

    __slots__ = ("_now_ms",)

    def __init__(self, start_ms: int = 0) -> None:
        self._now_ms = start_ms

    def now_ms(self) -> int:
        """The current fake time in milliseconds."""
        return self._now_ms

    def advance(self, ms: int) -> None:
        """Move time forward by ``ms`` milliseconds (never backwards)."""
        if ms < 0:
            raise ValueError("FakeClock.advance takes a non-negative duration")
        self._now_ms += ms

    def set(self, ms: int) -> None:
        """Jump to an absolute time (may go backwards, to model a wall-clock step)."""
        self._now_ms = ms
