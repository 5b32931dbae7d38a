"""Checks on what a caller hands to a map, made before anything is applied.

A value must be something every peer can carry: ``None``, bool, int (64-bit), float,
str, bytes, lists, and dicts with ``str`` keys, nested at most ``depth_max`` deep
with at most ``collection_items_max`` items per collection (the protocol's
:class:`~topgun_core.protocol.Limits`). Map names and keys are bounded by
``map_name_chars_max`` / ``key_chars_max``. Checking here means a bad write fails in
the caller's hands with a clear error instead of being queued, sent and refused.
"""

from __future__ import annotations

from typing import Final

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.protocol import Limits
from topgun_core.values import JsonValue

__all__ = ["check_key", "check_map_name", "check_value"]

_SCALARS: Final = (str, bool, float, bytes, type(None))
_INT64: Final = 2**63


def check_map_name(name: object, limits: Limits) -> str:
    """Return ``name`` if it is a usable map name; raise otherwise."""
    if not isinstance(name, str) or not name:
        raise ValidationError("mapName", "a map name is a non-empty str")
    if len(name) > limits.map_name_chars_max:
        raise LimitExceeded("map_name_chars_max", len(name), limits.map_name_chars_max)
    return name


def check_key(key: object, limits: Limits) -> str:
    """Return ``key`` if it is a usable record key; raise otherwise."""
    if not isinstance(key, str):
        raise ValidationError("key", f"a key is a str, got {type(key).__name__}")
    if len(key) > limits.key_chars_max:
        raise LimitExceeded("key_chars_max", len(key), limits.key_chars_max)
    return key


def check_value(value: JsonValue, limits: Limits) -> None:
    """Raise ``ValidationError`` / ``LimitExceeded`` unless ``value`` can travel."""
    level: list[object] = [value]
    depth = 1  # the value sits inside the record map inside the op
    while level:
        depth += 1
        below: list[object] = []
        for node in level:
            if isinstance(node, dict):
                _check_size(len(node), limits)
                for key, child in node.items():
                    if not isinstance(key, str):
                        raise ValidationError("value", "dict keys must be str")
                    below.append(child)
            elif isinstance(node, list):
                _check_size(len(node), limits)
                below.extend(node)
            elif isinstance(node, int) and not isinstance(node, bool):
                if not -_INT64 <= node < _INT64:
                    raise ValidationError("value", "integers must fit in 64 bits")
            elif not isinstance(node, _SCALARS):
                raise ValidationError("value", f"unsupported value type {type(node).__name__}")
        if below and depth + 3 > limits.depth_max:  # frame, payload, op, record wrap it
            raise LimitExceeded("depth_max", depth + 3, limits.depth_max)
        level = below


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.collection_items_max:
        raise LimitExceeded("collection_items_max", size, limits.collection_items_max)
