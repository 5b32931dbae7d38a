"""Op-log batching and ack matching (sans-IO ``OpWindow``)."""

from __future__ import annotations

from topgun_client._oplog import encode_op
from topgun_client._outbox import OpWindow
from topgun_core.storage import OpLogEntry


def _entry(op_id: int, key: str = "k") -> OpLogEntry:
    record = {"value": op_id, "timestamp": {"millis": 1, "counter": op_id, "nodeId": "n"}}
    op = {"id": 0, "mapName": "m", "key": key, "opType": "PUT", "record": record}
    return OpLogEntry(op_id, encode_op(op))


class Log:
    """An in-memory op log to read pages from."""

    def __init__(self, count: int) -> None:
        self.entries = [_entry(i) for i in range(1, count + 1)]

    def read(self, after: int, limit: int) -> list[OpLogEntry]:
        return [e for e in self.entries if e.id > after][:limit]


def _ack(*ids: int, level: str = "MEMORY") -> dict:
    results = [{"opId": i, "success": True, "achievedLevel": level} for i in ids]
    return {"lastId": max(ids), "achievedLevel": level, "results": results}


def _send_all(window: OpWindow, log: Log) -> list[dict]:
    batches = []
    while (request := window.want()) is not None:
        batch, errors, _ = window.loaded(request, log.read(request.after_id, request.limit))
        assert errors == []
        if batch is not None:
            batches.append(batch)
    return batches


def test_batches_are_bounded_and_the_window_stops_at_its_bound():
    window = OpWindow(batch_ops_max=10, inflight_ops_max=25)
    log = Log(100)
    batches = _send_all(window, log)
    assert [len(b["payload"]["ops"]) for b in batches] == [10, 10, 5]
    assert [op["id"] for op in batches[0]["payload"]["ops"]] == list(range(1, 11))
    assert window.inflight == 25
    assert not window.drained
    outcome = window.acked(_ack(*range(1, 11)))
    assert outcome.trim_through == 10
    assert [r.op_id for r in outcome.done] == list(range(1, 11))
    more = _send_all(window, log)
    assert [len(b["payload"]["ops"]) for b in more] == [10]
    assert window.inflight_peak == 25


def test_duplicate_and_stale_acks_settle_nothing_twice():
    window = OpWindow(10, 100)
    _send_all(window, Log(3))
    first = window.acked(_ack(1, 2, 3))
    assert len(first.done) == 3
    assert first.trim_through == 3
    again = window.acked(_ack(1, 2, 3))
    assert again.done == []
    assert again.trim_through is None
    unknown = window.acked(_ack(99))
    assert unknown.done == []


def test_out_of_order_acks_trim_only_a_finished_prefix():
    window = OpWindow(10, 100)
    _send_all(window, Log(5))
    assert window.acked(_ack(3, 4)).trim_through is None
    assert window.acked(_ack(1)).trim_through == 1
    assert window.acked(_ack(2)).trim_through == 4
    assert window.acked(_ack(5)).trim_through == 5


def test_an_ack_without_results_settles_everything_through_last_id():
    window = OpWindow(10, 100)
    _send_all(window, Log(4))
    outcome = window.acked({"lastId": 3, "achievedLevel": "APPLIED", "results": []})
    assert [(r.op_id, r.achieved_level) for r in outcome.done] == [
        (i, "APPLIED") for i in (1, 2, 3)
    ]
    assert outcome.trim_through == 3


def test_final_rejection_is_trimmed_and_a_retryable_one_is_sent_again():
    window = OpWindow(10, 100)
    _send_all(window, Log(3))
    final = window.rejected({"opId": 1, "reason": "denied", "code": 403})
    assert final.failed[0].code == 403
    assert not final.failed[0].retryable
    assert final.trim_through == 1
    retry = window.rejected({"opId": 2, "reason": "busy", "code": 503})
    assert retry.failed[0].retryable
    assert retry.trim_through is None
    assert window.rejected({"opId": 2, "reason": "busy", "code": 503}).failed == []  # once
    assert window.acked(_ack(3)).trim_through is None  # blocked behind the op to retry
    assert window.has_retries
    again = window.retry_batch()
    assert [op["id"] for op in again["payload"]["ops"]] == [2]
    assert not window.has_retries
    assert window.acked(_ack(2)).trim_through == 3


def test_retries_go_out_in_bounded_batches():
    window = OpWindow(10, 100)
    _send_all(window, Log(25))
    for op_id in range(1, 26):
        window.rejected({"opId": op_id, "reason": "slow down", "code": 429})
    sizes = []
    while window.has_retries:
        sizes.append(len(window.retry_batch()["payload"]["ops"]))
    assert sizes == [10, 10, 5]


def test_a_reconnect_resends_everything_unfinished():
    window = OpWindow(10, 100)
    log = Log(3)
    _send_all(window, log)
    window.acked(_ack(1))
    window.reset()
    log.entries = [e for e in log.entries if e.id > 1]  # trimmed
    resent = _send_all(window, log)
    assert [op["id"] for op in resent[0]["payload"]["ops"]] == [2, 3]


def test_a_failed_result_is_final_with_its_level():
    window = OpWindow(10, 100)
    _send_all(window, Log(1))
    result = {"opId": 1, "success": False, "achievedLevel": "MEMORY", "error": "timeout"}
    payload = {"lastId": 1, "achievedLevel": "MEMORY", "results": [result]}
    outcome = window.acked(payload)
    assert outcome.failed[0].achieved_level == "MEMORY"
    assert outcome.trim_through == 1


def test_a_corrupt_entry_is_reported_and_trimmed_not_sent():
    window = OpWindow(10, 100)
    request = window.want()
    batch, errors, trim = window.loaded(request, [OpLogEntry(1, b"\xc1garbage"), _entry(2)])
    assert len(errors) == 1
    assert "op-log entry 1 is corrupt" in errors[0].message
    assert [op["id"] for op in batch["payload"]["ops"]] == [2]
    assert trim == 1


def test_appends_during_a_read_are_not_lost():
    window = OpWindow(10, 100)
    request = window.want()
    window.appended()  # committed while the (empty) read was running
    window.loaded(request, [])
    assert window.want() is not None
