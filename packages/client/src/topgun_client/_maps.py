"""Map handles: what ``client.get_map()`` and ``client.get_or_map()`` return.

A handle reads and writes the in-memory replica directly, so reads never wait for
the network and ``set()`` returns as soon as the write is applied and queued (see
the local writer for when it is durable). ``write()`` is the acknowledged form: it
queues the op with a write concern, commits it locally at once, and waits for the
server's ``OP_ACK`` for that op — offline, it waits for a connection, up to the
timeout. Handles must be used on the client's event loop (or through
``topgun_client.sync``).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterator

from topgun_client._errors import WriteTimeout
from topgun_client._local import LocalIndex
from topgun_client._outbox import WriteResult
from topgun_client._replica import OpOptions
from topgun_client._runtime import Runtime
from topgun_core.lww_map import LWWMap, LWWRecord
from topgun_core.or_map import ORMap
from topgun_core.protocol import SortDirection
from topgun_core.query import (
    CompoundIndex,
    HashIndex,
    Index,
    IndexKind,
    InvertedIndex,
    NavigableIndex,
    Plan,
    Predicate,
    QuerySpec,
)
from topgun_core.values import JsonValue

__all__ = ["LWWMapHandle", "MapContext", "ORMapHandle", "WriteConcern"]


class WriteConcern(enum.StrEnum):
    """How far a write must get before ``write()`` returns (SEMANTICS.md §7), weakest first."""

    FIRE_AND_FORGET = "FIRE_AND_FORGET"
    MEMORY = "MEMORY"
    APPLIED = "APPLIED"
    REPLICATED = "REPLICATED"
    PERSISTED = "PERSISTED"


class MapContext:
    """What handles need from their client: the runtime and the open/closed check."""

    __slots__ = ("_check", "rt")

    def __init__(self, rt: Runtime, check_open: Callable[[], None]) -> None:
        self.rt = rt
        self._check = check_open

    def check_open(self) -> None:
        """Raise ``ClientClosed`` if the client is closed."""
        self._check()

    def created(self) -> None:
        """A map was created: let the connection start its sync."""
        self.rt.ops_ready.set()

    async def acknowledged(
        self, queue: Callable[[OpOptions], int], concern: WriteConcern, timeout: float | None
    ) -> WriteResult:
        """Queue one op with ``concern`` and wait for its acknowledgement."""
        rt = self.rt
        self._check()
        timeout_ms = rt.settings.write_timeout_ms if timeout is None else round(timeout * 1000)
        rt.acks.check_room()
        seq = queue((concern.value, timeout_ms))
        future = rt.acks.expect(seq)
        rt.writer.wake(urgent=True)
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                return await future
        except TimeoutError:
            raise WriteTimeout(timeout_ms) from None
        finally:
            rt.acks.discard(future)


class LWWMapHandle:
    """A last-writer-wins map of the client (``client.get_map(name)``)."""

    __slots__ = ("_ctx", "_map", "name")

    def __init__(self, ctx: MapContext, name: str, crdt: LWWMap) -> None:
        self._ctx = ctx
        self._map = crdt
        self.name = name

    def set(self, key: str, value: JsonValue, *, ttl_ms: float | None = None) -> None:
        """Write ``value`` under ``key`` now; it is queued for the server in the op log.

        ``None`` is not a value (use :meth:`remove`). Raises ``LimitExceeded`` when
        ``local_queue_ops_max`` writes are waiting for the local store.
        """
        self._ctx.check_open()
        self._ctx.rt.replica.put(self.name, key, value, ttl_ms, None)

    def remove(self, key: str) -> None:
        """Delete ``key`` (a tombstone that replicates like any write)."""
        self._ctx.check_open()
        self._ctx.rt.replica.remove(self.name, key, None)

    async def write(
        self,
        key: str,
        value: JsonValue,
        *,
        write_concern: WriteConcern = WriteConcern.MEMORY,
        timeout: float | None = None,
        ttl_ms: float | None = None,
    ) -> WriteResult:
        """Write (``value`` None: remove) and wait for the server's acknowledgement.

        Returns the achieved level; raises ``WriteRejected`` when the server refuses
        the op and ``WriteTimeout`` after ``timeout`` seconds (default
        ``write_timeout_ms``) — the write then stays applied and queued.
        """
        replica = self._ctx.rt.replica
        if value is None:
            return await self._ctx.acknowledged(
                lambda options: replica.remove(self.name, key, options), write_concern, timeout
            )
        return await self._ctx.acknowledged(
            lambda options: replica.put(self.name, key, value, ttl_ms, options),
            write_concern,
            timeout,
        )

    def get(self, key: str) -> JsonValue:
        """The live value under ``key``; None if absent, removed or expired."""
        return self._map.get(key)

    def record(self, key: str) -> LWWRecord | None:
        """The raw record (with its timestamp; tombstones included)."""
        return self._map.get_record(key)

    def items(self) -> Iterator[tuple[str, JsonValue]]:
        """``(key, value)`` of every live entry."""
        return self._map.items()

    def keys(self) -> Iterator[str]:
        """Keys of live entries."""
        return iter(self._map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    @property
    def root_hash(self) -> int:
        """The Merkle root of every record (tombstones included), as the server computes it."""
        return self._map.merkle.root_hash

    @property
    def crdt(self) -> LWWMap:
        """The replica's map itself (read it, do not write it)."""
        return self._map

    def _local(self) -> LocalIndex:
        return self._ctx.rt.engine.live.local.get(self.name, self._map)

    def create_index(self, kind: IndexKind, *attributes: str) -> str:
        """Index ``attributes`` for local queries (``"hash"``, ``"navigable"``,
        ``"inverted"``, ``"compound"``); returns the index name. Idempotent."""
        index: Index
        if kind == "compound":
            index = CompoundIndex(*attributes)
        else:
            (attribute,) = attributes
            if kind == "hash":
                index = HashIndex(attribute)
            elif kind == "navigable":
                index = NavigableIndex(attribute)
            else:
                index = InvertedIndex(attribute)
        return self._local().indexed.add_index(index).name

    @property
    def indexes(self) -> list[str]:
        """Names of the local indexes of this map (``hash(email)``...)."""
        return [index.name for index in self._local().indexed.indexes]

    def explain(
        self,
        predicate: Predicate | None = None,
        *,
        sort: tuple[tuple[str, SortDirection], ...] = (),
    ) -> Plan:
        """How a local query with ``predicate`` finds its rows (an index or a scan)."""
        return self._local().indexed.explain(QuerySpec(predicate, sort))

    def create_fulltext_index(self, *fields: str) -> None:
        """A local full-text index over ``fields``: ``client.search`` uses it offline."""
        self._local().enable_fulltext(fields)


class ORMapHandle:
    """An observed-remove multimap of the client (``client.get_or_map(name)``)."""

    __slots__ = ("_ctx", "_map", "name")

    def __init__(self, ctx: MapContext, name: str, crdt: ORMap) -> None:
        self._ctx = ctx
        self._map = crdt
        self.name = name

    def add(self, key: str, value: JsonValue, *, ttl_ms: float | None = None) -> None:
        """Add ``value`` under ``key`` (a new entry even if the value is already there)."""
        self._ctx.check_open()
        self._ctx.rt.replica.or_add(self.name, key, value, ttl_ms)

    def remove(self, key: str, value: JsonValue) -> None:
        """Remove every entry under ``key`` holding ``value`` that this replica has seen."""
        self._ctx.check_open()
        self._ctx.rt.replica.or_remove(self.name, key, value)

    def get(self, key: str) -> list[JsonValue]:
        """Live values under ``key``, in add order."""
        return self._map.get(key)

    def items(self) -> Iterator[tuple[str, list[JsonValue]]]:
        """``(key, values)`` of every key with a live value."""
        return self._map.items()

    def keys(self) -> Iterator[str]:
        """Keys with a live value."""
        return self._map.keys()

    def __iter__(self) -> Iterator[str]:
        return self._map.keys()

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    @property
    def root_hash(self) -> int:
        """The Merkle root of every entry, as the server computes it."""
        return self._map.merkle.root_hash
