"""The values TopGun stores: JSON-like trees (plus bytes, which msgpack carries).

``JsonValue`` is the static type of a record value everywhere in core; there is no
``Any``. :func:`canonical_json` renders a value the way every peer renders it for
hashing (sorted keys, no spaces, integral floats as integers, like JavaScript's
``JSON.stringify``), so OR-map Merkle hashes agree across languages.
"""

from __future__ import annotations

import json
import math
from typing import TypeAlias

__all__ = ["JsonValue", "canonical_json"]

JsonValue: TypeAlias = (
    "bool | int | float | str | bytes | list[JsonValue] | dict[str, JsonValue] | None"
)


def _normalise(value: JsonValue) -> object:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # JSON.stringify renders NaN and ±Infinity as null
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def canonical_json(value: JsonValue) -> str:
    """Canonical JSON text of ``value``: sorted keys, no whitespace, JS number style."""
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
