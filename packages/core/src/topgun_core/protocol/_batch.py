"""The ``BATCH`` envelope's ``data``: several encoded messages in one byte string.

Layout (PROTOCOL.md "Framing"): a little-endian u32 message count, then for each
message a little-endian u32 length followed by that many bytes of one
msgpack-encoded message. :func:`unpack_batch` checks every length against the bytes
actually present and reports exactly what is wrong — truncation, a count that does
not match, a length running past the end, trailing bytes, too many messages — as a
``ProtocolError``; it never returns a partial list.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from topgun_core.errors import LimitExceeded, ProtocolError
from topgun_core.protocol._limits import DEFAULT_LIMITS, Limits

__all__ = ["pack_batch", "unpack_batch"]

_U32: Final = struct.Struct("<I")
_U32_MAX: Final = 2**32 - 1


def pack_batch(frames: Sequence[bytes], *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Pack encoded messages into ``BATCH.data``."""
    if len(frames) > limits.batch_messages_max:
        raise LimitExceeded("batch_messages_max", len(frames), limits.batch_messages_max)
    parts = [_U32.pack(len(frames))]
    for frame in frames:
        if len(frame) > _U32_MAX:
            raise ProtocolError(f"a batched message of {len(frame)} bytes does not fit a u32")
        parts.append(_U32.pack(len(frame)))
        parts.append(frame)
    return b"".join(parts)


def unpack_batch(
    data: bytes, *, limits: Limits = DEFAULT_LIMITS, count: int | None = None
) -> list[bytes]:
    """Split ``BATCH.data`` into the encoded messages it holds.

    ``count``, when given (the message's ``count`` field), must equal the count in
    the data. Raises ``ProtocolError`` (``LimitExceeded`` over
    ``batch_messages_max``) naming the problem; each returned frame still has to be
    decoded.
    """
    size = len(data)
    if size < _U32.size:
        raise ProtocolError(f"malformed BATCH data: {size} bytes, too short for the count")
    (declared,) = _U32.unpack_from(data, 0)
    if declared > limits.batch_messages_max:
        raise LimitExceeded("batch_messages_max", declared, limits.batch_messages_max)
    if count is not None and count != declared:
        raise ProtocolError(
            f"malformed BATCH: count mismatch, count field is {count} but data holds {declared}"
        )
    frames: list[bytes] = []
    offset = _U32.size
    for index in range(declared):
        if offset == size:
            raise ProtocolError(
                f"malformed BATCH data: count mismatch, header says {declared} messages "
                f"but data ends after {index}"
            )
        if offset + _U32.size > size:
            raise ProtocolError(
                f"malformed BATCH data: truncated length of message {index} at byte {offset}"
            )
        (length,) = _U32.unpack_from(data, offset)
        offset += _U32.size
        if length == 0:
            raise ProtocolError(f"malformed BATCH data: message {index} is empty")
        if offset + length > size:
            raise ProtocolError(
                f"malformed BATCH data: message {index} length {length} runs past the end "
                f"({size - offset} bytes left)"
            )
        frames.append(data[offset : offset + length])
        offset += length
    if offset != size:
        raise ProtocolError(
            f"malformed BATCH data: {size - offset} trailing bytes after {declared} messages"
        )
    return frames
