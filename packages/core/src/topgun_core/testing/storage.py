"""The conformance suite every :class:`~topgun_core.storage.StorageAdapter` must pass.

An adapter is tested through a :class:`StorageFixture`, which hands out adapters:
``new()`` returns a fresh, unopened adapter on a new, empty backing store, and —
when the fixture is ``durable`` — ``reopen()`` returns another unopened adapter on
the *same* store (the previous one already closed), which is how a restart is
modelled. A store that forgets on close (a private in-memory database) sets
``durable = False``; the checks that need a restart are then left out
(:func:`checks_for`).

The suite is a tuple of named checks (:data:`STORAGE_CHECKS`), each an ``async``
function of the fixture that raises ``AssertionError`` naming what broke. A test
suite parametrises over them so each shows as its own case, or awaits
:func:`check_storage_adapter` to run them all. There is no event loop in here (core
is sans-IO): checks are plain coroutines the caller awaits. Every check closes the
adapters it opened, also when it fails. The record, op-log, batch and scale checks
live in ``_storage_checks``; shared helpers in ``_storage_support``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from topgun_core.hashing import PARTITION_COUNT
from topgun_core.storage import META_PARTITION_COUNT, StorageAdapter, WriteBatch
from topgun_core.testing import _storage_checks as data
from topgun_core.testing._storage_support import (
    SAMPLE_VALUES,
    StorageCheck,
    StorageFixture,
    check,
    fresh,
    raises_storage_error,
    same_value,
)

__all__ = [
    "SAMPLE_VALUES",
    "STORAGE_CHECKS",
    "StorageCheck",
    "StorageFixture",
    "check_storage_adapter",
    "checks_for",
    "same_value",
]


# ---------------------------------------------------------------- lifecycle and meta


async def check_open_is_idempotent(fixture: StorageFixture) -> None:
    """``open()`` twice and ``close()`` twice are fine; the adapter is a StorageAdapter."""
    store = await fixture.new()
    check(isinstance(store, StorageAdapter), "adapter does not implement StorageAdapter")
    await store.open()
    try:
        await store.open()
        await store.ping()
    finally:
        await store.close()
    await store.close()


async def check_partition_count_written_on_create(fixture: StorageFixture) -> None:
    """A new store records the partition count it was created with."""
    async with fresh(fixture) as store:
        stored = await store.get_meta(META_PARTITION_COUNT)
    check(stored == str(PARTITION_COUNT), f"partition count meta is {stored!r}")


async def check_partition_count_mismatch_refused(fixture: StorageFixture) -> None:
    """A store created with another partition count is refused on open (StorageError)."""
    async with fresh(fixture) as store:
        await store.set_meta(META_PARTITION_COUNT, str(PARTITION_COUNT + 1))
    store = await fixture.reopen()
    try:
        await raises_storage_error(store.open(), "open with another partition count")
        await raises_storage_error(store.ping(), "ping after a refused open")
    finally:
        await store.close()


async def check_meta_round_trip(fixture: StorageFixture) -> None:
    """Meta values are stored, overwritten and read back; a missing one is None."""
    async with fresh(fixture) as store:
        check(await store.get_meta("missing") is None, "missing meta is not None")
        await store.set_meta("k", "v1")
        await store.set_meta("k", "v2 — ünïcode")
        got = await store.get_meta("k")
    check(got == "v2 — ünïcode", f"meta read back as {got!r}")


async def check_ping_when_open(fixture: StorageFixture) -> None:
    """``ping()`` returns on an open store."""
    async with fresh(fixture) as store:
        await store.ping()


def _every_call(store: StorageAdapter) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    return [
        ("ping", store.ping),
        ("get_meta", lambda: store.get_meta("k")),
        ("set_meta", lambda: store.set_meta("k", "v")),
        ("map_kinds", store.map_kinds),
        ("load_lww", lambda: store.load_lww("m")),
        ("load_or", lambda: store.load_or("m")),
        ("apply", lambda: store.apply(WriteBatch(kv_puts=[("ns", "k", b"v")]))),
        ("clear_map", lambda: store.clear_map("m")),
        ("kv_get", lambda: store.kv_get("ns", "k")),
        ("kv_scan", lambda: store.kv_scan("ns")),
        ("oplog_append", lambda: store.oplog_append([b"x"])),
        ("oplog_read", lambda: store.oplog_read(0, 10)),
        ("oplog_trim", lambda: store.oplog_trim(10)),
        ("oplog_count", store.oplog_count),
    ]


async def check_closed_adapter_raises(fixture: StorageFixture) -> None:
    """Before ``open()`` and after ``close()`` every method raises StorageError."""
    store = await fixture.new()
    for name, call in _every_call(store):
        await raises_storage_error(call(), f"{name} before open")
    await store.open()
    await store.close()
    for name, call in _every_call(store):
        await raises_storage_error(call(), f"{name} after close")


# ---------------------------------------------------------------- registry and runner

STORAGE_CHECKS: tuple[StorageCheck, ...] = (
    StorageCheck("open_is_idempotent", check_open_is_idempotent),
    StorageCheck("partition_count_written_on_create", check_partition_count_written_on_create),
    StorageCheck(
        "partition_count_mismatch_refused",
        check_partition_count_mismatch_refused,
        needs_reopen=True,
    ),
    StorageCheck("meta_round_trip", check_meta_round_trip),
    StorageCheck("ping_when_open", check_ping_when_open),
    StorageCheck("closed_adapter_raises", check_closed_adapter_raises),
    StorageCheck("lww_upsert_replace_delete", data.check_lww_upsert_replace_delete),
    StorageCheck("lww_tombstones", data.check_lww_tombstones),
    StorageCheck("ttl_round_trip", data.check_ttl_round_trip),
    StorageCheck("value_types_round_trip", data.check_value_types_round_trip),
    StorageCheck("or_records_and_tombstones", data.check_or_records_and_tombstones),
    StorageCheck("or_deletes", data.check_or_deletes),
    StorageCheck("map_kinds", data.check_map_kinds),
    StorageCheck("map_kind_change_refused", data.check_map_kind_change_refused),
    StorageCheck("clear_map", data.check_clear_map),
    StorageCheck("kv_documents", data.check_kv_documents),
    StorageCheck("oplog_order_and_paging", data.check_oplog_order_and_paging),
    StorageCheck("oplog_trim_never_reuses_ids", data.check_oplog_trim_never_reuses_ids),
    StorageCheck(
        "oplog_ids_survive_reopen", data.check_oplog_ids_survive_reopen, needs_reopen=True
    ),
    StorageCheck("apply_order_within_batch", data.check_apply_order_within_batch),
    StorageCheck("apply_is_atomic", data.check_apply_is_atomic),
    StorageCheck("apply_appends_oplog", data.check_apply_appends_oplog),
    StorageCheck("empty_batch_and_unknown_maps", data.check_empty_batch_and_unknown_maps),
    StorageCheck("durable_after_reopen", data.check_durable_after_reopen, needs_reopen=True),
    StorageCheck("many_maps", data.check_many_maps),
    StorageCheck("large_maps", data.check_large_maps),
    StorageCheck("names_are_data", data.check_names_are_data),
)
"""Every rule of the storage contract, by name."""


def checks_for(*, durable: bool) -> tuple[StorageCheck, ...]:
    """The checks that apply to a store: all of them, less the restart ones if not durable."""
    return tuple(c for c in STORAGE_CHECKS if durable or not c.needs_reopen)


async def check_storage_adapter(fixture: StorageFixture) -> None:
    """Run every applicable check; the first failure raises ``AssertionError`` naming it."""
    for storage_check in checks_for(durable=fixture.durable):
        try:
            await storage_check.run(fixture)
        except AssertionError as exc:
            raise AssertionError(f"storage check {storage_check.name!r} failed: {exc}") from exc
