"""Typed route entries shared by the per-feature route tables.

Each feature module (``handlers/queries.py``, ``handlers/coordination.py``,
``handlers/compute.py``) declares its own tuple of routes with :func:`route`;
:mod:`topgun_server.dispatch` merges them into the one table and a test proves the
merged table covers the client message union exactly, with no type claimed twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from topgun_core.protocol import ClientMessage, message_type_name
from topgun_server.context import ServerContext
from topgun_server.ws.session import Session

__all__ = ["Handler", "Route", "route"]

M = TypeVar("M")
Handler = Callable[[ServerContext, Session, ClientMessage], Awaitable[None]]
"""A handler as the table stores it (each is typed with its own message class)."""

Route = tuple[str, tuple[type, Handler]]
"""``(message type, (message class, handler))``."""


def route(
    message_class: type[M], handler: Callable[[ServerContext, Session, M], Awaitable[None]]
) -> Route:
    """One table entry; mypy checks that ``handler`` accepts exactly ``message_class``."""
    # cast: the table is keyed by the message's type literal, so dispatch only ever
    # hands a handler the class it was registered for (mypy checked that pairing above).
    return message_type_name(message_class), (message_class, cast("Handler", handler))
