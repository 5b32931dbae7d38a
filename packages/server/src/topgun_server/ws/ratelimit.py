"""A token bucket: ``rate_per_s`` tokens a second, at most ``burst`` saved up.

Time comes from a monotonic ``now_s`` callable (injected, so tests need no sleep).
Used twice per connection: for messages (over → ERROR 429) and for invalid
messages (over → close 4003).
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Take one token per event; refuse when the bucket is empty."""

    __slots__ = ("_last", "_now", "_tokens", "burst", "rate_per_s")

    def __init__(
        self, rate_per_s: float, burst: int, *, now_s: Callable[[], float] = time.monotonic
    ) -> None:
        assert rate_per_s > 0, "a rate must be positive"
        assert burst >= 1, "a burst must hold at least one token"
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._now = now_s
        self._tokens = float(burst)
        self._last = now_s()

    def take(self, count: int = 1) -> bool:
        """Spend ``count`` tokens if there are that many; return whether it was allowed."""
        now = self._now()
        elapsed = now - self._last
        self._last = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate_per_s)
        if self._tokens >= count:
            self._tokens -= count
            return True
        return False
