"""Merkle sync views of a map: roots, buckets and leaves, chunked and filtered.

Pure functions over a loaded map, used by the sync handlers. Leaves are cut into
chunks of at most ``records_max`` records (or OR entries), so one huge leaf never
becomes one huge frame; the client merges each chunk as it comes.

What a client is shown is what its principal may read: record values are filtered
to the readable fields. A record whose TTL has run out is not served as live: it
is sent as a tombstone with the same timestamp — the LWW Merkle item hash depends
only on key and timestamp, so the client's tree still converges on the server's,
and the expired value never leaves the server.
"""

from __future__ import annotations

from collections.abc import Iterator

from topgun_core.lww_map import LWWMap, LWWRecordWire
from topgun_core.or_map import ORMap
from topgun_core.protocol import KeyedRecord, ORMapEntry
from topgun_server.services.broadcast import filter_fields

__all__ = ["lww_leaf_chunks", "or_entries", "or_leaf_chunks"]


def _lww_wire(lww: LWWMap, key: str, now_ms: int, fields: frozenset[str] | None) -> KeyedRecord:
    record = lww.get_record(key)
    assert record is not None
    if record.value is not None and record.is_expired(now_ms):
        wire: LWWRecordWire = {"value": None, "timestamp": record.timestamp.to_wire()}
    else:
        wire = record.to_wire()
        if fields is not None and record.value is not None:
            wire["value"] = filter_fields(record.value, fields)  # type: ignore[typeddict-item]  # still a JsonValue
    return {"key": key, "record": wire}


def lww_leaf_chunks(
    lww: LWWMap, path: str, now_ms: int, fields: frozenset[str] | None, records_max: int
) -> Iterator[list[KeyedRecord]]:
    """The records under ``path`` in chunks (one empty chunk for an empty leaf)."""
    keys = lww.merkle.keys_in_bucket(path)
    if not keys:
        yield []
        return
    for start in range(0, len(keys), records_max):
        yield [_lww_wire(lww, key, now_ms, fields) for key in keys[start : start + records_max]]


def or_entries(ormap: ORMap, keys: list[str], fields: frozenset[str] | None) -> list[ORMapEntry]:
    """Each key's records and tombstones (values filtered to ``fields``)."""
    tombstones = ormap.tombstones_for(keys)
    entries: list[ORMapEntry] = []
    for key in keys:
        records = []
        for record in ormap.records(key):
            wire = record.to_wire()
            if fields is not None:
                wire["value"] = filter_fields(record.value, fields)  # type: ignore[typeddict-item]  # still a JsonValue
            records.append(wire)
        entries.append({"key": key, "records": records, "tombstones": tombstones.get(key, [])})
    return entries


def or_leaf_chunks(
    ormap: ORMap, keys: list[str], fields: frozenset[str] | None, records_max: int
) -> Iterator[list[ORMapEntry]]:
    """Entries of ``keys`` in chunks of about ``records_max`` records."""
    if not keys:
        yield []
        return
    chunk: list[str] = []
    size = 0
    for key in keys:
        chunk.append(key)
        size += max(1, len(ormap.records(key)))
        if size >= records_max:
            yield or_entries(ormap, chunk, fields)
            chunk, size = [], 0
    if chunk:
        yield or_entries(ormap, chunk, fields)
