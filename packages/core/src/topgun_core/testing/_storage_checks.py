"""Conformance checks for what a store holds: records, kinds, documents, the op log.

Each check opens fresh stores from the fixture, writes through ``apply`` (or the
kv/op-log/meta calls), reads back and compares exactly — values with
:func:`~topgun_core.testing._storage_support.same_value`, so a float that comes back
an int is a failure. Registered, with the lifecycle checks, in
:data:`topgun_core.testing.storage.STORAGE_CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.storage import WriteBatch
from topgun_core.testing._storage_support import (
    SAMPLE_VALUES,
    StorageFixture,
    check,
    fresh,
    lww,
    opened,
    orr,
    raises_storage_error,
    same_records,
    same_value,
    snapshot,
    ts,
)
from topgun_core.values import JsonValue

__all__ = [
    "check_apply_appends_oplog",
    "check_apply_is_atomic",
    "check_apply_order_within_batch",
    "check_clear_map",
    "check_durable_after_reopen",
    "check_empty_batch_and_unknown_maps",
    "check_kv_documents",
    "check_large_maps",
    "check_lww_tombstones",
    "check_lww_upsert_replace_delete",
    "check_many_maps",
    "check_map_kind_change_refused",
    "check_map_kinds",
    "check_names_are_data",
    "check_oplog_ids_survive_reopen",
    "check_oplog_order_and_paging",
    "check_oplog_trim_never_reuses_ids",
    "check_or_deletes",
    "check_or_records_and_tombstones",
    "check_ttl_round_trip",
    "check_value_types_round_trip",
]

LARGE_MAP_RECORDS = 10_000
"""Records in the large-map check (one apply, one load)."""


async def check_lww_upsert_replace_delete(fixture: StorageFixture) -> None:
    """LWW rows keep full timestamps; an upsert replaces its key, a delete drops the row."""
    a = LWWRecord({"v": 1}, Timestamp(2**53 + 5, 70_000, "node-1"), None)
    b = LWWRecord("second", Timestamp(1, 0, "B"), None)
    a2 = LWWRecord([1, 2], Timestamp(2**53 + 6, 0, "node-2"), 250)
    async with fresh(fixture) as store:
        upserts = [("m", "a", a), ("m", "b", b), ("other", "a", b)]
        await store.apply(WriteBatch(map_kinds={"m": "lww"}, lww_upserts=upserts))
        got = await store.load_lww("m")
        check(same_records(got, [("a", a), ("b", b)]), f"after insert: {got!r}")
        deletes = [("m", "b"), ("m", "never-written")]
        await store.apply(WriteBatch(lww_upserts=[("m", "a", a2)], lww_deletes=deletes))
        got = await store.load_lww("m")
        check(same_records(got, [("a", a2)]), f"after replace and delete: {got!r}")
        other = await store.load_lww("other")
    check(same_records(other, [("a", b)]), f"a write to one map changed another: {other!r}")


async def check_lww_tombstones(fixture: StorageFixture) -> None:
    """A tombstone (value None) is stored like any record, timestamp and TTL included."""
    live = lww("alive", 100)
    dead = LWWRecord(None, ts(500, 3, "X"), None)
    dead_ttl = LWWRecord(None, ts(600, 0, "Y"), 1000)
    async with fresh(fixture) as store:
        upserts = [("m", "a", live), ("m", "b", dead_ttl)]
        await store.apply(WriteBatch(lww_upserts=upserts))
        await store.apply(WriteBatch(lww_upserts=[("m", "a", dead)]))
        got = await store.load_lww("m")
    check(same_records(got, [("a", dead), ("b", dead_ttl)]), f"tombstones read as {got!r}")


async def check_ttl_round_trip(fixture: StorageFixture) -> None:
    """TTLs keep their value and type: an int stays an int, a fractional float a float."""
    ttls: dict[str, float | None] = {"int": 5000, "float": 1500.5, "small": 0.25, "none": None}
    ttls["big"] = 2**40
    async with fresh(fixture) as store:
        batch = WriteBatch()
        for i, (name, ttl) in enumerate(ttls.items()):
            batch.lww_upserts.append(("l", name, lww("v", 10 + i, ttl)))
            batch.or_upserts.append(("o", name, orr("v", 10 + i, ttl)))
        await store.apply(batch)
        loaded = [*await store.load_lww("l"), *(await store.load_or("o")).records]
    check(len(loaded) == 2 * len(ttls), f"expected {2 * len(ttls)} records, got {len(loaded)}")
    for key, record in loaded:
        assert isinstance(record, LWWRecord | ORRecord)
        want = ttls[key]
        got = record.ttl_ms
        check(type(got) is type(want) and got == want, f"ttl {key}: {want!r} came back {got!r}")


async def check_value_types_round_trip(fixture: StorageFixture) -> None:
    """Every JsonValue shape in SAMPLE_VALUES comes back equal and of the same type."""
    batch = WriteBatch()
    for i, (name, value) in enumerate(SAMPLE_VALUES.items()):
        batch.lww_upserts.append(("values", name, lww(value, 100 + i)))
        batch.or_upserts.append(("or-values", name, orr(value, 100 + i)))
    async with fresh(fixture) as store:
        await store.apply(batch)
        loaded = [*await store.load_lww("values"), *(await store.load_or("or-values")).records]
    check(len(loaded) == 2 * len(SAMPLE_VALUES), f"{len(loaded)} values read back")
    for key, record in loaded:
        assert isinstance(record, LWWRecord | ORRecord)
        want = SAMPLE_VALUES[key]
        check(same_value(record.value, want), f"{key}: {want!r} came back {record.value!r}")


async def check_or_records_and_tombstones(fixture: StorageFixture) -> None:
    """OR records (several tags per key) and tombstones with their key round trip."""
    r1, r2, r3 = orr("work", 100), orr("urgent", 101, 30_000), orr({"x": 1.0}, 102)
    tombs = [("todo", "99:0:Z"), ("gone", "98:1:Y")]
    newer = ORRecord("work", ts(200, 1, "n9"), r1.tag, 50)
    async with fresh(fixture) as store:
        records = [("todo", r1.tag, r1), ("todo", r2.tag, r2), ("other", r3.tag, r3)]
        await store.apply(
            WriteBatch(
                map_kinds={"o": "or"},
                or_upserts=[("o", key, rec) for key, _, rec in records],
                or_tombstones=[("o", key, tag) for key, tag in tombs],
            )
        )
        snap = await store.load_or("o")
        want = [("todo", r1), ("todo", r2), ("other", r3)]
        check(same_records(snap.records, want), f"records read as {snap.records!r}")
        check(sorted(snap.tombstones) == sorted(tombs), f"tombstones: {snap.tombstones!r}")
        await store.apply(WriteBatch(or_upserts=[("o", "todo", newer)]))
        snap = await store.load_or("o")
    want = [("todo", newer), ("todo", r2), ("other", r3)]
    check(same_records(snap.records, want), f"a tag's upsert did not replace it: {snap!r}")


async def check_or_deletes(fixture: StorageFixture) -> None:
    """``or_deletes`` drops records by tag; ``or_tombstone_deletes`` forgets tombstones."""
    r1, r2 = orr("a", 100), orr("b", 101)
    async with fresh(fixture) as store:
        await store.apply(
            WriteBatch(
                or_upserts=[("o", "k", r1), ("o", "k", r2)],
                or_tombstones=[("o", "k", "1:0:A"), ("o", "j", "2:0:A")],
            )
        )
        await store.apply(
            WriteBatch(
                or_deletes=[("o", r1.tag), ("o", "no-such-tag")],
                or_tombstone_deletes=[("o", "1:0:A"), ("o", "no-such-tag")],
            )
        )
        snap = await store.load_or("o")
    check(same_records(snap.records, [("k", r2)]), f"records after or_deletes: {snap!r}")
    check(snap.tombstones == [("j", "2:0:A")], f"tombstones after deletes: {snap!r}")


async def check_map_kinds(fixture: StorageFixture) -> None:
    """Kinds are recorded per map, declaring the same kind again is fine, clear_map keeps it."""
    async with fresh(fixture) as store:
        check(await store.map_kinds() == {}, "a new store has map kinds")
        await store.apply(WriteBatch(map_kinds={"a": "lww", "b": "or"}))
        await store.apply(WriteBatch(map_kinds={"a": "lww", "c": "lww"}))
        await store.clear_map("b")
        kinds = await store.map_kinds()
    check(kinds == {"a": "lww", "b": "or", "c": "lww"}, f"map kinds read as {kinds!r}")


async def check_map_kind_change_refused(fixture: StorageFixture) -> None:
    """Giving a map a second kind raises StorageError; nothing of that batch is applied."""
    async with fresh(fixture) as store:
        await store.apply(WriteBatch(map_kinds={"a": "lww"}))
        batch = WriteBatch(map_kinds={"new": "or", "a": "or"}, kv_puts=[("ns", "k", b"v")])
        await raises_storage_error(store.apply(batch), "changing a map's kind")
        kinds = await store.map_kinds()
        doc = await store.kv_get("ns", "k")
    check(kinds == {"a": "lww"} and doc is None, f"a refused batch left {kinds!r}, {doc!r}")


async def check_clear_map(fixture: StorageFixture) -> None:
    """clear_map drops one map's records and tombstones and nothing else."""
    async with fresh(fixture) as store:
        await store.apply(
            WriteBatch(
                map_kinds={"l": "lww", "o": "or"},
                lww_upserts=[
                    ("l", "a", lww(1, 1)),
                    ("l", "t", lww(None, 2)),
                    ("keep", "a", lww(1, 3)),
                ],
                or_upserts=[("o", "k", orr(1, 4)), ("keep-or", "k", orr(2, 5))],
                or_tombstones=[("o", "k", "1:0:A"), ("keep-or", "k", "2:0:A")],
            )
        )
        await store.clear_map("l")
        await store.clear_map("o")
        await store.clear_map("never-written")
        check(await store.load_lww("l") == [], "clear_map left LWW rows")
        snap = await store.load_or("o")
        check(snap.records == [] and snap.tombstones == [], f"clear_map left {snap!r}")
        kept = await store.load_lww("keep")
        kept_or = await store.load_or("keep-or")
    check(len(kept) == 1 and len(kept_or.records) == 1, "clear_map touched another map")
    check(kept_or.tombstones == [("k", "2:0:A")], "clear_map touched another map's tombstones")


async def check_kv_documents(fixture: StorageFixture) -> None:
    """Documents are put, overwritten, read, scanned per namespace and deleted."""
    async with fresh(fixture) as store:
        check(await store.kv_get("ns", "a") is None, "a missing document is not None")
        check(dict(await store.kv_scan("ns")) == {}, "an empty namespace scans non-empty")
        puts = [("ns", "a", b"1"), ("ns", "b", b""), ("other", "a", b"\x00\xff")]
        await store.apply(WriteBatch(kv_puts=puts))
        await store.apply(WriteBatch(kv_puts=[("ns", "a", b"2")], kv_deletes=[("ns", "b")]))
        got_a, scan = await store.kv_get("ns", "a"), dict(await store.kv_scan("ns"))
        other = dict(await store.kv_scan("other"))
    check(got_a == b"2" and scan == {"a": b"2"}, f"ns holds {scan!r} after overwrite/delete")
    check(other == {"a": b"\x00\xff"}, f"another namespace holds {other!r}")


async def check_oplog_order_and_paging(fixture: StorageFixture) -> None:
    """Appended ids strictly increase; reads page in id order with after_id and limit."""
    async with fresh(fixture) as store:
        check(await store.oplog_append([]) == [], "an empty append returned ids")
        first = await store.oplog_append([b"a", b"b", b"c"])
        second = await store.oplog_append([b"d"])
        ids = first + second
        check(ids == sorted(set(ids)) and len(ids) == 4, f"ids not strictly increasing: {ids}")
        page1 = await store.oplog_read(-1, 2)
        page2 = await store.oplog_read(page1[-1].id, 10)
        nothing = await store.oplog_read(ids[-1], 10)
        zero = await store.oplog_read(-1, 0)
        count = await store.oplog_count()
    entries = [(e.id, e.payload) for e in page1 + page2]
    want = list(zip(ids, [b"a", b"b", b"c", b"d"], strict=True))
    check(entries == want, f"paged read gave {entries!r}, want {want!r}")
    check(nothing == [] and zero == [] and count == 4, "read past the end, limit 0 or count")


async def check_oplog_trim_never_reuses_ids(fixture: StorageFixture) -> None:
    """Trim deletes through an id and says how many; later ids are still larger."""
    async with fresh(fixture) as store:
        ids = await store.oplog_append([b"a", b"b", b"c"])
        trimmed = await store.oplog_trim(ids[1])
        rest = await store.oplog_read(-1, 10)
        check(trimmed == 2 and [e.id for e in rest] == ids[2:], f"trim left {rest!r}")
        check(await store.oplog_trim(ids[-1]) == 1, "trimming the rest did not count 1")
        check(await store.oplog_count() == 0, "the op log is not empty after trimming all")
        later = await store.oplog_append([b"d"])
    check(later[0] > ids[-1], f"id {later[0]} reused after trim (last was {ids[-1]})")


async def check_oplog_ids_survive_reopen(fixture: StorageFixture) -> None:
    """After trimming everything and a restart, new ids are still larger than old ones."""
    async with fresh(fixture) as store:
        ids = await store.oplog_append([b"a", b"b"])
        await store.oplog_trim(ids[-1])
    async with opened(await fixture.reopen()) as store:
        later = await store.oplog_append([b"c"])
    check(later[0] > ids[-1], f"id {later[0]} reused after reopen (last was {ids[-1]})")


async def check_apply_order_within_batch(fixture: StorageFixture) -> None:
    """Within a batch deletes follow upserts, and the last upsert of a key wins."""
    r = orr("x", 100)
    async with fresh(fixture) as store:
        await store.apply(
            WriteBatch(
                lww_upserts=[("m", "k", lww(1, 1)), ("m", "k", lww(2, 2)), ("m", "d", lww(3, 3))],
                lww_deletes=[("m", "d")],
                or_upserts=[("o", "k", r)],
                or_deletes=[("o", r.tag)],
                or_tombstones=[("o", "k", "t")],
                or_tombstone_deletes=[("o", "t")],
                kv_puts=[("ns", "a", b"1"), ("ns", "a", b"2"), ("ns", "b", b"x")],
                kv_deletes=[("ns", "b")],
            )
        )
        got = await store.load_lww("m")
        snap = await store.load_or("o")
        scan = dict(await store.kv_scan("ns"))
    check(same_records(got, [("k", lww(2, 2))]), f"LWW after one batch: {got!r}")
    check(snap.records == [] and snap.tombstones == [], f"OR after one batch: {snap!r}")
    check(scan == {"a": b"2"}, f"kv after one batch: {scan!r}")


def _invalid_batches() -> dict[str, Callable[[WriteBatch], None]]:
    """Ways to spoil a batch at its very end; each must make the whole batch fail."""
    bad_ts = Timestamp(1, -1, "A")
    bad_node = orr(1, 9)._replace(timestamp=ts(9, 0, "a:b"))
    return {
        "non-str key": lambda b: b.lww_upserts.append(("m", cast(str, 42), lww(1, 9))),
        "set value": lambda b: b.lww_upserts.append(("m", "x", lww(cast(JsonValue, {1}), 9))),
        "int over 64 bits": lambda b: b.or_upserts.append(("o", "x", orr(2**64, 9))),
        "node id with ':'": lambda b: b.or_upserts.append(("o", "x", bad_node)),
        "negative counter": lambda b: b.lww_upserts.append(("m", "x", LWWRecord(1, bad_ts))),
        "negative ttl": lambda b: b.lww_upserts.append(("m", "x", lww(1, 9, -5))),
        "str kv value": lambda b: b.kv_puts.append(("ns", "x", cast(bytes, "text"))),
        "None kv key": lambda b: b.kv_deletes.append(("ns", cast(str, None))),
        "kind change": lambda b: b.map_kinds.update({"base": "or"}),
        "str op-log payload": lambda b: b.oplog_appends.append(cast(bytes, "text")),
    }


def _full_batch() -> WriteBatch:
    return WriteBatch(
        map_kinds={"new": "or"},
        lww_upserts=[("base", "k", lww("changed", 50)), ("m", "n", lww(1, 51))],
        lww_deletes=[("base", "t")],
        or_upserts=[("o", "k", orr("new", 52))],
        or_deletes=[("o", orr("old", 40).tag)],
        or_tombstones=[("o", "k", "5:0:A")],
        or_tombstone_deletes=[("o", "4:0:A")],
        kv_puts=[("ns", "a", b"changed"), ("ns", "n", b"new")],
        kv_deletes=[("ns", "b")],
        oplog_appends=[b"op-a", b"op-b"],
    )


async def check_apply_is_atomic(fixture: StorageFixture) -> None:
    """A batch with one invalid entry (at its end) raises StorageError and applies nothing."""
    async with fresh(fixture) as store:
        await store.apply(
            WriteBatch(
                map_kinds={"base": "lww"},
                lww_upserts=[("base", "k", lww("orig", 10)), ("base", "t", lww(None, 11))],
                or_upserts=[("o", "k", orr("old", 40))],
                or_tombstones=[("o", "k", "4:0:A")],
                kv_puts=[("ns", "a", b"orig"), ("ns", "b", b"orig")],
            )
        )
        await store.oplog_append([b"op"])
        before = await snapshot(store, ["base", "m"], ["o"])
        for name, spoil in _invalid_batches().items():
            batch = _full_batch()
            spoil(batch)
            error = await raises_storage_error(store.apply(batch), f"a batch with a {name}")
            check(not error.retryable, f"the error for a {name} says retrying could help")
            after = await snapshot(store, ["base", "m"], ["o"])
            check(after == before, f"a failed batch ({name}) left changes: {after!r}")


async def check_apply_appends_oplog(fixture: StorageFixture) -> None:
    """Op-log appends in a batch get ids continuing the log, returned by apply, in order."""
    async with fresh(fixture) as store:
        before = await store.oplog_append([b"first"])
        none = await store.apply(WriteBatch(lww_upserts=[("m", "k", lww(1, 1))]))
        ids = await store.apply(
            WriteBatch(lww_upserts=[("m", "k", lww(2, 2))], oplog_appends=[b"op1", b"op2"])
        )
        after = await store.oplog_append([b"last"])
        entries = [(e.id, e.payload) for e in await store.oplog_read(-1, 10)]
    check(none == [], f"a batch without op-log appends returned ids {none!r}")
    check(len(ids) == 2 and before[0] < ids[0] < ids[1] < after[0], f"ids {before} {ids} {after}")
    want = list(zip([*before, *ids, *after], [b"first", b"op1", b"op2", b"last"], strict=True))
    check(entries == want, f"op log holds {entries!r}, want {want!r}")


async def check_empty_batch_and_unknown_maps(fixture: StorageFixture) -> None:
    """An empty batch is fine; a map never written loads empty."""
    async with fresh(fixture) as store:
        await store.apply(WriteBatch())
        lww_rows = await store.load_lww("never")
        snap = await store.load_or("never")
    check(lww_rows == [] and snap.records == [] and snap.tombstones == [], "unknown map not empty")


async def _write_everything(fixture: StorageFixture) -> tuple[object, list[int]]:
    async with fresh(fixture) as store:
        batch = WriteBatch(
            map_kinds={"l": "lww", "o": "or"},
            lww_upserts=[("l", "a", lww({"n": 1.0}, 1, 500)), ("l", "t", lww(None, 2, 7.5))],
            or_upserts=[("o", "k", orr(b"bin", 3, 100)), ("o", "k", orr([1], 4))],
            or_tombstones=[("o", "k", "1:0:Z")],
            kv_puts=[("ns", "doc", b"\x00doc")],
        )
        await store.apply(batch)
        await store.set_meta("custom", "meta")
        ids = await store.oplog_append([b"op1", b"op2"])
        return await snapshot(store, ["l"], ["o"]), ids


async def check_durable_after_reopen(fixture: StorageFixture) -> None:
    """Everything written is there after close and reopen on the same store."""
    before, ids = await _write_everything(fixture)
    async with opened(await fixture.reopen()) as store:
        after = await snapshot(store, ["l"], ["o"])
        meta = await store.get_meta("custom")
        count = await store.oplog_count()
        await store.apply(WriteBatch(lww_upserts=[("l", "b", lww(2, 9))]))
        more = await store.oplog_append([b"op3"])
    check(after == before, f"after reopen: {after!r}, before close: {before!r}")
    check(meta == "meta" and count == len(ids), f"meta {meta!r} / op-log count {count}")
    check(more[0] > ids[-1], "op-log ids restarted after reopen")


def _rows(m: int) -> list[tuple[str, LWWRecord]]:
    return [(f"k{k}", lww(m * 100 + k, m * 100 + k)) for k in range(20)]


async def check_many_maps(fixture: StorageFixture) -> None:
    """Fifty LWW and ten OR maps in one store: each loads exactly its own rows."""
    batch = WriteBatch()
    for m in range(50):
        batch.lww_upserts.extend(
            (f"map-{m}", f"k{k}", lww(m * 100 + k, m * 100 + k)) for k in range(20)
        )
    for m in range(10):
        batch.or_upserts.extend((f"or-{m}", f"k{k}", orr([m, k], m * 100 + k)) for k in range(5))
    async with fresh(fixture) as store:
        await store.apply(batch)
        for m in range(50):
            rows = await store.load_lww(f"map-{m}")
            check(same_records(rows, _rows(m)), f"map-{m} loaded {len(rows)} rows, not its own 20")
        for m in range(10):
            snap = await store.load_or(f"or-{m}")
            check(len(snap.records) == 5, f"or-{m} loaded {len(snap.records)} records, not 5")


async def check_large_maps(fixture: StorageFixture) -> None:
    """A 10 000-record LWW map and a 10 000-record OR map, one apply each, load whole."""
    n = LARGE_MAP_RECORDS
    lww_rows = [
        (
            f"key-{i:05d}",
            lww(None if i % 10 == 0 else {"i": i, "f": i / 4}, 1000 + i, i % 3 or None),
        )
        for i in range(n)
    ]
    or_rows = [(f"key-{i % 2000}", orr(f"value-{i}", 1000 + i)) for i in range(n)]
    async with fresh(fixture) as store:
        await store.apply(WriteBatch(lww_upserts=[("big", k, r) for k, r in lww_rows]))
        await store.apply(WriteBatch(or_upserts=[("big-or", k, r) for k, r in or_rows]))
        got = await store.load_lww("big")
        snap = await store.load_or("big-or")
    check(same_records(got, lww_rows), f"large LWW map loaded {len(got)} of {n} records")
    check(same_records(snap.records, or_rows), f"large OR map: {len(snap.records)} of {n}")


NAMES = ("", "日本", "😀", "a'b", 'x"; DROP TABLE t; --', "%s", "?", "back\\slash", "new\nline")
"""Map names, keys and namespaces that are data, never SQL or format strings."""


async def check_names_are_data(fixture: StorageFixture) -> None:
    """Names and keys with quotes, placeholders, unicode or nothing at all round trip."""
    batch = WriteBatch()
    for i, name in enumerate(NAMES):
        batch.map_kinds[name] = "lww"
        batch.lww_upserts.extend((name, key, lww(i, 10 + i)) for key in NAMES)
        batch.kv_puts.extend((name, key, name.encode()) for key in NAMES)
    async with fresh(fixture) as store:
        await store.apply(batch)
        kinds = await store.map_kinds()
        for i, name in enumerate(NAMES):
            rows = await store.load_lww(name)
            want = [(key, lww(i, 10 + i)) for key in NAMES]
            check(same_records(rows, want), f"map {name!r} read back as {rows!r}")
            docs = dict(await store.kv_scan(name))
            check(docs == dict.fromkeys(NAMES, name.encode()), f"namespace {name!r}: {docs!r}")
    check(kinds == dict.fromkeys(NAMES, "lww"), f"map kinds read as {kinds!r}")
