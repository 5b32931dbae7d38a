"""Where the connection gets its token, and when it asks for a new one.

A static ``token`` is used as given. A ``token_provider`` (an async callable) is
asked on the first connection, again after the server refused the token
(``AUTH_FAIL`` or close 4001), and again when the cached token's ``exp`` claim has
passed (read without verification — the server verifies; the client only wants to
avoid sending a token it knows is stale). The caller asks at most once per
connection attempt, and attempts are spaced by the reconnect backoff, so a provider
returning bad tokens is never called in a hot loop.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable

from topgun_core.clock import Clock
from topgun_core.errors import AuthError

__all__ = ["TokenProvider", "TokenSource", "token_expiry_ms"]

TokenProvider = Callable[[], Awaitable[str]]
"""An async callable returning a fresh JWT."""


def token_expiry_ms(token: str) -> int | None:
    """The ``exp`` claim of a JWT in milliseconds, or None if there is none or it is unreadable."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return int(exp * 1000)


class TokenSource:
    """Hands out the token for the next connection attempt."""

    __slots__ = ("_clock", "_provider", "_stale", "_token", "calls")

    def __init__(self, token: str | None, provider: TokenProvider | None, clock: Clock) -> None:
        if token is None and provider is None:
            raise ValueError("pass token= or token_provider=")
        self._token = token
        self._provider = provider
        self._clock = clock
        self._stale = token is None
        self.calls = 0
        """How many times the provider was asked."""

    def invalidate(self) -> None:
        """The server refused the current token."""
        self._stale = True

    def _expired(self, token: str) -> bool:
        expiry = token_expiry_ms(token)
        return expiry is not None and expiry <= self._clock.now_ms()

    async def get(self) -> str:
        """The token to authenticate with now."""
        token = self._token
        if self._provider is not None and (token is None or self._stale or self._expired(token)):
            self.calls += 1
            try:
                fresh: object = await self._provider()
            except Exception as exc:  # user code: whatever it raises is an auth failure here
                raise AuthError(f"token_provider failed: {exc!r}") from exc
            if not isinstance(fresh, str) or not fresh:
                raise AuthError("token_provider returned no token")
            self._token, self._stale = fresh, False
            return fresh
        assert token is not None
        return token
