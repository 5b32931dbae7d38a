"""Routes for live queries, full-text search and hybrid queries (issue 4).

Until those handlers land, each type is listed explicitly with
:func:`~topgun_server.handlers.unsupported.not_supported` (``ERROR 501``).
"""

from __future__ import annotations

from topgun_core import protocol as p
from topgun_server.handlers.routing import Route, route
from topgun_server.handlers.unsupported import not_supported

__all__ = ["QUERY_ROUTES"]

QUERY_ROUTES: tuple[Route, ...] = (
    route(p.QuerySubMessage, not_supported),
    route(p.QueryUnsubMessage, not_supported),
    route(p.HybridQuerySubMessage, not_supported),
    route(p.HybridQueryUnsubMessage, not_supported),
    route(p.SearchMessage, not_supported),
    route(p.SearchSubMessage, not_supported),
    route(p.SearchUnsubMessage, not_supported),
)
