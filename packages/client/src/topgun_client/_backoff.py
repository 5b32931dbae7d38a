"""Reconnect delays: capped exponential backoff with full jitter, and server retry hints.

Attempt ``n`` (0-based, counting consecutive failures) waits
``uniform(0, min(max_ms, initial_ms * 2**n))`` — "full jitter", which spreads a crowd
of clients reconnecting after an outage. A server hint (``SHUTDOWN_PENDING.retryAfter``
or the ``retryAfter`` of a 1013 close) raises the floor: the wait is the hint plus a
jitter of up to ``initial_ms``, so clients told the same time do not all come back at
the same instant. Randomness is injected (a ``random.Random``), so tests pin the
sequence. Jitter is not a secret; ``random`` is right here.
"""

from __future__ import annotations

import random
import re
from typing import Final

__all__ = ["Backoff", "parse_retry_after"]

_RETRY_AFTER: Final = re.compile(r"retryAfter\D{0,4}(\d{1,9})")


def parse_retry_after(reason: str) -> int | None:
    """The ``retryAfter`` milliseconds in a close reason (``retryAfter=500``, JSON...), or None."""
    match = _RETRY_AFTER.search(reason)
    return None if match is None else int(match.group(1))


class Backoff:
    """Delays for consecutive failed connection attempts."""

    __slots__ = ("_attempt", "_hint_ms", "_rng", "initial_ms", "max_ms")

    def __init__(self, initial_ms: int, max_ms: int, rng: random.Random | None = None) -> None:
        if not 0 < initial_ms <= max_ms:
            raise ValueError("backoff needs 0 < initial_ms <= max_ms")
        self.initial_ms = initial_ms
        self.max_ms = max_ms
        self._rng: random.Random = rng if rng is not None else random.Random()  # noqa: S311
        self._attempt = 0
        self._hint_ms: int | None = None

    @property
    def attempt(self) -> int:
        """Consecutive failures so far."""
        return self._attempt

    def cap_ms(self, attempt: int) -> int:
        """The upper bound of the delay for ``attempt`` (before any hint)."""
        return min(self.max_ms, self.initial_ms << min(attempt, 32))

    def hint(self, retry_after_ms: int) -> None:
        """Remember a server's retry hint for the next delay."""
        self._hint_ms = max(retry_after_ms, self._hint_ms or 0)

    def next_delay_ms(self) -> int:
        """The delay before the next attempt; counts the attempt and consumes any hint."""
        delay: float = self._rng.uniform(0, self.cap_ms(self._attempt))
        self._attempt += 1
        if self._hint_ms is not None:
            delay = max(delay, self._hint_ms + self._rng.uniform(0, self.initial_ms))
            self._hint_ms = None
        return int(delay + 0.5)

    def reset(self) -> None:
        """A connection succeeded: start again from the initial delay."""
        self._attempt = 0
