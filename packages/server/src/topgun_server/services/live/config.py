"""What the live-query service is told at start-up, and index specs from settings.

An index spec is ``"kind:attribute"`` — ``hash:email``, ``navigable:age``,
``inverted:tags`` — or ``compound:a,b`` for equality on several attributes
(``TOPGUN_INDEXES='{"users": ["hash:email", "navigable:age"]}'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from topgun_core.query import CompoundIndex, HashIndex, Index, InvertedIndex, NavigableIndex

__all__ = ["INDEX_KINDS", "LiveConfig", "build_indexes", "parse_index_spec"]

INDEX_KINDS = ("hash", "navigable", "inverted", "compound")


@dataclass(frozen=True, slots=True)
class LiveConfig:
    """Limits and per-map configuration of live queries and full text."""

    per_client_max: int = 1_000
    per_map_max: int = 10_000
    results_max: int = 10_000
    advisor_threshold: int = 0
    """Queries of one pattern after which the advisor creates an index (0: never)."""
    ttl_sweep_ms_max: int = 1_000
    """Longest wait between two checks for records whose TTL ran out."""
    fulltext: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    indexes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def parse_index_spec(spec: str) -> Index:
    """The (empty) index a spec names; ``ValueError`` for a malformed one."""
    kind, _, rest = spec.partition(":")
    attributes = tuple(a.strip() for a in rest.split(",") if a.strip())
    if kind not in INDEX_KINDS or not attributes:
        raise ValueError(f"index spec {spec!r} must be kind:attribute, kind in {INDEX_KINDS}")
    if kind == "compound":
        if len(attributes) < 2:
            raise ValueError(f"index spec {spec!r}: a compound index needs two attributes or more")
        return CompoundIndex(*attributes)
    if len(attributes) != 1:
        raise ValueError(f"index spec {spec!r}: a {kind} index takes one attribute")
    (attribute,) = attributes
    if kind == "hash":
        return HashIndex(attribute)
    if kind == "navigable":
        return NavigableIndex(attribute)
    return InvertedIndex(attribute)


def build_indexes(specs: Iterable[str]) -> list[Index]:
    """Fresh indexes for ``specs``."""
    return [parse_index_spec(spec) for spec in specs]
