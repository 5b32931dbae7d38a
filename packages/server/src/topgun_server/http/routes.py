"""HTTP routes on the same port as the WebSocket endpoint.

* ``GET /health`` — pings the store (bounded by a timeout): 200 ``{"status":"ok"}``,
  or 503 ``{"status":"unavailable"}`` when the store does not answer. No token.
* ``GET /ready`` — 200 while the server takes connections and writes, 503 before
  start-up finished and while shutting down. No token.
* ``GET /metrics`` — Prometheus text; needs a valid bearer token.
* ``GET /api/admin/maps`` and ``GET /api/admin/status`` — need a token with the
  ADMIN role (401 without a valid token, 403 without the role).
* ``POST /api/admin/maps/{mapName}/fulltext`` with ``{"fields": [...]}`` (ADMIN) —
  enables full-text search on a map and builds its index from the existing data
  in the background: 202, progress under ``fullText`` in ``/api/admin/status``.

Errors are JSON ``{"error": …}`` with safe text; details go to the log only.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from topgun_core.errors import AuthError, TopGunError
from topgun_core.policies import Principal
from topgun_server.context import ServerContext
from topgun_server.services.live.hub import live_status
from topgun_server.services.maps import MapState

__all__ = ["HEALTH_TIMEOUT_S", "routes"]

_log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 3.0


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing bearer token")
    return _ctx(request).verifier.verify(token.strip())


def _denied(exc: TopGunError) -> JSONResponse:
    return JSONResponse({"error": exc.message}, status_code=exc.code)


async def health(request: Request) -> Response:
    """Whether the store answers."""
    ctx = _ctx(request)
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            await ctx.storage.ping()
    except (TopGunError, TimeoutError) as exc:
        _log.warning("health check: storage unavailable: %s", exc)
        return JSONResponse({"status": "unavailable", "storage": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "storage": "up"})


async def ready(request: Request) -> Response:
    """Whether the server takes connections and writes."""
    lifecycle = _ctx(request).lifecycle
    if lifecycle.ready and not lifecycle.shutting_down:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not ready"}, status_code=503)


async def metrics(request: Request) -> Response:
    """Prometheus exposition (token required)."""
    try:
        _principal(request)
    except AuthError as exc:
        return _denied(exc)
    ctx = _ctx(request)
    ctx.metrics.persistence_queue_depth.set(ctx.persistence.depth)
    return Response(ctx.metrics.render(), media_type="text/plain; version=0.0.4")


def _admin(request: Request) -> JSONResponse | None:
    try:
        principal = _principal(request)
    except AuthError as exc:
        return _denied(exc)
    if not principal.is_admin:
        return JSONResponse({"error": "the ADMIN role is required"}, status_code=403)
    return None


async def admin_maps(request: Request) -> Response:
    """Every known map: kind, whether loaded, live items, estimated bytes."""
    refusal = _admin(request)
    if refusal is not None:
        return refusal
    ctx = _ctx(request)
    loaded = {slot.name: slot for slot in ctx.maps.loaded()}
    maps = []
    for name, kind in sorted(ctx.maps.kinds().items()):
        slot = loaded.get(name)
        ready_slot = slot if slot is not None and slot.state is MapState.READY else None
        maps.append(
            {
                "name": name,
                "kind": kind,
                "state": slot.state.value if slot is not None else "UNLOADED",
                "items": ready_slot.live_items() if ready_slot is not None else None,
                "estimatedBytes": slot.estimated_bytes if slot is not None else 0,
                "pendingWrites": ctx.persistence.pending_for(name),
                "holders": ctx.broadcast.holders(name),
            }
        )
    return JSONResponse({"maps": maps})


async def admin_status(request: Request) -> Response:
    """Node, uptime, connections, memory and persistence state."""
    refusal = _admin(request)
    if refusal is not None:
        return refusal
    ctx = _ctx(request)
    from topgun_server import __version__

    return JSONResponse(
        {
            "nodeId": ctx.node_id,
            "version": __version__,
            "env": ctx.settings.env,
            "uptimeS": round(time.monotonic() - ctx.lifecycle.started_s, 3),
            "connections": len(ctx.sessions),
            "connectionsMax": ctx.settings.connections_max,
            "mapsLoaded": sum(1 for _ in ctx.maps.loaded()),
            "mapsMemoryBytes": ctx.maps.total_bytes(),
            "mapsMemoryBytesMax": ctx.maps.memory_bytes_max,
            "persistenceQueueDepth": ctx.persistence.depth,
            "persistenceQueueOpsMax": ctx.persistence.ops_max,
            "gcHorizonMs": ctx.gc.horizon_ms,
            "ready": ctx.lifecycle.ready and not ctx.lifecycle.shutting_down,
            **live_status(ctx.live),
        }
    )


async def admin_fulltext(request: Request) -> Response:
    """Enable full-text search on a map (``{"fields": [...]}``) and build it in the background."""
    refusal = _admin(request)
    if refusal is not None:
        return refusal
    name = request.path_params["map_name"]
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be JSON"}, status_code=400)
    fields = body.get("fields") if isinstance(body, dict) else None
    ok = isinstance(fields, list) and fields and all(isinstance(f, str) and f for f in fields)
    if not ok or len(set(fields)) != len(fields):  # type: ignore[arg-type]
        return JSONResponse(
            {"error": "fields must be a non-empty list of distinct field names"}, status_code=400
        )
    ctx = _ctx(request)
    kind = ctx.maps.kinds().get(name)
    if kind == "or":
        return JSONResponse({"error": "full-text search needs an LWW map"}, status_code=409)
    await ctx.live.enable_fulltext(name, tuple(fields))  # type: ignore[arg-type]
    return JSONResponse({"map": name, "fields": fields, "state": "building"}, status_code=202)


def routes() -> list[Route]:
    """The HTTP routes."""
    return [
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/api/admin/maps", admin_maps, methods=["GET"]),
        Route("/api/admin/status", admin_status, methods=["GET"]),
        Route("/api/admin/maps/{map_name}/fulltext", admin_fulltext, methods=["POST"]),
    ]
