"""Every map's resolver chain in one bounded registry (the server holds one).

Chains are created on first registration and dropped when their last resolver
goes, so an idle map costs nothing. The registry bounds the total number of
resolvers (:data:`~topgun_core.resolvers.RESOLVERS_MAX`) on top of each chain's
per-map bound, and :meth:`ResolverRegistry.remove_client` is the disconnect hook.
"""

from __future__ import annotations

from dataclasses import replace

from topgun_core.errors import LimitExceeded
from topgun_core.resolvers._builtins import lww
from topgun_core.resolvers._chain import (
    RESOLVERS_MAX,
    RESOLVERS_PER_MAP_MAX,
    CustomResolverRunner,
    ResolverChain,
    ResolverInfoRecord,
    ResolverSpec,
)
from topgun_core.resolvers._decision import MergeContext, ResolverDecision

__all__ = ["ResolverRegistry"]


class ResolverRegistry:
    """Resolver chains by map name, with a total bound on registrations."""

    __slots__ = ("_chains", "_count", "_resolvers_max", "_resolvers_per_map_max")

    def __init__(
        self,
        *,
        resolvers_max: int = RESOLVERS_MAX,
        resolvers_per_map_max: int = RESOLVERS_PER_MAP_MAX,
    ) -> None:
        if resolvers_max < 1 or resolvers_per_map_max < 1:
            raise ValueError("resolver limits must be >= 1")
        self._resolvers_max = resolvers_max
        self._resolvers_per_map_max = resolvers_per_map_max
        self._chains: dict[str, ResolverChain] = {}
        self._count = 0

    def __len__(self) -> int:
        """Resolvers registered across all maps."""
        return self._count

    def chain(self, map_name: str) -> ResolverChain | None:
        """The chain of ``map_name`` (``None`` when it has no resolvers)."""
        return self._chains.get(map_name)

    def register(self, map_name: str, spec: ResolverSpec) -> ResolverSpec | None:
        """Register ``spec`` on ``map_name`` (replacing the same name); return the replaced one.

        Raises ``LimitExceeded`` (``resolvers_max`` or ``resolvers_per_map_max``).
        """
        chain = self._chains.get(map_name)
        is_new = chain is None or spec.name not in chain
        if is_new and self._count >= self._resolvers_max:
            raise LimitExceeded("resolvers_max", self._count + 1, self._resolvers_max)
        if chain is None:
            chain = ResolverChain(map_name, resolvers_max=self._resolvers_per_map_max)
        replaced = chain.register(spec)
        self._chains[map_name] = chain
        if replaced is None:
            self._count += 1
        return replaced

    def unregister(self, map_name: str, name: str) -> ResolverSpec | None:
        """Remove resolver ``name`` from ``map_name``; return it (``None`` if absent)."""
        chain = self._chains.get(map_name)
        removed = None if chain is None else chain.unregister(name)
        if removed is not None:
            self._count -= 1
            self._drop_if_empty(map_name)
        return removed

    def specs(self, map_name: str | None = None) -> list[tuple[str, ResolverSpec]]:
        """``(map name, spec)`` pairs of one map or all, each chain in evaluation order."""
        names = sorted(self._chains) if map_name is None else [map_name]
        return [(n, spec) for n in names if n in self._chains for spec in self._chains[n]]

    def infos(self, map_name: str | None = None) -> list[ResolverInfoRecord]:
        """The ``LIST_RESOLVERS_RESPONSE`` entries of one map or all."""
        return [spec.to_info(name) for name, spec in self.specs(map_name)]

    def remove_client(self, client_id: str) -> list[tuple[str, ResolverSpec]]:
        """Drop every non-persistent resolver ``client_id`` registered; return them."""
        removed: list[tuple[str, ResolverSpec]] = []
        for map_name, chain in list(self._chains.items()):
            removed.extend((map_name, spec) for spec in chain.remove_client(client_id))
            self._drop_if_empty(map_name)
        self._count -= len(removed)
        return removed

    def resolve(
        self, ctx: MergeContext, run_custom: CustomResolverRunner | None = None
    ) -> ResolverDecision:
        """Decide ``ctx``'s write with its map's chain, or plain LWW when it has none."""
        chain = self._chains.get(ctx.map_name)
        if chain is None:
            return replace(lww(ctx), resolver="lww")
        return chain.resolve(ctx, run_custom)

    def _drop_if_empty(self, map_name: str) -> None:
        chain = self._chains.get(map_name)
        if chain is not None and not chain:
            del self._chains[map_name]
