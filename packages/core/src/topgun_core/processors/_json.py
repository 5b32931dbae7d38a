"""Checking raw objects as JSON-like values, and merging JSON objects.

User code in the sandbox, clients and local applications hand core arbitrary
Python objects. :func:`check_json_value` walks one and returns a *fresh* plain
:data:`~topgun_core.values.JsonValue` (so nothing aliases the caller's objects), or
raises an error naming the offending field by its dotted path:

- accepted: ``None``, ``bool``, ``int`` within what msgpack encodes
  ([-2**63, 2**64 - 1]), finite ``float``, ``str`` that is valid Unicode (no lone
  surrogates), ``bytes``/``bytearray``, ``list``/``tuple`` (a tuple becomes a list, as
  JSON encoders treat it) and ``dict`` with ``str`` keys; subclasses are converted to
  the plain type;
- refused with :class:`~topgun_core.errors.ValidationError`: anything else (sets,
  custom objects, NaN, infinities, non-string keys, out-of-range integers), and
  containers nested deeper than ``depth_max`` (which also stops self-referencing
  structures);
- refused with :class:`~topgun_core.protocol.FieldLimitExceeded`: a value whose
  msgpack encoding is over ``bytes_max``. The size is computed exactly while walking,
  and the walk stops as soon as the budget is spent, so an enormous object costs no
  more than ``bytes_max`` of work.

:func:`deep_merge_values` is the recursive object merge shared by the ``merge``
entry processor and the ``deep_merge`` conflict resolver.
"""

from __future__ import annotations

import math
from typing import Final

from topgun_core.errors import ValidationError
from topgun_core.protocol import FieldLimitExceeded
from topgun_core.values import JsonValue

__all__ = [
    "JSON_INT_MAX",
    "JSON_INT_MIN",
    "VALUE_DEPTH_MAX",
    "check_json_value",
    "deep_merge_values",
    "type_name",
]

JSON_INT_MIN: Final = -(2**63)
"""Smallest integer msgpack can encode."""
JSON_INT_MAX: Final = 2**64 - 1
"""Largest integer msgpack can encode."""
VALUE_DEPTH_MAX: Final = 24
"""Default nesting bound for checked values: they travel inside messages a few levels
deep, and a frame may nest at most ``Limits.depth_max`` (32) levels in all."""

_FLOAT_BYTES: Final = 9  # msgpack-python packs every float as a float64


class _Budget:
    """Running msgpack size of the value walked so far, against ``maximum``."""

    __slots__ = ("field", "limit", "maximum", "used")

    def __init__(self, field: str, limit: str, maximum: int) -> None:
        self.field = field
        self.limit = limit
        self.maximum = maximum
        self.used = 0

    def spend(self, size: int) -> None:
        self.used += size
        if self.used > self.maximum:
            raise FieldLimitExceeded(self.field, self.limit, self.used, self.maximum)


def check_json_value(
    obj: object,
    field: str,
    *,
    bytes_max: int,
    limit: str,
    depth_max: int = VALUE_DEPTH_MAX,
) -> JsonValue:
    """Return a plain copy of ``obj`` if it is a JSON-like value within bounds.

    ``field`` names the value in errors (``"result.value"``); ``limit`` is the name
    of the byte bound reported when the encoded size passes ``bytes_max``.
    """
    return _walk(obj, field, 0, depth_max, _Budget(field, limit, bytes_max))


def _walk(obj: object, path: str, depth: int, depth_max: int, budget: _Budget) -> JsonValue:
    if obj is None:
        budget.spend(1)
        return None
    if isinstance(obj, bool):
        budget.spend(1)
        return bool(obj)
    if isinstance(obj, int):
        return _integer(obj, path, budget)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValidationError(path, f"{obj!r} is not a JSON number (must be finite)")
        budget.spend(_FLOAT_BYTES)
        return float(obj)
    if isinstance(obj, str):
        return _string(obj, path, budget)
    if isinstance(obj, bytes | bytearray):
        budget.spend(_bin_header(len(obj)) + len(obj))
        return bytes(obj)
    if isinstance(obj, list | tuple | dict):
        if depth >= depth_max:
            raise ValidationError(path, f"nested deeper than {depth_max} levels")
        budget.spend(_container_header(len(obj)))
        if isinstance(obj, dict):
            return _object(obj, path, depth + 1, depth_max, budget)
        return [_walk(v, f"{path}.{i}", depth + 1, depth_max, budget) for i, v in enumerate(obj)]
    raise ValidationError(
        path,
        f"a {type_name(obj)} is not a JSON value "
        "(use null, booleans, numbers, strings, bytes, lists and objects with string keys)",
    )


def _object(
    obj: dict[object, object], path: str, depth: int, depth_max: int, budget: _Budget
) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for key, item in obj.items():
        if not isinstance(key, str):
            raise ValidationError(path, f"object keys must be strings, got {type_name(key)}")
        name = _string(key, path, budget)
        assert isinstance(name, str)
        out[name] = _walk(item, f"{path}.{name}", depth, depth_max, budget)
    return out


def _integer(obj: int, path: str, budget: _Budget) -> int:
    if not JSON_INT_MIN <= obj <= JSON_INT_MAX:
        raise ValidationError(path, f"integer {obj} is outside [-2**63, 2**64 - 1]")
    if -32 <= obj <= 127:
        size = 1
    elif -(2**7) <= obj <= 2**8 - 1:
        size = 2
    elif -(2**15) <= obj <= 2**16 - 1:
        size = 3
    elif -(2**31) <= obj <= 2**32 - 1:
        size = 5
    else:
        size = 9
    budget.spend(size)
    return int(obj)


def _string(obj: str, path: str, budget: _Budget) -> JsonValue:
    budget.spend(len(obj))  # a lower bound, before paying for the encoding
    try:
        encoded = len(obj.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError(path, "strings must be valid Unicode (no lone surrogates)") from None
    budget.spend(encoded - len(obj) + _str_header(encoded))
    return str(obj)


def _str_header(length: int) -> int:
    if length < 32:
        return 1
    return 2 if length < 2**8 else 3 if length < 2**16 else 5


def _bin_header(length: int) -> int:
    return 2 if length < 2**8 else 3 if length < 2**16 else 5


def _container_header(length: int) -> int:
    return 1 if length < 16 else 3 if length < 2**16 else 5


def type_name(obj: object) -> str:
    """The JSON name of ``obj``'s type, for error messages (``number``, ``object``...)."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "boolean"
    if isinstance(obj, int | float):
        return "number"
    if isinstance(obj, str):
        return "string"
    if isinstance(obj, bytes | bytearray):
        return "bytes"
    if isinstance(obj, list | tuple):
        return "array"
    if isinstance(obj, dict):
        return "object"
    return type(obj).__name__


def deep_merge_values(base: JsonValue, patch: JsonValue) -> JsonValue:
    """Merge ``patch`` into ``base`` without mutating either.

    When both are objects, every key of ``patch`` is merged recursively into
    ``base``'s value under the same key; otherwise ``patch`` wins whole (arrays and
    scalars replace, they are not concatenated; a ``null`` in ``patch`` is stored as
    ``null``, it does not delete). Sub-trees of the inputs may be shared by the result.
    """
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    merged = dict(base)
    for key, value in patch.items():
        merged[key] = deep_merge_values(base[key], value) if key in base else value
    return merged
