"""Start-up and clean shutdown of the services behind one app.

:func:`build_context` wires the services together (no I/O beyond reading the
stored map kinds and GC horizon). :func:`shutdown_gracefully` is the clean
shutdown of HARDENING.md §11, idempotent:

1. stop taking connections and writes (``/ready`` turns 503; new writes are
   refused with 503);
2. tell every client ``SHUTDOWN_PENDING {retryAfter}``;
3. drain the persistence queue (everything acknowledged or applied is made durable);
4. close every connection with 1001 and wait for them to finish.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from pathlib import Path

from topgun_core.clock import Clock, SystemClock
from topgun_core.hlc import HLC, Timestamp
from topgun_core.policies import Policy, PolicyEngine
from topgun_core.protocol import Limits
from topgun_core.storage import StorageAdapter
from topgun_server.auth.keys import KeyMaterial
from topgun_server.auth.tokens import TokenVerifier
from topgun_server.context import ServerContext
from topgun_server.metrics import Metrics
from topgun_server.services.broadcast import Broadcast
from topgun_server.services.coordination import build_coordination
from topgun_server.services.gc import TombstoneGC
from topgun_server.services.live import LiveConfig, LiveQueries
from topgun_server.services.maps import Maps, MapSlot
from topgun_server.services.persistence import PersistenceQueue
from topgun_server.settings import ConfigError, ServerSettings

__all__ = ["build_context", "load_policies", "shutdown_gracefully"]

_log = logging.getLogger(__name__)


def load_policies(path: Path | None) -> PolicyEngine:
    """The policy engine for a policies file (a JSON list), or the default policies."""
    if path is None:
        return PolicyEngine()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the policies file: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ConfigError("the policies file must hold a JSON list of policy objects")
    try:
        return PolicyEngine([Policy.from_dict(item) for item in data])
    except ValueError as exc:
        raise ConfigError(f"invalid policy: {exc}") from None


async def build_context(
    settings: ServerSettings,
    storage: StorageAdapter,
    keys: KeyMaterial,
    policies: PolicyEngine,
    task_group: asyncio.TaskGroup,
    clock: Clock | None = None,
) -> ServerContext:
    """Wire the services over an opened ``storage``."""
    clock = clock or SystemClock()
    node_id = settings.node_id or f"srv-{secrets.token_hex(4)}"
    hlc = HLC(node_id, clock=clock, max_drift_ms=settings.max_drift_ms)
    metrics = Metrics(settings.metrics_map_labels_max)
    persistence = PersistenceQueue(
        storage,
        metrics,
        ops_max=settings.persistence_queue_ops_max,
        batch_ops_max=settings.persistence_batch_ops_max,
        retry_ms_max=settings.persistence_retry_ms_max,
    )
    maps = Maps(
        storage,
        hlc,
        metrics,
        task_group,
        memory_bytes_max=settings.maps_memory_bytes_max,
        has_pending_writes=persistence.pending_for,
    )
    gc = TombstoneGC(
        storage,
        maps,
        persistence,
        metrics,
        clock,
        node_id,
        interval_ms=settings.gc_interval_ms,
        tombstone_age_ms=settings.gc_tombstone_age_ms,
    )
    live = LiveQueries(maps, storage, clock, _live_config(settings))
    await live.start()
    await maps.start()
    await gc.start()
    coordination = await build_coordination(settings, storage, clock, hlc, persistence, task_group)
    ctx = ServerContext(
        settings=settings,
        node_id=node_id,
        clock=clock,
        hlc=hlc,
        drift=HLC(node_id, clock=clock, max_drift_ms=settings.max_drift_ms, strict=True),
        storage=storage,
        verifier=TokenVerifier(
            keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_s=settings.jwt_leeway_s,
        ),
        policies=policies,
        metrics=metrics,
        maps=maps,
        persistence=persistence,
        broadcast=Broadcast(),
        gc=gc,
        **coordination,
        live=live,
        limits=settings.limits(),
        preauth_limits=Limits(frame_bytes_max=settings.preauth_frame_bytes_max),
    )
    _hook_maps(ctx)
    gc.on_pruned = lambda horizon: _announce_prune(ctx, horizon)
    return ctx


def _hook_maps(ctx: ServerContext) -> None:
    """What happens when a map changes, loads and is evicted; map sizes for metrics."""
    ctx.metrics.watch_map_sizes(ctx.maps.sizes)
    ctx.maps.on_change(ctx.journal.on_change)
    ctx.maps.on_loaded = lambda slot: _loaded(ctx, slot)
    ctx.maps.on_evicted = ctx.live.evicted


def _live_config(settings: ServerSettings) -> LiveConfig:
    return LiveConfig(
        per_client_max=settings.query_subscriptions_per_client_max,
        per_map_max=settings.query_subscriptions_per_map_max,
        results_max=settings.query_results_max,
        advisor_threshold=settings.index_advisor_threshold,
        fulltext=settings.fulltext,
        indexes=settings.indexes,
    )


def _loaded(ctx: ServerContext, slot: MapSlot) -> None:
    _prune_loaded(ctx, slot)
    ctx.live.loaded(slot)


def _prune_loaded(ctx: ServerContext, slot: MapSlot) -> None:
    batch = ctx.gc.prune(slot)
    if batch:
        task = ctx.maps.task_group.create_task(ctx.persistence.submit_applied(batch))
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[asyncio.Future[None]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.warning("queuing GC deletes of a loaded map failed: %s", task.exception())


def _announce_prune(ctx: ServerContext, horizon: Timestamp) -> None:
    ctx.broadcast.to_all(
        [s for s in ctx.sessions if s.authenticated],
        {"type": "GC_PRUNE", "payload": {"olderThan": horizon.to_wire()}},
    )


async def shutdown_gracefully(ctx: ServerContext) -> None:
    """SHUTDOWN_PENDING, stop writes, drain persistence, close every socket with 1001."""
    lifecycle = ctx.lifecycle
    if lifecycle.shutting_down:
        return
    lifecycle.shutting_down = True
    lifecycle.accepting_writes = False
    settings = ctx.settings
    sessions = list(ctx.sessions)
    _log.info("shutting down: %d connections, %d ops queued", len(sessions), ctx.persistence.depth)
    ctx.broadcast.to_all(
        sessions, {"type": "SHUTDOWN_PENDING", "retryAfter": settings.shutdown_retry_after_ms}
    )
    try:
        async with asyncio.timeout(settings.shutdown_drain_timeout_s):
            await ctx.persistence.drain()
    except TimeoutError:
        _log.error("persistence did not drain within %s s", settings.shutdown_drain_timeout_s)
    for session in sessions:
        session.close(1001, "server shutting down")
    waits = [asyncio.ensure_future(s.finished.wait()) for s in sessions]
    if waits:
        _, pending = await asyncio.wait(waits, timeout=settings.shutdown_drain_timeout_s)
        for wait in pending:
            wait.cancel()
