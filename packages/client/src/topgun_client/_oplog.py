"""Op-log entries: how a local write is kept in the store until the server acknowledges it.

An entry's payload is one encoded ``CLIENT_OP`` message whose op carries ``id`` 0;
the op's real id is the id the store assigned to the entry (strictly increasing,
never reused), so ids are a client-unique integer sequence for free and an ack's
``opId`` names the entry to trim. Reading an entry back runs the full protocol
validation (:func:`topgun_core.protocol.decode_client`): a corrupt entry is reported
with its id and skipped, never sent and never a crash.
"""

from __future__ import annotations

import copy

from topgun_core.errors import ProtocolError, StorageError
from topgun_core.protocol import ClientOp, ClientOpMessage, decode_client, encode
from topgun_core.storage import OpLogEntry

__all__ = ["decode_entry", "encode_op"]


def encode_op(op: ClientOp) -> bytes:
    """The op-log payload of ``op`` (its ``id`` is ignored: the store assigns one)."""
    stored = copy.copy(op)
    stored["id"] = 0
    message: ClientOpMessage = {"type": "CLIENT_OP", "payload": stored}
    return encode(message)


def decode_entry(entry: OpLogEntry) -> ClientOp:
    """The op stored in ``entry``, with ``id`` set to the entry's id.

    Raises ``StorageError`` (not retryable) naming the entry when the payload is not
    a valid ``CLIENT_OP``.
    """
    try:
        message = decode_client(entry.payload)
    except ProtocolError as exc:
        raise _corrupt(entry.id, exc.message) from None
    if message["type"] != "CLIENT_OP":
        raise _corrupt(entry.id, f"holds a {message['type']} message, not CLIENT_OP")
    client_op: ClientOpMessage = message
    op = client_op["payload"]
    op["id"] = entry.id
    return op


def _corrupt(entry_id: int, problem: str) -> StorageError:
    error = StorageError(f"op-log entry {entry_id} is corrupt: {problem}")
    error.retryable = False
    return error
