"""Routes for entry processors and conflict resolvers (issue 5).

Until those handlers land, each type is listed explicitly with
:func:`~topgun_server.handlers.unsupported.not_supported` (``ERROR 501``).
"""

from __future__ import annotations

from topgun_core import protocol as p
from topgun_server.handlers.routing import Route, route
from topgun_server.handlers.unsupported import not_supported

__all__ = ["COMPUTE_ROUTES"]

COMPUTE_ROUTES: tuple[Route, ...] = (
    route(p.EntryProcessMessage, not_supported),
    route(p.EntryProcessBatchMessage, not_supported),
    route(p.RegisterResolverMessage, not_supported),
    route(p.UnregisterResolverMessage, not_supported),
    route(p.ListResolversMessage, not_supported),
)
