"""Named limits on inbound frames, and the error that names a field over one.

Every bound the codec enforces lives in :class:`Limits`, named with its unit
(STYLE.md): a frame over ``frame_bytes_max`` is refused before it is decoded, the
decoded tree is checked against ``depth_max`` and ``collection_items_max`` before
schema validation, and the per-field bounds (``map_name_chars_max``,
``key_chars_max``, ``name_chars_max``, ``batch_ops_max``) are part of the compiled
schema. A :class:`Limits` is a frozen, hashable value, so the codec compiles (and
caches) one validator per distinct set of limits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

from topgun_core.errors import LimitExceeded

__all__ = [
    "DEFAULT_LIMITS",
    "FIELD_LIMIT_NAMES",
    "PROTOCOL_VERSION",
    "FieldLimitExceeded",
    "Limits",
]

PROTOCOL_VERSION: Final = 1
"""The wire protocol version this code speaks (``AUTH.protocolVersion``, ``AUTH_ACK``)."""

_MIB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one inbound frame; every field is a maximum, units in its name.

    - ``frame_bytes_max``: encoded size of one frame (msgpack bytes or JSON text).
    - ``depth_max``: nesting of maps and arrays; the frame's top-level map is depth 1.
    - ``collection_items_max``: entries in any single map or array of a frame.
    - ``batch_ops_max``: ops in one ``OP_BATCH`` (and in node-to-node op batches).
    - ``batch_messages_max``: messages packed into one ``BATCH`` envelope.
    - ``map_name_chars_max``: characters in a map name.
    - ``key_chars_max``: characters in a record key.
    - ``name_chars_max``: characters in any other name or id — topics, locks,
      counters, resolvers, processors, request / query / subscription ids, client
      and node ids, OR tags.
    """

    frame_bytes_max: int = 64 * _MIB
    depth_max: int = 32
    collection_items_max: int = 100_000
    batch_ops_max: int = 10_000
    batch_messages_max: int = 10_000
    map_name_chars_max: int = 256
    key_chars_max: int = 1024
    name_chars_max: int = 256

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or value < 1:
                raise ValueError(f"Limits.{f.name} must be a positive int, got {value!r}")


DEFAULT_LIMITS: Final = Limits()
"""The limits used when a caller passes none."""

FIELD_LIMIT_NAMES: Final = frozenset(
    {"batch_ops_max", "map_name_chars_max", "key_chars_max", "name_chars_max"}
)
"""The limits that bound one field (compiled into the schema), as opposed to the frame."""


class FieldLimitExceeded(LimitExceeded):
    """One field of a message is over a named limit.

    A :class:`~topgun_core.errors.LimitExceeded` (code 413) that also carries the
    dotted wire path of the field, so the error sent back names both the field and
    the limit: ``payload.ops.3.key: key_chars_max exceeded: 2000 > 1024``.
    """

    def __init__(self, field: str, limit: str, actual: int, maximum: int) -> None:
        super().__init__(limit, actual, maximum)
        self.field = field
        self.message = f"{field}: {self.message}"
        self.args = (self.message,)
