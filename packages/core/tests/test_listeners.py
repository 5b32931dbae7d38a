"""Listeners: detach really detaches, notify sees a snapshot, errors propagate."""

from __future__ import annotations

import pytest

from topgun_core.listeners import Listeners


def test_add_notify_and_unsubscribe() -> None:
    seen: list[tuple[str, int]] = []
    listeners: Listeners[[str, int]] = Listeners()
    off = listeners.add(lambda k, v: seen.append((k, v)))
    listeners.notify("a", 1)
    off()
    off()  # idempotent
    listeners.notify("b", 2)
    assert seen == [("a", 1)]
    assert not listeners
    assert len(listeners) == 0


def test_listener_may_unsubscribe_itself_while_notified() -> None:
    calls: list[str] = []
    listeners: Listeners[[]] = Listeners()

    def first() -> None:
        calls.append("first")
        off_first()

    off_first = listeners.add(first)
    listeners.add(lambda: calls.append("second"))
    listeners.notify()
    listeners.notify()
    assert calls == ["first", "second", "second"]


def test_listener_errors_propagate_to_the_notifier() -> None:
    listeners: Listeners[[]] = Listeners()

    def boom() -> None:
        raise RuntimeError("listener failed")

    listeners.add(boom)
    with pytest.raises(RuntimeError, match="listener failed"):
        listeners.notify()
