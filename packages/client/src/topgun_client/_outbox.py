"""Sending the op log: bounded batches out, acknowledgements matched by integer op id.

:class:`OpWindow` is sans-IO. On each connection it walks the op log from the start
(everything still in the log is unacknowledged) page by page: :meth:`OpWindow.want`
says which page to read, :meth:`OpWindow.loaded` turns the entries read into one
``OP_BATCH``. At most ``inflight_ops_max`` ops are sent and unacknowledged at once,
so the in-memory set stays bounded however long the log is.

Acknowledgements (``OP_ACK`` results, ``OP_REJECTED``) are matched to in-flight ops
by integer id. An id that is not in flight — acknowledged already, or from an older
connection — is ignored, so a batch acknowledged twice is applied once. Ops finish
in any order; the op log is trimmed through the longest finished prefix of the
window (:attr:`AckOutcome.trim_through`). A rejection with a retryable code
(429, 503) keeps its op in flight and queues it for :meth:`OpWindow.retry_batch`,
which the shell sends after a backoff delay; the bodies of in-flight ops are kept
for that (bounded by the window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NamedTuple

from topgun_client._errors import WriteRejected
from topgun_client._oplog import decode_entry
from topgun_core.errors import StorageError
from topgun_core.protocol import (
    ClientOp,
    OpAckPayload,
    OpBatchMessage,
    OpRejectedPayload,
    WriteConcern,
)
from topgun_core.storage import OpLogEntry

__all__ = ["AckOutcome", "OpWindow", "ReadRequest", "WriteResult"]

RETRYABLE_CODES: Final = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What the server reported for one op: its id and the write concern it achieved."""

    op_id: int
    achieved_level: WriteConcern
    success: bool = True


class ReadRequest(NamedTuple):
    """Read up to ``limit`` op-log entries with id greater than ``after_id``."""

    after_id: int
    limit: int
    generation: int


@dataclass(slots=True)
class AckOutcome:
    """What an acknowledgement settled."""

    done: list[WriteResult] = field(default_factory=list)
    failed: list[WriteRejected] = field(default_factory=list)
    trim_through: int | None = None


class OpWindow:
    """The ops of one connection that are sent and not yet acknowledged."""

    __slots__ = (
        "_appended",
        "_bodies",
        "_cursor",
        "_inflight",
        "_more",
        "_read_pending",
        "_retry",
        "batch_ops_max",
        "batch_ops_peak",
        "batches_sent",
        "inflight_ops_max",
        "inflight_peak",
    )

    def __init__(self, batch_ops_max: int, inflight_ops_max: int) -> None:
        self.batch_ops_max = batch_ops_max
        self.inflight_ops_max = inflight_ops_max
        self.inflight_peak = 0
        self.batch_ops_peak = 0
        self.batches_sent = 0
        self._appended = 0
        self.reset()

    def reset(self) -> None:
        """A new connection: nothing is in flight, the whole log is to be sent again."""
        self._cursor = 0
        self._inflight: dict[int, bool] = {}  # id -> finished
        self._bodies: dict[int, ClientOp] = {}  # unfinished ops, for a retry
        self._retry: list[int] = []
        self._more = True
        self._read_pending = False

    @property
    def inflight(self) -> int:
        """Ops sent on this connection and not yet finished."""
        return sum(1 for done in self._inflight.values() if not done)

    @property
    def drained(self) -> bool:
        """Every op in the log has been sent on this connection (as far as known)."""
        return not self._more and not self._read_pending

    def appended(self) -> None:
        """New entries were committed to the op log."""
        self._appended += 1
        self._more = True

    def want(self) -> ReadRequest | None:
        """The next page to read, or None (nothing more, a read pending, or window full)."""
        if not self._more or self._read_pending:
            return None
        room = self.inflight_ops_max - len(self._inflight)
        if room <= 0:
            return None
        self._read_pending = True
        return ReadRequest(self._cursor, min(self.batch_ops_max, room), self._appended)

    def loaded(
        self, request: ReadRequest, entries: list[OpLogEntry]
    ) -> tuple[OpBatchMessage | None, list[StorageError], int | None]:
        """Turn a page of entries into an ``OP_BATCH``; report (and finish) corrupt ones.

        Returns the message (None if nothing valid), the corruption errors and a trim
        point if finishing corrupt entries completed a prefix.
        """
        self._read_pending = False
        if len(entries) < request.limit and request.generation == self._appended:
            self._more = False
        ops: list[ClientOp] = []
        errors: list[StorageError] = []
        for entry in entries:
            self._cursor = max(self._cursor, entry.id)
            try:
                ops.append(decode_entry(entry))
            except StorageError as exc:
                errors.append(exc)
                self._inflight[entry.id] = True
                continue
            self._inflight[entry.id] = False
            self._bodies[entry.id] = ops[-1]
        self.inflight_peak = max(self.inflight_peak, len(self._inflight))
        trim = self._trim() if errors else None
        if not ops:
            return None, errors, trim
        self.batches_sent += 1
        self.batch_ops_peak = max(self.batch_ops_peak, len(ops))
        return {"type": "OP_BATCH", "payload": {"ops": ops}}, errors, trim

    def acked(self, payload: OpAckPayload) -> AckOutcome:
        """Settle the ops an ``OP_ACK`` names (or, with no results, every op through ``lastId``)."""
        outcome = AckOutcome()
        results = payload["results"]
        if not results:
            level = payload["achievedLevel"]
            last = payload["lastId"]
            ids = [i for i, done in self._inflight.items() if i <= last and not done]
            for op_id in ids:
                self._finish(op_id)
                outcome.done.append(WriteResult(op_id, level))
        for result in results:
            op_id = result["opId"]
            if self._inflight.get(op_id, True):
                continue  # not in flight here: a duplicate or stale ack
            self._finish(op_id)
            if result["success"]:
                outcome.done.append(WriteResult(op_id, result["achievedLevel"]))
            else:
                reason = result.get("error", "write concern not met")
                outcome.failed.append(WriteRejected(op_id, 500, reason, result["achievedLevel"]))
        outcome.trim_through = self._trim()
        return outcome

    def rejected(self, payload: OpRejectedPayload) -> AckOutcome:
        """Settle an ``OP_REJECTED``: final unless its code is retryable."""
        outcome = AckOutcome()
        op_id = payload["opId"]
        if self._inflight.get(op_id, True) or op_id in self._retry:
            return outcome
        error = WriteRejected(op_id, payload["code"], payload["reason"])
        if payload["code"] in RETRYABLE_CODES:
            error.retryable = True
            self._retry.append(op_id)  # still in flight: sent again by retry_batch()
        else:
            self._finish(op_id)
        outcome.failed.append(error)
        outcome.trim_through = self._trim()
        return outcome

    @property
    def has_retries(self) -> bool:
        """Ops refused with a retryable code wait to be sent again."""
        return bool(self._retry)

    def retry_batch(self) -> OpBatchMessage | None:
        """An ``OP_BATCH`` of the ops refused with a retryable code (sent after a delay)."""
        ids = [i for i in self._retry if i in self._bodies]
        now, self._retry = ids[: self.batch_ops_max], ids[self.batch_ops_max :]
        if not now:
            return None
        self.batches_sent += 1
        return {"type": "OP_BATCH", "payload": {"ops": [self._bodies[i] for i in now]}}

    def _finish(self, op_id: int) -> None:
        self._inflight[op_id] = True
        self._bodies.pop(op_id, None)

    def _trim(self) -> int | None:
        through = None
        inflight = self._inflight
        while inflight:
            first = next(iter(inflight))
            if not inflight[first]:
                break
            del inflight[first]
            through = first
        return through
