"""``build_app(settings)``: the Starlette application and its lifespan.

The app serves the WebSocket endpoint at ``/ws`` and the HTTP routes of
:mod:`topgun_server.http.routes` on one port. Its lifespan opens the store
(``open_storage(settings.storage)`` unless a ready adapter is passed), wires the
services (:func:`~topgun_server.lifecycle.build_context`) and runs the background
tasks — the persistence flusher, the tombstone GC and map loads — in one task
group that lives exactly as long as the app. On exit it shuts down gracefully
(SHUTDOWN_PENDING, drain, close 1001) if the runner has not already done so, stops
the background tasks and closes the store.

Configuration problems (a weak production secret, an unreadable key or policies
file) raise :class:`~topgun_server.settings.ConfigError` from ``build_app`` itself,
before anything listens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import WebSocketRoute

from topgun_adapters import open_storage
from topgun_core.clock import Clock
from topgun_core.storage import StorageAdapter
from topgun_server.auth.keys import KeyMaterial, load_keys
from topgun_server.context import ServerContext
from topgun_server.http.routes import routes
from topgun_server.interceptors import Interceptor
from topgun_server.lifecycle import build_context, load_policies, shutdown_gracefully
from topgun_server.settings import ServerSettings
from topgun_server.ws.endpoint import websocket_endpoint

__all__ = ["build_app", "context_of"]

_log = logging.getLogger(__name__)


def context_of(app: Starlette) -> ServerContext | None:
    """The running app's context (None before start-up)."""
    ctx: ServerContext | None = getattr(app.state, "ctx", None)
    return ctx


def build_app(
    settings: ServerSettings | None = None,
    *,
    storage: StorageAdapter | None = None,
    keys: KeyMaterial | None = None,
    clock: Clock | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Starlette:
    """The server as an ASGI app; ``storage`` overrides ``settings.storage``;
    ``interceptors`` are registered in order (see :mod:`topgun_server.interceptors`)."""
    settings = settings or ServerSettings()
    keys = keys or load_keys(settings)
    policies = load_policies(settings.policies_file)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = storage if storage is not None else open_storage(settings.storage)
        await store.open()
        try:
            async with asyncio.TaskGroup() as tg:
                ctx = await build_context(settings, store, keys, policies, tg, clock)
                ctx.interceptors.extend(interceptors)
                app.state.ctx = ctx
                background = [
                    tg.create_task(ctx.persistence.run()),
                    tg.create_task(ctx.gc.run()),
                    tg.create_task(ctx.locks.run()),
                    tg.create_task(ctx.journal.run()),
                    tg.create_task(ctx.live.run()),
                ]
                ctx.lifecycle.ready = True
                _log.info("TopGun server %s ready (storage: %s)", ctx.node_id, type(store).__name__)
                try:
                    yield
                finally:
                    await shutdown_gracefully(ctx)
                    await ctx.sandbox.close()
                    for task in background:
                        task.cancel()
        finally:
            await store.close()

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET"],
                allow_headers=["Authorization"],
            )
        )
    return Starlette(
        debug=False,
        routes=[*routes(), WebSocketRoute("/ws", websocket_endpoint)],
        middleware=middleware,
        lifespan=lifespan,
    )
