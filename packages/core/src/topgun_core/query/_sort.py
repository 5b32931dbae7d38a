"""Multi-field sort order: one comparable key per record, ties broken by the record key.

A :class:`SortOrder` turns ``(key, value)`` into a *sort key*: a flat tuple with
three slots per sort field — ``(0, rank, comparable)`` for a present value,
``(1, 0, 0)`` for a missing one — followed by the record key. Comparing two sort
keys is the whole order, so ``sorted``, ``heapq.nsmallest``, a ``SortedList``
window and a cursor's "strictly after" test all agree. A descending field stores
the negated rank and the negated number (or text wrapped to compare in reverse),
so comparisons stay native tuple comparisons; a flat tuple compares about twice
as fast as nested ones, which matters for live-query windows.

Per field (tokens are defined in ``_values.sort_token``):

- a present value sorts by its token — booleans, then numbers, then strings, then
  bytes, lists and dicts — ascending, or descending for ``"desc"``;
- a null, NaN or missing value sorts **after every present value in both
  directions** (like SQL ``NULLS LAST``), and missing values tie with each other;
- remaining ties are broken by the record key, always ascending, so the order is
  total and deterministic. With no sort fields the order is by key alone, which is
  how a ``limit`` without ``sort`` pages (SEMANTICS.md §8 fix).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import UnionType
from typing import Final, TypeAlias

from topgun_core.errors import ValidationError
from topgun_core.hashing import hash32
from topgun_core.protocol import SortDirection
from topgun_core.query._values import SortToken, compile_path, is_nan, sort_token
from topgun_core.values import JsonValue

__all__ = ["SortKey", "SortOrder"]

SortKey: TypeAlias = tuple[object, ...]
"""``(*three slots per field, record key)``; compare with ``<``."""

_PRESENT: Final = 0
_ABSENT: Final = (1, 0, 0)  # sorts after every (0, rank, comparable) in both directions


class _Reversed(str):
    """Text that sorts in reverse; a ``str`` so equality and hashing stay native."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __le__(self, other: str) -> bool:
        return str.__ge__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)

    def __ge__(self, other: str) -> bool:
        return str.__le__(self, other)


def _descending(token: SortToken) -> tuple[int, object]:
    """``token`` in reverse order: negated rank, negated number or reversed text.

    The negated rank comes first, so two components are only ever compared value to
    value when they have the same rank, hence the same type.
    """
    rank, comparable = token
    if isinstance(comparable, str):
        return (-rank, _Reversed(comparable))
    return (-rank, -comparable)


def _ascending(component: tuple[int, object]) -> SortToken:
    """Undo :func:`_descending`."""
    negated_rank, comparable = component
    rank = -negated_rank
    if isinstance(comparable, str):
        return (rank, str(comparable))
    assert isinstance(comparable, int | float)
    return (rank, bool(-comparable)) if rank == 0 else (rank, -comparable)


class SortOrder:
    """The order of a query's ``sort`` fields (``[(field, "asc" | "desc"), ...]``)."""

    __slots__ = ("_fields", "fields", "hash")

    def __init__(self, sort: Sequence[tuple[str, SortDirection]] = ()) -> None:
        self.fields = tuple(sort)
        self._fields = tuple((compile_path(f), d == "desc") for f, d in self.fields)
        text = json.dumps([[f, d] for f, d in self.fields], separators=(",", ":"))
        self.hash = hash32(text)
        """A hash of the fields and directions, carried in cursors."""

    def key(self, key: str, value: JsonValue) -> SortKey:
        """The sort key of the record ``key`` holding ``value``."""
        if not self._fields:
            return (key,)
        parts: list[object] = []
        for get, descending in self._fields:
            token = sort_token(get(value))
            if token is None:
                parts += _ABSENT
            else:
                parts += (_PRESENT, *(_descending(token) if descending else token))
        parts.append(key)
        return tuple(parts)

    def to_json(self, sort_key: SortKey) -> list[JsonValue]:
        """The field tokens of ``sort_key`` as JSON (``[rank, comparable]`` or null each)."""
        out: list[JsonValue] = []
        for i, (_, descending) in enumerate(self._fields):
            flag, rank, comparable = sort_key[3 * i : 3 * i + 3]
            if flag != _PRESENT:
                out.append(None)
                continue
            assert isinstance(rank, int)
            assert isinstance(comparable, bool | int | float | str)
            rank, comparable = _ascending((rank, comparable)) if descending else (rank, comparable)
            out.append([rank, comparable])
        return out

    def from_json(self, tokens: object, key: str, path: str) -> SortKey:
        """Rebuild a sort key from :meth:`to_json` output; anything malformed names ``path``."""
        if not isinstance(tokens, list) or len(tokens) != len(self._fields):
            raise ValidationError(path, "cursor sort values do not fit the query's sort")
        parts: list[object] = []
        for (_, descending), raw in zip(self._fields, tokens, strict=True):
            if raw is None:
                parts += _ABSENT
                continue
            token = _token_from_json(raw, path)
            parts += (_PRESENT, *(_descending(token) if descending else token))
        parts.append(key)
        return tuple(parts)


_TOKEN_TYPES: Final[dict[int, type | UnionType]] = {
    0: bool,
    1: int | float,
    2: str,
    3: str,
    4: str,
    5: str,
}


def _token_from_json(raw: object, path: str) -> SortToken:
    if isinstance(raw, list) and len(raw) == 2:
        rank, comparable = raw
        expected = _TOKEN_TYPES.get(rank) if type(rank) is int else None
        well_typed = expected is not None and isinstance(comparable, expected)
        if rank == 1 and (isinstance(comparable, bool) or is_nan(comparable)):
            well_typed = False  # a boolean or NaN posing as a number
        if (
            well_typed
            and isinstance(rank, int)
            and isinstance(comparable, bool | int | float | str)
        ):
            return (rank, comparable)
    raise ValidationError(path, "malformed cursor sort value")
