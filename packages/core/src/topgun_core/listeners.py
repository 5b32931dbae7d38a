"""A small set of change listeners with unsubscribe handles.

Every observable thing in core (maps, counters) keeps its callbacks in one of these:
``add`` returns a function that really detaches the listener (idempotent), and
``notify`` calls a snapshot of the current listeners, so a listener may unsubscribe
itself or others while being called. A listener's exception propagates to the caller
of ``notify`` — the change it reports has already been applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec

__all__ = ["Listeners"]

P = ParamSpec("P")


class Listeners(Generic[P]):
    """Callbacks of one signature, each removable through the handle ``add`` returns."""

    __slots__ = ("_by_token", "_next_token")

    def __init__(self) -> None:
        self._by_token: dict[int, Callable[P, None]] = {}
        self._next_token = 0

    def add(self, listener: Callable[P, None]) -> Callable[[], None]:
        """Register ``listener``; return a function that detaches it."""
        token = self._next_token
        self._next_token += 1
        self._by_token[token] = listener

        def unsubscribe() -> None:
            self._by_token.pop(token, None)

        return unsubscribe

    def notify(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every listener registered right now with these arguments."""
        for listener in tuple(self._by_token.values()):
            listener(*args, **kwargs)

    def __len__(self) -> int:
        return len(self._by_token)

    def __bool__(self) -> bool:
        return bool(self._by_token)
