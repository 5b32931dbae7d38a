"""How the query engine reads, compares and keys record values.

One module decides the value rules so that evaluation, indexes, sorting and cursors
can never disagree:

- **Paths.** An attribute is a dotted path (``"address.city"``). Each segment looks
  up a dict key; on a list, a segment of decimal digits is an index (``"tags.0"``).
  Anything else — a missing key, an index out of range, a scalar in the way — is
  :data:`MISSING`. Dots always separate segments: a dict key containing a dot cannot
  be addressed.
- **Equality** (:func:`json_equal`) is strict and structural: numbers are equal by
  value whatever their type (``1 == 1.0``), booleans are never numbers
  (``True != 1``), strings never equal numbers (``1 != "1"``), lists and dicts are
  equal element by element. NaN equals nothing.
- **Index keys** (:func:`index_key`) are hashable stand-ins with exactly the same
  equality: two values have the same key iff :func:`json_equal` says they are equal.
  Values that can never be equal to anything (null, NaN anywhere inside) have no key.
- **Elements** (:func:`element_key`) are what ``contains`` compares list elements
  by: the index key, with strings lower-cased (only strings directly in the list;
  strings nested deeper compare exactly).
- **Ordering** (:func:`compare`) exists only between two numbers or two strings
  (code-point order); anything else is incomparable, and comparisons with it are
  false.
- **Sort rank** (:func:`sort_token`) is a total order for ``sort``: booleans, then
  numbers, then strings, then bytes, then lists, then dicts; null, NaN and missing
  values have no token and sort last in either direction (see ``_sort``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Hashable
from typing import Final, TypeAlias, TypeGuard

from topgun_core.values import JsonValue, canonical_json

__all__ = [
    "MISSING",
    "Getter",
    "Missing",
    "Resolved",
    "SortToken",
    "compare",
    "compile_path",
    "element_key",
    "index_key",
    "is_nan",
    "is_number",
    "json_equal",
    "sort_token",
    "top_attribute",
]


class Missing(enum.Enum):
    """The type of :data:`MISSING`."""

    MISSING = "missing"


MISSING: Final = Missing.MISSING
"""What a path yields when the value has nothing there."""

Resolved: TypeAlias = "JsonValue | Missing"
Getter: TypeAlias = Callable[[JsonValue], Resolved]
SortToken: TypeAlias = tuple[int, "bool | int | float | str"]
"""``(type rank, comparable)`` of a present value; see :func:`sort_token`."""


def is_nan(value: object) -> bool:
    """Whether ``value`` is a float NaN (which equals and orders with nothing)."""
    return isinstance(value, float) and math.isnan(value)


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a JSON number (an int or float, never a bool)."""
    return type(value) is int or type(value) is float


def top_attribute(path: str) -> str:
    """The first segment of a path: the top-level field a change must touch to matter."""
    return path.split(".", 1)[0]


def _step(current: Resolved, segment: str) -> Resolved:
    if isinstance(current, dict):
        return current.get(segment, MISSING)
    if isinstance(current, list) and segment.isdigit() and segment.isascii():
        index = int(segment)
        return current[index] if index < len(current) else MISSING
    return MISSING


def compile_path(path: str) -> Getter:
    """A function reading ``path`` from a value; see the module docstring for the rules."""
    segments = tuple(path.split("."))
    if len(segments) == 1:
        (only,) = segments

        def get_one(value: JsonValue) -> Resolved:
            return value.get(only, MISSING) if isinstance(value, dict) else MISSING

        return get_one

    def get_many(value: JsonValue) -> Resolved:
        current: Resolved = value
        for segment in segments:
            current = _step(current, segment)
            if current is MISSING:
                return MISSING
        return current

    return get_many


def json_equal(a: Resolved, b: Resolved) -> bool:
    """Strict structural equality (module docstring); nulls inside containers are equal."""
    if is_number(a):
        return is_number(b) and a == b
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(json_equal(v, b[k]) for k, v in a.items())
        )
    return type(a) is type(b) and a == b


class _NoKey(Exception):
    """Raised inside :func:`index_key` when a value contains NaN."""


def _key(value: JsonValue) -> Hashable:
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        if is_nan(value):
            raise _NoKey
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, bytes):
        return ("y", value)
    if value is None:
        return ("z",)
    if isinstance(value, list):
        return ("l", tuple(_key(v) for v in value))
    return ("d", frozenset((k, _key(v)) for k, v in value.items()))


def index_key(value: Resolved) -> Hashable | None:
    """A hashable key equal for exactly the :func:`json_equal` values; None if unequalable.

    Python already treats ``1`` and ``1.0`` as the same dict key, so numbers share a
    tag; booleans get their own tag because Python also treats ``True`` as ``1``.
    """
    if value is None or value is MISSING:
        return None
    try:
        return _key(value)
    except _NoKey:
        return None


def element_key(value: Resolved) -> Hashable | None:
    """The key ``contains`` matches list elements by: :func:`index_key`, strings lower-cased."""
    return index_key(value.lower() if isinstance(value, str) else value)


def compare(a: Resolved, b: Resolved) -> int | None:
    """-1, 0 or 1 for two numbers or two strings; None when they are incomparable."""
    if isinstance(a, str):
        if not isinstance(b, str):
            return None
        return (a > b) - (a < b)
    if is_number(a) and is_number(b):
        if is_nan(a) or is_nan(b):  # NaN is unordered
            return None
        return (a > b) - (a < b)
    return None


_RANK_BOOL: Final = 0
_RANK_NUMBER: Final = 1
_RANK_STRING: Final = 2
_RANK_BYTES: Final = 3
_RANK_LIST: Final = 4
_RANK_DICT: Final = 5


def sort_token(value: Resolved) -> SortToken | None:
    """The sort position of a present value, or None for null / NaN / missing.

    Bytes compare by their hex text (which keeps byte order), lists and dicts by
    their canonical JSON, so every token is JSON-representable and can travel in a
    cursor unchanged.
    """
    if isinstance(value, bool):
        return (_RANK_BOOL, value)
    if isinstance(value, int | float):
        return None if is_nan(value) else (_RANK_NUMBER, value)
    if isinstance(value, str):
        return (_RANK_STRING, value)
    if value is None or value is MISSING:
        return None
    if isinstance(value, bytes):
        return (_RANK_BYTES, value.hex())
    rank = _RANK_LIST if isinstance(value, list) else _RANK_DICT
    return (rank, canonical_json(value))
