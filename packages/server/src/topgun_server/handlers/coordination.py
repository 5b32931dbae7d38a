"""Routes for topics, locks, counters and the event journal (issue 5).

Until those handlers land, each type is listed explicitly with
:func:`~topgun_server.handlers.unsupported.not_supported` (``ERROR 501``).
"""

from __future__ import annotations

from topgun_core import protocol as p
from topgun_server.handlers.routing import Route, route
from topgun_server.handlers.unsupported import not_supported

__all__ = ["COORDINATION_ROUTES"]

COORDINATION_ROUTES: tuple[Route, ...] = (
    route(p.LockRequestMessage, not_supported),
    route(p.LockReleaseMessage, not_supported),
    route(p.TopicSubMessage, not_supported),
    route(p.TopicUnsubMessage, not_supported),
    route(p.TopicPubMessage, not_supported),
    route(p.CounterRequestMessage, not_supported),
    route(p.CounterSyncMessage, not_supported),
    route(p.JournalSubscribeMessage, not_supported),
    route(p.JournalUnsubscribeMessage, not_supported),
    route(p.JournalReadMessage, not_supported),
)
