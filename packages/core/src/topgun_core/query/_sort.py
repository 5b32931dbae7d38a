"""Multi-field sort order: one comparable key per record, ties broken by the record key.

A :class:`SortOrder` turns ``(key, value)`` into a *sort key*: a tuple with one
component per sort field followed by the record key. Comparing two sort keys is
the whole order, so ``sorted``, ``heapq.nsmallest``, a ``SortedList`` window and a
cursor's "strictly after" test all agree.

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
"""``(*field components, record key)``; compare with ``<``."""

_PRESENT: Final = 0
_ABSENT: Final = (1,)  # sorts after every (0, token) in both directions


class _Descending:
    """A sort token in reverse order (only ever compared with another ``_Descending``)."""

    __slots__ = ("token",)

    def __init__(self, token: SortToken) -> None:
        self.token = token

    def __lt__(self, other: _Descending) -> bool:
        return other.token < self.token

    def __gt__(self, other: _Descending) -> bool:
        return other.token > self.token

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


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
                parts.append(_ABSENT)
            else:
                parts.append((_PRESENT, _Descending(token) if descending else token))
        parts.append(key)
        return tuple(parts)

    def to_json(self, sort_key: SortKey) -> list[JsonValue]:
        """The field tokens of ``sort_key`` as JSON (``[rank, comparable]`` or null each)."""
        out: list[JsonValue] = []
        for part in sort_key[:-1]:
            assert isinstance(part, tuple)
            if part == _ABSENT:
                out.append(None)
                continue
            token = part[1]
            rank, comparable = token.token if isinstance(token, _Descending) else token
            out.append([rank, comparable])
        return out

    def from_json(self, tokens: object, key: str, path: str) -> SortKey:
        """Rebuild a sort key from :meth:`to_json` output; anything malformed names ``path``."""
        if not isinstance(tokens, list) or len(tokens) != len(self._fields):
            raise ValidationError(path, "cursor sort values do not fit the query's sort")
        parts: list[object] = []
        for (_, descending), raw in zip(self._fields, tokens, strict=True):
            if raw is None:
                parts.append(_ABSENT)
                continue
            token = _token_from_json(raw, path)
            parts.append((_PRESENT, _Descending(token) if descending else token))
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
