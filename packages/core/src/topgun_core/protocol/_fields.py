"""Field types of the wire schema: what each field accepts, compiled into pydantic-core.

The message models are TypedDicts whose fields use the ``Annotated`` aliases
below. Each alias keeps a plain static type for mypy (``int``, ``str``,
``JsonValue``, ``TimestampWire``) and attaches a marker whose
``__get_pydantic_core_schema__`` returns the exact pydantic-core schema, so every
check runs in compiled code with no per-field Python call:

- Integers (:data:`Int`, :data:`UInt`, :data:`Hash32`) accept a msgpack/JSON integer
  or an *integral* float (some JavaScript encoders emit large numbers as float64);
  ``3.0`` becomes ``3``, ``3.5`` is an error, strings and booleans are errors.
- Strings are strict (a number is never a string). Map names, keys and other
  names/ids are length-bounded by a named limit (:class:`_Limited`); the bound is
  carried in a ``custom-error`` node tagged with the limit's name so the codec can
  report ``FieldLimitExceeded`` and recompile the schema for non-default limits.
- Record values and other free-form data (:data:`Value`) are not walked by the
  schema at all: the codec has already checked the whole decoded tree (depth,
  collection sizes, JSON-compatible scalars) in one pass before validation.
"""

# No ``from __future__ import annotations`` here: on Python 3.11 it hides
# ``NotRequired`` from ``TypedDict.__required_keys__``.

from typing import TYPE_CHECKING, Annotated, Final

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema
from typing_extensions import TypedDict

from topgun_core.hlc import TimestampWire
from topgun_core.protocol._limits import DEFAULT_LIMITS
from topgun_core.values import JsonValue

__all__ = [
    "LIMIT_METADATA_KEY",
    "Hash32",
    "Int",
    "Key",
    "MapName",
    "MerklePath",
    "Name",
    "NodeId",
    "PositiveNumber",
    "TimestampField",
    "TimestampShape",
    "UInt",
    "Value",
    "Via",
    "int_between",
    "limited_list",
]

LIMIT_METADATA_KEY: Final = "topgun_limit"
"""Core-schema metadata key marking a length check that a named limit governs."""

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_UINT32_MAX: Final = 2**32 - 1


class _WireInt:
    """An integer in ``[ge, le]``; an integral float is accepted and converted."""

    def __init__(self, ge: int, le: int) -> None:
        self.ge = ge
        self.le = le

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # Left-to-right: an int (the common case) matches the first branch at once;
        # only a float input reaches the lax int conversion, which rejects fractions.
        # The custom error type collapses both branches' errors into one.
        number = core_schema.union_schema(
            [
                core_schema.int_schema(strict=True),
                core_schema.chain_schema(
                    [
                        core_schema.float_schema(strict=True, allow_inf_nan=False),
                        core_schema.int_schema(strict=False),
                    ]
                ),
            ],
            mode="left_to_right",
            custom_error_type="int_type",
        )
        bounds = core_schema.int_schema(strict=True, ge=self.ge, le=self.le)
        return core_schema.chain_schema([number, bounds])

    def describe(self, inner: str) -> str:
        """How the generated docs show this type."""
        if (self.ge, self.le) == (_INT64_MIN, _INT64_MAX):
            return "int"
        if self.le == _INT64_MAX:
            return f"int ≥ {self.ge}"
        return f"int in [{self.ge}, {self.le}]"


class _PositiveNumber:
    """A positive finite number; ints stay ints (``ttlMs`` may be fractional)."""

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.union_schema(
            [
                core_schema.int_schema(strict=True, gt=0),
                core_schema.float_schema(strict=True, gt=0, allow_inf_nan=False),
            ],
            mode="left_to_right",
            custom_error_type="positive_number",
            custom_error_message="must be a positive finite number",
        )

    def describe(self, inner: str) -> str:
        """How the generated docs show this type."""
        return "number > 0"


class _Limited:
    """A string or array whose length is bounded by the named field limit."""

    def __init__(self, limit: str) -> None:
        self.limit = limit

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        maximum: int = getattr(DEFAULT_LIMITS, self.limit)
        # Type check first (so a wrong type is reported as such), then the length
        # check, whose every failure is reported as this limit. Arrays are measured
        # before their items are validated, so an oversize batch costs nothing.
        length: CoreSchema
        if source is str:
            length = core_schema.str_schema(max_length=maximum)
            return core_schema.chain_schema([handler(source), self._tag(length, maximum)])
        any_list = core_schema.list_schema(core_schema.any_schema(), strict=True)
        length = core_schema.list_schema(core_schema.any_schema(), max_length=maximum)
        return core_schema.chain_schema([any_list, self._tag(length, maximum), handler(source)])

    def describe(self, inner: str) -> str:
        """How the generated docs show this type."""
        return f"{inner} (≤ {self.limit})"

    def _tag(self, schema: CoreSchema, maximum: int) -> CoreSchema:
        return core_schema.custom_error_schema(
            schema,
            custom_error_type=self.limit,
            custom_error_message=f"{self.limit} exceeded",
            custom_error_context={"maximum": maximum},
            metadata={LIMIT_METADATA_KEY: self.limit},
        )


class _Pattern:
    """A strict string matching ``pattern``; a mismatch reports ``problem``."""

    def __init__(self, pattern: str, error_type: str, problem: str, label: str) -> None:
        self.pattern = pattern
        self.error_type = error_type
        self.problem = problem
        self.label = label

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True),
                core_schema.custom_error_schema(
                    core_schema.str_schema(pattern=self.pattern),
                    custom_error_type=self.error_type,
                    custom_error_message=self.problem,
                ),
            ]
        )

    def describe(self, inner: str) -> str:
        """How the generated docs show this type."""
        return self.label


class _Opaque:
    """Accept any value: the codec's frame check already proved it a ``JsonValue``."""

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.any_schema()

    def describe(self, inner: str) -> str:
        """How the generated docs show this type."""
        return "any value"


class Via:
    """Validate with another (structurally identical) type's schema.

    Lets a field keep a static type defined outside this package (``TimestampWire``
    is a ``typing.TypedDict``, which pydantic does not accept before Python 3.12)
    while validating it with the protocol's own field rules.
    """

    def __init__(self, shape: type) -> None:
        self.shape = shape

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return handler.generate_schema(self.shape)


def int_between(ge: int, le: int) -> _WireInt:
    """Marker for an integer field in ``[ge, le]`` (integral floats accepted)."""
    return _WireInt(ge, le)


def limited_list(limit: str) -> _Limited:
    """Marker bounding an array field's length by the named limit (``batch_ops_max``)."""
    return _Limited(limit)


Int = Annotated[int, _WireInt(_INT64_MIN, _INT64_MAX)]
"""A signed 64-bit integer."""

UInt = Annotated[int, _WireInt(0, _INT64_MAX)]
"""A non-negative integer that fits in a signed 64-bit column (millis, counters, ids)."""

PositiveNumber = Annotated[float, _PositiveNumber()]
"""A positive finite number, int or float (TTLs in ms); an int stays an int."""

Hash32 = Annotated[int, _WireInt(0, _UINT32_MAX)]
"""An unsigned 32-bit hash (Merkle roots and buckets, checksums)."""

MapName = Annotated[str, _Limited("map_name_chars_max")]
"""A map name, at most ``map_name_chars_max`` characters."""

Key = Annotated[str, _Limited("key_chars_max")]
"""A record key, at most ``key_chars_max`` characters."""

Name = Annotated[str, _Limited("name_chars_max")]
"""Any other name or id (topic, lock, counter, request id...), at most ``name_chars_max``."""

NodeId = Annotated[
    str,
    _Pattern(
        r"^[\x00-\x39\x3b-\x7f]+$",
        "node_id",
        "must be non-empty ASCII without ':'",
        "node id (non-empty ASCII without `:`)",
    ),
    _Limited("name_chars_max"),
]
"""A node id: non-empty ASCII without ``:`` (SEMANTICS.md §2), at most ``name_chars_max``."""

MerklePath = Annotated[
    str,
    _Pattern(
        r"^[0-9a-f]{0,8}$",
        "merkle_path",
        "must be up to 8 lower-case hex digits",
        "Merkle path (up to 8 lower-case hex digits)",
    ),
]
"""A Merkle trie path: a prefix of a key hash's lower-case hex digits ("" is the root)."""

if TYPE_CHECKING:
    Value = Annotated[JsonValue, _Opaque()]
else:
    # At run time ``JsonValue`` is a string (a recursive forward reference) that
    # ``get_type_hints`` could not resolve from the message modules; the schema
    # ignores the type anyway (see ``_Opaque``).
    Value = Annotated[object, _Opaque()]
"""A free-form value (record value, topic data, processor args): any ``JsonValue``."""


class TimestampShape(TypedDict):
    """An HLC timestamp, ordered by (millis, counter, nodeId) (SEMANTICS.md §2).

    The validation shape of ``topgun_core.hlc.TimestampWire``.
    """

    millis: UInt
    counter: UInt
    nodeId: NodeId


TimestampField = Annotated[TimestampWire, Via(TimestampShape)]
"""An HLC timestamp ``{millis, counter, nodeId}`` (``topgun_core.hlc.TimestampWire``)."""
