"""Opaque pagination cursors (SEMANTICS.md §8).

A cursor is base64url (unpadded) of compact JSON::

    {"v": 1, "s": [sort tokens], "k": last key, "p": predicate hash,
     "o": sort hash, "t": issued at (ms), "c": checksum}

``s`` + ``k`` are the sort key of the last row of the page, so the next page is the
rows whose sort key is strictly greater (keyset pagination): rows inserted or
removed between pages never shift it, and no row is returned twice. ``p`` and ``o``
(``hash32`` of the canonical predicate and of the sort fields) bind the cursor to
its query; the page size may change between pages. ``c`` is ``hash32`` of the rest
and catches corruption.

Cursors are not secrets and not signed: a forged cursor can only choose where a
page of the same query starts, which the client could do with a predicate anyway.
Decoding is strict and bounded (``cursor_chars_max``); every failure is a
:class:`CursorError` — a :class:`~topgun_core.errors.ValidationError` at
``query.cursor`` whose ``status`` is ``"invalid"`` (malformed, tampered, or issued
for another predicate or sort) or ``"expired"`` (older than ``cursor_age_ms_max``),
the values of ``QUERY_RESP.cursorStatus``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.hashing import hash32
from topgun_core.query._limits import QueryLimits
from topgun_core.query._sort import SortKey, SortOrder

__all__ = ["CursorError", "CursorStatus", "decode_cursor", "encode_cursor"]

CursorStatus: TypeAlias = Literal["valid", "expired", "invalid", "none"]
"""``QUERY_RESP.cursorStatus``: how the request's cursor was received (none: no cursor)."""

_VERSION: Final = 1
_FIELD: Final = "query.cursor"
_KEYS: Final = frozenset({"v", "s", "k", "p", "o", "t", "c"})


class CursorError(ValidationError):
    """A cursor that cannot be used; ``status`` says whether it is expired or invalid."""

    def __init__(self, status: Literal["expired", "invalid"], problem: str) -> None:
        super().__init__(_FIELD, problem)
        self.status: Literal["expired", "invalid"] = status


@dataclass(frozen=True, slots=True)
class CursorContext:
    """What a cursor is checked against: the query's hashes, the time and the limits."""

    predicate_hash: int
    order: SortOrder
    now_ms: int
    limits: QueryLimits


def _dumps(payload: dict[str, object]) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def encode_cursor(sort_key: SortKey, context: CursorContext) -> str:
    """The cursor that continues after the row whose sort key is ``sort_key``."""
    last_key = sort_key[-1]
    assert isinstance(last_key, str)
    payload: dict[str, object] = {
        "v": _VERSION,
        "s": context.order.to_json(sort_key),
        "k": last_key,
        "p": context.predicate_hash,
        "o": context.order.hash,
        "t": context.now_ms,
    }
    payload["c"] = hash32(_dumps(payload))
    text = base64.urlsafe_b64encode(_dumps(payload).encode()).rstrip(b"=").decode("ascii")
    if len(text) > context.limits.cursor_chars_max:
        raise LimitExceeded("cursor_chars_max", len(text), context.limits.cursor_chars_max)
    return text


def _payload(cursor: str, limits: QueryLimits) -> dict[str, object]:
    if len(cursor) > limits.cursor_chars_max:
        raise CursorError("invalid", f"cursor longer than {limits.cursor_chars_max} characters")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError("invalid", "malformed cursor") from None
    if not isinstance(payload, dict) or set(payload) != _KEYS:
        raise CursorError("invalid", "malformed cursor")
    checksum = payload.pop("c")
    if checksum != hash32(_dumps(payload)) or payload["v"] != _VERSION:
        raise CursorError("invalid", "cursor checksum or version mismatch (tampered?)")
    return payload


def decode_cursor(cursor: str, context: CursorContext) -> SortKey:
    """The sort key a cursor continues after; raises :class:`CursorError` if unusable."""
    payload = _payload(cursor, context.limits)
    key, issued = payload["k"], payload["t"]
    if not isinstance(key, str) or type(issued) is not int:
        raise CursorError("invalid", "malformed cursor")
    if payload["p"] != context.predicate_hash or payload["o"] != context.order.hash:
        raise CursorError("invalid", "cursor belongs to a different predicate or sort")
    age = context.now_ms - issued
    if age > context.limits.cursor_age_ms_max:
        raise CursorError("expired", f"cursor expired ({age} ms old)")
    if -age > context.limits.cursor_age_ms_max:
        raise CursorError("invalid", "cursor issued in the future")
    try:
        return context.order.from_json(payload["s"], key, _FIELD)
    except ValidationError as exc:
        raise CursorError("invalid", exc.problem) from None
