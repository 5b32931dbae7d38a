"""The built-in conflict resolvers (SEMANTICS.md §11), as pure functions of a context.

Each is ``(ctx) -> ResolverDecision``. They come in three kinds, which decides how
they compose in a chain:

- **Guards** only ``reject`` or say ``local`` (no opinion), so the rest of the
  chain still runs when they let a write through: ``non_negative``,
  ``first_write_wins``, ``immutable``, ``server_only``, ``owner_only``.
- **Shapers** ``accept`` or ``merge`` (ending the chain) when both sides have the
  shape they handle and say ``local`` otherwise: ``numeric_min``, ``numeric_max``,
  ``array_union``, ``deep_merge``. A removal (``remote_value is None``) is never
  shaped: it passes on to the rest of the chain.
- **Orderers** decide which write wins: ``lww`` (also the chain's fallback) and
  ``version_increment``.

Give guards a higher priority than shapers and orderers: a resolver that accepts
ends the chain, so a guard below it never runs.

Precise rules:

- ``lww``: accept when there is no local record or the remote timestamp is
  strictly greater; otherwise ``local`` (a stale write is ignored silently).
- ``first_write_wins``: once the key holds a value, a write of a *different*
  value is rejected (arrival order at the owner, not client timestamps, which a
  client could forge); writing the same value again and removing the key pass.
- ``immutable``: like ``first_write_wins`` but removals are rejected too.
- ``numeric_min`` / ``numeric_max``: a non-number write is rejected; with a
  number on both sides the smaller / larger wins (``accept`` when it is the remote
  one, ``merge`` with the local value otherwise); with no local number, ``local``.
- ``non_negative``: a number below 0 is rejected; anything else passes.
- ``array_union``: two arrays merge to the local items followed by the remote
  items not already present (``json_equal``, duplicates dropped).
- ``deep_merge``: two objects merge recursively (remote wins for scalars and
  arrays; ``deep_merge_values``).
- ``server_only``: every write carrying a principal (any client, admins included)
  is rejected; server-internal writes (``auth is None``) pass.
- ``owner_only``: a record's owner is its ``ownerId`` field, or ``owner`` when
  there is no ``ownerId`` (a string; see :func:`owner_of`). Server-internal writes
  and admins pass. Otherwise: creating a key requires the new value to name the
  writer as owner; changing or removing one requires the writer to be its owner,
  and a change must keep the same owner. A record without an owner can be
  changed by nobody but admins and the server.
- ``version_increment``: optimistic concurrency on an integer ``version`` field.
  The current version is the local value's ``version`` (0 when absent or when the
  local value has none). A write must be an object whose ``version`` is exactly
  current + 1 and is then accepted whatever its timestamp; any other version is
  rejected naming the expected one. Removals pass (a later create starts again
  at version 1).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Final, TypeAlias

from topgun_core.or_map import json_equal
from topgun_core.processors import deep_merge_values
from topgun_core.resolvers._decision import MergeContext, ResolverDecision
from topgun_core.values import JsonValue

__all__ = ["BUILTIN_RESOLVERS", "ResolverFunction", "lww", "owner_of"]

ResolverFunction: TypeAlias = Callable[[MergeContext], ResolverDecision]
"""A built-in resolver."""

Decision = ResolverDecision
_LOCAL: Final = ResolverDecision.local()


def _is_number(value: JsonValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def lww(ctx: MergeContext) -> Decision:
    """Last write wins by HLC timestamp (strictly newer remote wins)."""
    if ctx.local_timestamp is None or ctx.remote_timestamp > ctx.local_timestamp:
        return Decision.accept(ctx.remote_value)
    return _LOCAL


def first_write_wins(ctx: MergeContext) -> Decision:
    """Reject a different value once the key holds one."""
    if ctx.local_value is None or ctx.remote_value is None:
        return _LOCAL
    if json_equal(ctx.local_value, ctx.remote_value):
        return _LOCAL
    return Decision.reject("first_write_wins: the key already has a value")


def immutable(ctx: MergeContext) -> Decision:
    """Reject every change and removal once the key holds a value."""
    if ctx.local_value is None or json_equal(ctx.local_value, ctx.remote_value):
        return _LOCAL
    return Decision.reject("immutable: the value cannot change once written")


def _numeric(name: str, pick: Callable[[float, float], float]) -> ResolverFunction:
    def resolve(ctx: MergeContext) -> Decision:
        remote, local = ctx.remote_value, ctx.local_value
        if remote is None:
            return _LOCAL
        if not _is_number(remote):
            return Decision.reject(f"{name}: the value must be a number")
        if not _is_number(local):
            return _LOCAL
        assert isinstance(remote, int | float)
        assert isinstance(local, int | float)
        if pick(remote, local) == remote and remote != local:
            return Decision.accept(remote)
        return Decision.merge(local)

    return resolve


def non_negative(ctx: MergeContext) -> Decision:
    """Reject a number below zero."""
    remote = ctx.remote_value
    if _is_number(remote) and isinstance(remote, int | float) and remote < 0:
        return Decision.reject(f"non_negative: the value must not be negative (got {remote})")
    return _LOCAL


def _identity(value: JsonValue) -> Hashable:
    # Equal exactly when json_equal says so: 1 and 1.0 share a key, True and 1 do not.
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, list):
        return ("l", tuple(_identity(v) for v in value))
    if isinstance(value, dict):
        return ("d", frozenset((k, _identity(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def array_union(ctx: MergeContext) -> Decision:
    """Merge two arrays into their union, local order first."""
    local, remote = ctx.local_value, ctx.remote_value
    if not isinstance(local, list) or not isinstance(remote, list):
        return _LOCAL
    seen: set[Hashable] = set()
    union: list[JsonValue] = []
    for item in (*local, *remote):
        identity = _identity(item)
        if identity not in seen:
            seen.add(identity)
            union.append(item)
    return Decision.accept(remote) if json_equal(union, remote) else Decision.merge(union)


def deep_merge(ctx: MergeContext) -> Decision:
    """Merge two objects recursively, the remote side winning for non-objects."""
    local, remote = ctx.local_value, ctx.remote_value
    if not isinstance(local, dict) or not isinstance(remote, dict):
        return _LOCAL
    merged = deep_merge_values(local, remote)
    return Decision.accept(remote) if json_equal(merged, remote) else Decision.merge(merged)


def server_only(ctx: MergeContext) -> Decision:
    """Reject every write that comes from a client."""
    if ctx.auth is None:
        return _LOCAL
    return Decision.reject("server_only: this key is written only by the server")


def owner_of(value: JsonValue) -> str | None:
    """The owner of a record value: its ``ownerId`` field, else ``owner``, if a string."""
    if not isinstance(value, dict):
        return None
    owner = value["ownerId"] if "ownerId" in value else value.get("owner")
    return owner if isinstance(owner, str) else None


def owner_only(ctx: MergeContext) -> Decision:
    """Only a record's owner may change it (admins and the server may too)."""
    auth = ctx.auth
    if auth is None or auth.is_admin:
        return _LOCAL
    remote_owner = owner_of(ctx.remote_value)
    if ctx.local_value is None:
        if ctx.remote_value is None or remote_owner == auth.user_id:
            return _LOCAL
        return Decision.reject("owner_only: a new record must name the writer as its ownerId")
    owner = owner_of(ctx.local_value)
    if owner is None:
        return Decision.reject("owner_only: the record has no owner")
    if owner != auth.user_id:
        return Decision.reject("owner_only: only the record's owner may change it")
    if ctx.remote_value is not None and remote_owner != owner:
        return Decision.reject("owner_only: the owner of a record cannot be changed")
    return _LOCAL


def _version(value: JsonValue) -> int | None:
    if not isinstance(value, dict):
        return None
    version = value.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def version_increment(ctx: MergeContext) -> Decision:
    """Accept exactly the next ``version``; reject any other."""
    if ctx.remote_value is None:
        return _LOCAL
    incoming = _version(ctx.remote_value)
    if incoming is None:
        return Decision.reject("version_increment: the value needs an integer 'version' field")
    expected = (_version(ctx.local_value) or 0) + 1
    if incoming != expected:
        return Decision.reject(f"version_increment: expected version {expected}, got {incoming}")
    return Decision.accept(ctx.remote_value)


BUILTIN_RESOLVERS: Final[Mapping[str, ResolverFunction]] = MappingProxyType(
    {
        "lww": lww,
        "first_write_wins": first_write_wins,
        "numeric_min": _numeric("numeric_min", min),
        "numeric_max": _numeric("numeric_max", max),
        "non_negative": non_negative,
        "array_union": array_union,
        "deep_merge": deep_merge,
        "server_only": server_only,
        "owner_only": owner_only,
        "immutable": immutable,
        "version_increment": version_increment,
    }
)
"""Every built-in resolver by name (module docstring for their rules)."""
