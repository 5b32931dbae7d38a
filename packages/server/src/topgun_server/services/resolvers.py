"""Conflict resolvers on the server: the registry, its persistence, and deciding writes.

:class:`Resolvers` holds the node's :class:`~topgun_core.resolvers.ResolverRegistry`.
A resolver registered by a connection is owned by it (``registered_by`` is the
connection id) and dropped when it disconnects — unless it was registered by an
**admin**: an admin's registrations are persistent, stored in the kv namespace
:data:`RESOLVERS_NAMESPACE` and restored on start (:meth:`Resolvers.load`).
Custom code is compiled (never run) at registration so a broken resolver is
refused up front (400).

:meth:`Resolvers.decide` answers one incoming write exactly as
:meth:`ResolverChain.resolve <topgun_core.resolvers.ResolverChain.resolve>` does —
priority order, key globs, first non-``local`` decision wins, LWW fallback, a
failing custom resolver rejects — but custom code runs in the sandbox, which is
asynchronous: the chain is evaluated with a runner that answers from decisions
already computed and otherwise stops the evaluation (:class:`_NeedsSandbox`); the
missing decision is then computed in the sandbox and the chain evaluated again.
Built-ins are cheap and only the custom resolvers the chain actually reaches run.

Writes to a map with resolvers are serialised per map (:meth:`Resolvers.lock`), so a
decision is never made against a value that changed while a resolver ran.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Final

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_core.errors import NotFoundError, PermissionDenied, TopGunError
from topgun_core.resolvers import (
    MergeContext,
    ResolverDecision,
    ResolverInfoRecord,
    ResolverRegistry,
    ResolverSpec,
    validate_resolver_decision,
)
from topgun_core.storage import StorageAdapter, WriteBatch
from topgun_server.sandbox import SandboxPool, compile_user_code

__all__ = ["RESOLVERS_NAMESPACE", "Resolvers"]

RESOLVERS_NAMESPACE: Final = "topgun.resolvers"
"""kv namespace of persistent (admin-registered) resolvers: ``[map, name]`` → spec."""

Submit = Callable[[WriteBatch], Awaitable[asyncio.Future[None]]]


class _NeedsSandbox(Exception):
    """The chain reached a custom resolver whose decision is not computed yet."""

    def __init__(self, spec: ResolverSpec) -> None:
        super().__init__(spec.name)
        self.spec = spec


def _doc_key(map_name: str, name: str) -> str:
    return json.dumps([map_name, name], separators=(",", ":"))


class Resolvers:
    """Registered resolvers, their persistence, and decisions."""

    def __init__(self, sandbox: SandboxPool, submit: Submit) -> None:
        self.registry = ResolverRegistry()
        self._sandbox = sandbox
        self._submit = submit
        self._locks: dict[str, asyncio.Lock] = {}
        self.rejected = 0

    async def load(self, storage: StorageAdapter) -> int:
        """Restore the persistent resolvers; return how many."""
        documents = await storage.kv_scan(RESOLVERS_NAMESPACE)
        for document in documents.values():
            row = msgpack.unpackb(document, raw=False)
            spec = ResolverSpec(
                row["name"],
                row.get("builtin"),
                row.get("code"),
                row["priority"],
                row["keyPattern"],
                None,
                persistent=True,
            )
            self.registry.register(row["mapName"], spec)
        return len(documents)

    def guards(self, map_name: str) -> bool:
        """Whether writes to ``map_name`` must be decided by resolvers."""
        chain = self.registry.chain(map_name)
        return chain is not None and len(chain) > 0

    def lock(self, map_name: str) -> asyncio.Lock:
        """The lock serialising resolved writes to ``map_name``."""
        lock = self._locks.get(map_name)
        if lock is None:
            lock = self._locks[map_name] = asyncio.Lock()
        return lock

    async def register(self, map_name: str, spec: ResolverSpec) -> None:
        """Register (replacing the same name); compile custom code first; persist if needed."""
        if spec.code is not None:
            compile_user_code("resolve", spec.code)
        replaced = self.registry.register(map_name, spec)
        key = _doc_key(map_name, spec.name)
        if spec.persistent:
            row = {
                "mapName": map_name,
                "name": spec.name,
                "builtin": spec.builtin,
                "code": spec.code,
                "priority": spec.priority,
                "keyPattern": spec.key_pattern,
            }
            document = msgpack.packb(row, use_bin_type=True)
            await self._submit(WriteBatch(kv_puts=[(RESOLVERS_NAMESPACE, key, document)]))
        elif replaced is not None and replaced.persistent:
            await self._submit(WriteBatch(kv_deletes=[(RESOLVERS_NAMESPACE, key)]))

    async def unregister(self, map_name: str, name: str, owner: str, *, admin: bool) -> None:
        """Remove ``name`` from ``map_name``: only its registering connection or an admin may."""
        chain = self.registry.chain(map_name)
        spec = None if chain is None else chain.get(name)
        if spec is None:
            raise NotFoundError(f"no resolver {name!r} on map {map_name!r}")
        if not admin and spec.registered_by != owner:
            raise PermissionDenied(f"resolver {name!r} was registered by another client")
        self.registry.unregister(map_name, name)
        if spec.persistent:
            key = _doc_key(map_name, name)
            await self._submit(WriteBatch(kv_deletes=[(RESOLVERS_NAMESPACE, key)]))

    def infos(self, map_name: str | None) -> list[ResolverInfoRecord]:
        """What ``LIST_RESOLVERS`` answers."""
        return self.registry.infos(map_name)

    def remove_client(self, owner: str) -> int:
        """A connection closed: drop its non-persistent resolvers; return how many."""
        return len(self.registry.remove_client(owner))

    async def decide(self, ctx: MergeContext) -> ResolverDecision:
        """The chain's decision for one write (custom code awaited in the sandbox)."""
        computed: dict[str, ResolverDecision | TopGunError] = {}

        def run_custom(spec: ResolverSpec, context: MergeContext) -> ResolverDecision:
            known = computed.get(spec.name)
            if known is None:
                raise _NeedsSandbox(spec)
            if isinstance(known, TopGunError):
                raise known
            return known

        while True:
            try:
                decision = self.registry.resolve(ctx, run_custom)
            except _NeedsSandbox as need:
                computed[need.spec.name] = await self._run(need.spec, ctx)
                continue
            if decision.action == "reject":
                self.rejected += 1
            return decision

    async def _run(self, spec: ResolverSpec, ctx: MergeContext) -> ResolverDecision | TopGunError:
        assert spec.code is not None
        try:
            raw = await self._sandbox.run("resolve", spec.code, {"ctx": ctx.to_record()})  # type: ignore[dict-item]  # a plain record
            return validate_resolver_decision(raw, ctx)
        except TopGunError as exc:
            return exc
