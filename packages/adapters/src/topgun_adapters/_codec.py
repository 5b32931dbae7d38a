"""Rows: how records become storable tuples and come back, validated both ways.

Every adapter stores the same row shapes, so they share this module. Writing,
:func:`encode_batch` checks a whole :class:`~topgun_core.storage.WriteBatch` before
anything is written — names and keys are text a database accepts (no NUL, no lone
surrogate), timestamps are well formed, TTLs positive and finite, values JSON-like
trees msgpack can carry — and turns it into :class:`EncodedBatch`, whose tuples are
in the column order of the SQL statements. A bad entry raises a non-retryable
:class:`~topgun_core.errors.StorageError` naming the field and index, so a batch is
refused whole instead of half-written.

Reading, the ``decode_*`` functions check every stored column again: a row someone
corrupted outside TopGun (undecodable value bytes, a node id with ``:``, a negative
counter) is a :class:`StorageError` naming the map and key, never a crash deep in a
merge or a silently wrong record.

Values are msgpack (``use_bin_type`` so ``bytes`` stay bytes; floats are always
float64 so ``1.0`` stays a float). TTLs are normalised like
:func:`~topgun_core.lww_map.validate_ttl_ms` (an integral float becomes an int), which
is what every peer does before hashing. Each row also carries its key's partition
(``partition_for(key)``), so the on-disk format is organised by partition from the
first version (HARDENING §23).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, TypeAlias

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_core.errors import StorageError
from topgun_core.hashing import partition_for
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord, validate_ttl_ms
from topgun_core.or_map import ORRecord
from topgun_core.storage import MapKind, WriteBatch
from topgun_core.values import JsonValue

__all__ = [
    "EncodedBatch",
    "LWWRow",
    "ORRow",
    "SqlParam",
    "TombstoneRow",
    "check_bytes",
    "check_oplog_args",
    "check_text",
    "corrupt",
    "decode_kind",
    "decode_lww",
    "decode_or",
    "decode_tombstone",
    "decode_value",
    "encode_batch",
    "encode_value",
    "invalid",
    "stored_bytes",
]

VALUE_DEPTH_MAX = 256
"""Deepest nesting of lists and dicts a stored value may have."""

INT64_MAX = 2**63 - 1
"""Largest millis/counter a row can hold (a signed 64-bit column)."""

_KINDS: frozenset[str] = frozenset(("lww", "or"))

SqlParam: TypeAlias = str | bytes | int | float | None
"""A value bound to a SQL placeholder."""

LWWRow: TypeAlias = tuple[str, str, int, bytes | None, int, int, str, float | None]
"""``(map, key, partition, value, millis, counter, node_id, ttl_ms)``; value None = tombstone."""

ORRow: TypeAlias = tuple[str, str, str, int, bytes, int, int, str, float | None]
"""``(map, tag, key, partition, value, millis, counter, node_id, ttl_ms)``."""

TombstoneRow: TypeAlias = tuple[str, str, str, int]
"""``(map, tag, key, partition)``."""


class EncodedBatch(NamedTuple):
    """A validated :class:`WriteBatch` as rows, in the order they are applied."""

    map_kinds: list[tuple[str, str]]
    lww_upserts: list[LWWRow]
    lww_deletes: list[tuple[str, str]]
    or_upserts: list[ORRow]
    or_deletes: list[tuple[str, str]]
    or_tombstones: list[TombstoneRow]
    or_tombstone_deletes: list[tuple[str, str]]
    kv_puts: list[tuple[str, str, bytes]]
    kv_deletes: list[tuple[str, str]]
    oplog_appends: list[bytes]
    """Op-log payloads; not in :meth:`parts`, because their ids are reserved first."""

    def parts(self) -> tuple[Sequence[tuple[SqlParam, ...]], ...]:
        """The row lists in application order (one SQL statement each)."""
        return (
            self.map_kinds,
            self.lww_upserts,
            self.lww_deletes,
            self.or_upserts,
            self.or_deletes,
            self.or_tombstones,
            self.or_tombstone_deletes,
            self.kv_puts,
            self.kv_deletes,
        )


def invalid(message: str) -> StorageError:
    """A refused write: the caller's mistake, so retrying cannot help."""
    error = StorageError(f"invalid write: {message}")
    error.retryable = False
    return error


def corrupt(where: str, problem: str) -> StorageError:
    """A stored row that fails validation; ``where`` names the map and key."""
    error = StorageError(f"corrupt stored data: {where}: {problem}")
    error.retryable = False
    return error


def _is_text(value: object) -> bool:
    if type(value) is not str or "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: object, what: str) -> str:
    """Return ``value`` if it is text every backend stores; raise ``invalid`` otherwise."""
    if not _is_text(value):
        raise invalid(f"{what} must be a str without NUL or lone surrogates")
    assert isinstance(value, str)
    return value


def check_bytes(value: object, what: str) -> bytes:
    """Return ``value`` if it is ``bytes``; raise ``invalid`` otherwise."""
    if not isinstance(value, bytes):
        raise invalid(f"{what} must be bytes")
    return value


def _json_problem(value: object, depth: int) -> str | None:
    """Why ``value`` is not a storable JSON-like tree, or None. Exact types only."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str, bytes):
        return None
    if depth >= VALUE_DEPTH_MAX:
        return f"nested deeper than {VALUE_DEPTH_MAX}"
    if kind is list:
        assert isinstance(value, list)
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem is not None:
                return problem
        return None
    if kind is dict:
        assert isinstance(value, dict)
        for key, item in value.items():
            if type(key) is not str:
                return f"dict key {key!r} is not a str"
            problem = _json_problem(item, depth + 1)
            if problem is not None:
                return problem
        return None
    return f"{kind.__name__} is not a JSON value"


def encode_value(value: JsonValue, what: str) -> bytes:
    """``value`` as msgpack after checking it is a storable tree; raise ``invalid`` if not."""
    problem = _json_problem(value, 0)
    if problem is None:
        try:
            packed: bytes = msgpack.packb(value, use_bin_type=True, strict_types=True)
        except (TypeError, ValueError, OverflowError) as exc:
            problem = f"not storable ({type(exc).__name__})"
        else:
            return packed
    raise invalid(f"{what}: value {problem}")


def decode_value(raw: object, where: str) -> JsonValue:
    """Decode stored msgpack and re-check the tree; raise ``corrupt`` naming ``where``."""
    if not isinstance(raw, bytes):
        raise corrupt(where, "value is not bytes")
    try:
        value: JsonValue = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise corrupt(where, f"value does not decode ({type(exc).__name__})") from exc
    problem = _json_problem(value, 0)
    if problem is not None:
        raise corrupt(where, f"value {problem}")
    return value


def _check_timestamp(ts: object, what: str) -> Timestamp:
    if not isinstance(ts, Timestamp):
        raise invalid(f"{what}: timestamp must be a Timestamp")
    problem = _timestamp_problem(ts.millis, ts.counter, ts.node_id)
    if problem is not None:
        raise invalid(f"{what}: timestamp {problem}")
    return ts


def _timestamp_problem(millis: object, counter: object, node_id: object) -> str | None:
    for name, number in (("millis", millis), ("counter", counter)):
        if type(number) is not int or not 0 <= number <= INT64_MAX:
            return f"{name} must be an int in [0, 2**63)"
    # ASCII is always valid UTF-8; NUL is ASCII but no database stores it in text.
    if not isinstance(node_id, str) or not node_id or not node_id.isascii():
        return "node id must be non-empty ASCII without ':'"
    if ":" in node_id or "\x00" in node_id:
        return "node id must be non-empty ASCII without ':' or NUL"
    return None


def _check_ttl(ttl: object, what: str) -> float | None:
    try:
        return validate_ttl_ms(ttl)
    except ValueError:
        raise invalid(f"{what}: ttl_ms must be None or a positive finite number") from None


def _lww_row(index: int, entry: tuple[str, str, LWWRecord]) -> LWWRow:
    what = f"lww_upserts[{index}]"
    map_name, key, record = entry
    check_text(map_name, f"{what} map")
    check_text(key, f"{what} key")
    if not isinstance(record, LWWRecord):
        raise invalid(f"{what}: record must be an LWWRecord")
    ts = _check_timestamp(record.timestamp, what)
    value = None if record.value is None else encode_value(record.value, what)
    ttl = _check_ttl(record.ttl_ms, what)
    return (map_name, key, partition_for(key), value, ts.millis, ts.counter, ts.node_id, ttl)


def _or_row(index: int, entry: tuple[str, str, ORRecord]) -> ORRow:
    what = f"or_upserts[{index}]"
    map_name, key, record = entry
    check_text(map_name, f"{what} map")
    check_text(key, f"{what} key")
    if not isinstance(record, ORRecord):
        raise invalid(f"{what}: record must be an ORRecord")
    tag = check_text(record.tag, f"{what} tag")
    ts = _check_timestamp(record.timestamp, what)
    value = encode_value(record.value, what)
    ttl = _check_ttl(record.ttl_ms, what)
    return (map_name, tag, key, partition_for(key), value, ts.millis, ts.counter, ts.node_id, ttl)


def _pairs(entries: list[tuple[str, str]], what: str) -> list[tuple[str, str]]:
    for index, (first, second) in enumerate(entries):
        check_text(first, f"{what}[{index}] name")
        check_text(second, f"{what}[{index}] key")
    return list(entries)


def _kinds(kinds: dict[str, MapKind]) -> list[tuple[str, str]]:
    for map_name, kind in kinds.items():
        check_text(map_name, "map_kinds map")
        if kind not in _KINDS:
            raise invalid(f"map_kinds: kind must be 'lww' or 'or', got {kind!r}")
    return list(kinds.items())


def _tombstones(entries: list[tuple[str, str, str]]) -> list[TombstoneRow]:
    rows: list[TombstoneRow] = []
    for index, (map_name, key, tag) in enumerate(entries):
        what = f"or_tombstones[{index}]"
        check_text(map_name, f"{what} map")
        check_text(key, f"{what} key")
        rows.append((map_name, check_text(tag, f"{what} tag"), key, partition_for(key)))
    return rows


def _kv_puts(entries: list[tuple[str, str, bytes]]) -> list[tuple[str, str, bytes]]:
    for index, (namespace, key, value) in enumerate(entries):
        what = f"kv_puts[{index}]"
        check_text(namespace, f"{what} namespace")
        check_text(key, f"{what} key")
        check_bytes(value, f"{what} value")
    return list(entries)


def encode_batch(batch: WriteBatch) -> EncodedBatch:
    """Validate every entry of ``batch`` and return its rows; raise ``invalid`` at a bad one."""
    if not isinstance(batch, WriteBatch):
        raise invalid("apply takes a WriteBatch")
    try:
        return EncodedBatch(
            map_kinds=_kinds(batch.map_kinds),
            lww_upserts=[_lww_row(i, e) for i, e in enumerate(batch.lww_upserts)],
            lww_deletes=_pairs(batch.lww_deletes, "lww_deletes"),
            or_upserts=[_or_row(i, e) for i, e in enumerate(batch.or_upserts)],
            or_deletes=_pairs(batch.or_deletes, "or_deletes"),
            or_tombstones=_tombstones(batch.or_tombstones),
            or_tombstone_deletes=_pairs(batch.or_tombstone_deletes, "or_tombstone_deletes"),
            kv_puts=_kv_puts(batch.kv_puts),
            kv_deletes=_pairs(batch.kv_deletes, "kv_deletes"),
            oplog_appends=[
                check_bytes(p, f"oplog_appends[{i}]") for i, p in enumerate(batch.oplog_appends)
            ],
        )
    except (TypeError, ValueError, AttributeError) as exc:
        # An entry of the wrong shape (not a tuple of the right length): refuse the batch.
        raise invalid(f"malformed batch entry ({type(exc).__name__})") from None


def _where(map_name: str, key: object) -> str:
    return f"map {map_name!r} key {key!r}"


def _decode_ts(where: str, millis: object, counter: object, node_id: object) -> Timestamp:
    problem = _timestamp_problem(millis, counter, node_id)
    if problem is not None:
        raise corrupt(where, f"timestamp {problem}")
    assert isinstance(millis, int)
    assert isinstance(counter, int)
    assert isinstance(node_id, str)
    return Timestamp(millis, counter, node_id)


def _decode_ttl(where: str, ttl: object) -> float | None:
    try:
        return validate_ttl_ms(ttl)
    except ValueError:
        raise corrupt(where, "ttl_ms is not a positive finite number") from None


def _decode_key(map_name: str, key: object) -> str:
    if type(key) is not str:
        raise corrupt(_where(map_name, key), "key is not text")
    return key


def decode_lww(map_name: str, row: tuple[object, ...]) -> tuple[str, LWWRecord]:
    """``(key, value, millis, counter, node_id, ttl_ms)`` -> ``(key, record)``, validated."""
    key = _decode_key(map_name, row[0])
    where = _where(map_name, key)
    value = None if row[1] is None else decode_value(row[1], where)
    ts = _decode_ts(where, row[2], row[3], row[4])
    return key, LWWRecord(value, ts, _decode_ttl(where, row[5]))


def decode_or(map_name: str, row: tuple[object, ...]) -> tuple[str, ORRecord]:
    """``(key, tag, value, millis, counter, node_id, ttl_ms)`` -> ``(key, record)``, validated."""
    key = _decode_key(map_name, row[0])
    where = _where(map_name, key)
    tag = row[1]
    if not _is_text(tag) or not tag:
        raise corrupt(where, "tag is not text")
    assert isinstance(tag, str)
    value = decode_value(row[2], where)
    ts = _decode_ts(where, row[3], row[4], row[5])
    return key, ORRecord(value, ts, tag, _decode_ttl(where, row[6]))


def decode_tombstone(map_name: str, row: tuple[object, ...]) -> tuple[str, str]:
    """``(key, tag)`` of a stored OR tombstone, validated."""
    key = _decode_key(map_name, row[0])
    tag = row[1]
    if not _is_text(tag) or not tag:
        raise corrupt(_where(map_name, key), "tombstone tag is not text")
    assert isinstance(tag, str)
    return key, tag


def decode_kind(map_name: object, kind: object) -> tuple[str, MapKind]:
    """A stored ``(map, kind)`` row, validated."""
    if type(map_name) is not str:
        raise corrupt("map kinds", "map name is not text")
    if kind == "lww":
        return map_name, "lww"
    if kind == "or":
        return map_name, "or"
    raise corrupt(f"map {map_name!r}", "kind is neither 'lww' nor 'or'")


def check_oplog_args(first: object, second: object) -> None:
    """An op-log id and a limit (or a second id) must be ints; a limit is never negative."""
    if type(first) is not int or type(second) is not int or second < 0:
        raise invalid("op-log ids and limits must be ints, limits >= 0")


def stored_bytes(value: object, where: str) -> bytes:
    """A stored kv document or op-log payload, which must be bytes."""
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if not isinstance(value, bytes):
        raise corrupt(where, "stored value is not bytes")
    return value
