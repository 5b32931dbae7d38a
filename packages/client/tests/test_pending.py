"""Pending writes coalesce per row into exactly the final state of one batch."""

from __future__ import annotations

from topgun_client._pending import PendingWrites
from topgun_core.hlc import Timestamp
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord


def _lww(value, counter=0):
    return LWWRecord(value, Timestamp(1, counter, "n"))


def _or(value, counter):
    ts = Timestamp(1, counter, "n")
    return ORRecord(value, ts, str(ts))


def test_rows_coalesce_and_deletes_cancel_upserts():
    pending = PendingWrites()
    pending.lww_upsert("m", "a", _lww(1))
    pending.lww_upsert("m", "a", _lww(2, 1))
    pending.lww_upsert("m", "b", _lww(None))
    pending.lww_delete("m", "b")  # a pruned tombstone
    pending.lww_delete("m", "c")
    pending.lww_upsert("m", "c", _lww(3))  # written again after the prune
    added = _or("x", 5)
    pending.or_upsert("o", "k", added)
    pending.or_tombstone("o", "k", added.tag)
    pending.or_tombstone_delete("o", "1:9:n")
    commit = pending.take()
    batch = commit.batch
    assert batch.lww_upserts == [("m", "a", _lww(2, 1)), ("m", "c", _lww(3))]
    assert batch.lww_deletes == [("m", "b")]
    assert batch.or_upserts == []
    assert batch.or_deletes == [("o", added.tag)]
    assert batch.or_tombstones == [("o", "k", added.tag)]
    assert batch.or_tombstone_deletes == [("o", "1:9:n")]
    assert len(pending) == 0


def test_op_payloads_keep_their_order_and_sequence_numbers():
    pending = PendingWrites()
    assert [pending.op(b"a"), pending.op(b"b")] == [0, 1]
    first = pending.take()
    assert first.batch.oplog_appends == [b"a", b"b"]
    assert first.first_seq == 0
    pending.op(b"c")
    second = pending.take()
    assert second.first_seq == 2
    assert second.batch.oplog_appends == [b"c"]


def test_clearing_a_map_drops_its_queued_rows_but_not_later_ones_or_ops():
    pending = PendingWrites()
    pending.lww_upsert("m", "old", _lww(1))
    pending.lww_upsert("other", "k", _lww(1))
    pending.op(b"op")
    pending.clear_map("m")
    pending.lww_upsert("m", "new", _lww(2))
    commit = pending.take()
    assert commit.clears == ["m"]
    assert commit.batch.lww_upserts == [("other", "k", _lww(1)), ("m", "new", _lww(2))]
    assert commit.batch.oplog_appends == [b"op"]
