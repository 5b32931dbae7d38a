"""Encode messages to frames and decode frames to validated messages.

Decoding is three steps, all in one place:

1. bytes → plain values: ``msgpack.unpackb`` (or ``json.loads`` for text frames),
   with the frame-size limit checked first and every decoder failure turned into
   ``ProtocolError("undecodable frame: ...")``; then one pass over the tree for
   depth, collection sizes and value types (:mod:`._frame`);
2. the envelope: a map whose ``type`` names a message of the expected direction
   (else ``ValidationError`` on ``type``);
3. the schema: one compiled pydantic-core validator per union validates the whole
   message — a 10 000-op batch included — in a single call, producing plain dicts
   typed by the ``TypedDict`` models. Its failures become ``ValidationError`` /
   ``FieldLimitExceeded`` naming the wire path (:mod:`._errors`); pydantic's own
   exceptions never escape.

The validators are built once at import from the unions. Per-field limits are
compiled into them; a caller passing non-default :class:`Limits` gets validators
recompiled with those bounds (cached, so once per distinct set of limits).

Encoding trusts its statically typed input and is a plain ``msgpack.packb``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping
from typing import Final, TypeVar, cast

import msgpack  # type: ignore[import-untyped]  # ships no type information
from pydantic import ConfigDict, TypeAdapter
from pydantic_core import CoreConfig, CoreSchema, SchemaValidator
from pydantic_core import ValidationError as PydanticValidationError

from topgun_core.errors import ProtocolError, ValidationError
from topgun_core.protocol._errors import translate
from topgun_core.protocol._fields import LIMIT_METADATA_KEY
from topgun_core.protocol._frame import check_envelope, parse_json_frame, unpack_frame
from topgun_core.protocol._limits import DEFAULT_LIMITS, FIELD_LIMIT_NAMES, Limits
from topgun_core.protocol._unions import (
    CLIENT_MESSAGE_TYPES,
    CLUSTER_MESSAGE_TYPES,
    MESSAGE_TYPES,
    SERVER_MESSAGE_TYPES,
    ClientMessage,
    ClusterMessage,
    Message,
    ServerMessage,
)

__all__ = [
    "decode",
    "decode_client",
    "decode_client_json",
    "decode_cluster",
    "decode_json",
    "decode_server",
    "decode_server_json",
    "encode",
    "encode_json",
]

# Strict everywhere (a number is never a string, a bool never a number), unknown
# fields are errors (a misspelt ``writeConcern`` must not silently weaken a write),
# NaN and infinities are not numbers. Integers get their own lenient-for-integral-
# floats schema (see ``_fields``).
_CONFIG: Final = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)
_CORE_CONFIG: Final = CoreConfig(strict=True, extra_fields_behavior="forbid", allow_inf_nan=False)
_T = TypeVar("_T")


class _Wire:
    """One union: its type names, compiled schema and default-limits validator."""

    __slots__ = ("direction", "schema", "types", "validator")

    def __init__(self, adapter: TypeAdapter[_T], types: tuple[str, ...], direction: str) -> None:
        self.direction = direction
        self.types = frozenset(types)
        self.schema: CoreSchema = adapter.core_schema
        self.validator = adapter.validator


_CLIENT: Final = _Wire(
    TypeAdapter(ClientMessage, config=_CONFIG), CLIENT_MESSAGE_TYPES, "client→server"
)
_SERVER: Final = _Wire(
    TypeAdapter(ServerMessage, config=_CONFIG), SERVER_MESSAGE_TYPES, "server→client"
)
_MESSAGE: Final = _Wire(TypeAdapter(Message, config=_CONFIG), MESSAGE_TYPES, "client↔server")
_CLUSTER: Final = _Wire(
    TypeAdapter(ClusterMessage, config=_CONFIG), CLUSTER_MESSAGE_TYPES, "node↔node"
)
_FIELD_LIMIT_ORDER: Final = tuple(sorted(FIELD_LIMIT_NAMES))
_DEFAULT_FIELD_LIMITS: Final = tuple(getattr(DEFAULT_LIMITS, n) for n in _FIELD_LIMIT_ORDER)


def _validate(wire: _Wire, tree: object, limits: Limits) -> object:
    check_envelope(tree, wire.types, wire.direction)
    validator = wire.validator
    if limits is not DEFAULT_LIMITS:
        field_limits = tuple(getattr(limits, n) for n in _FIELD_LIMIT_ORDER)
        if field_limits != _DEFAULT_FIELD_LIMITS:
            validator = _recompiled(wire, field_limits)
    try:
        message: object = validator.validate_python(tree)
    except PydanticValidationError as exc:
        raise translate(exc, tree) from None
    return message


@functools.lru_cache(maxsize=16)
def _recompiled(wire: _Wire, field_limits: tuple[int, ...]) -> SchemaValidator:
    bounds = dict(zip(_FIELD_LIMIT_ORDER, field_limits, strict=True))
    # The rewritten tree has exactly the shape of ``wire.schema``; only bounds differ.
    schema = cast("CoreSchema", _with_bounds(wire.schema, bounds))
    return SchemaValidator(schema, _CORE_CONFIG)


def _with_bounds(node: object, bounds: dict[str, int]) -> object:
    """A copy of a core schema with every limit-tagged length check set from ``bounds``."""
    if isinstance(node, list):
        return [_with_bounds(item, bounds) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _with_bounds(value, bounds) for key, value in node.items()}
    metadata = copy.get("metadata")
    limit = metadata.get(LIMIT_METADATA_KEY) if isinstance(metadata, dict) else None
    inner = copy.get("schema")
    if isinstance(limit, str) and isinstance(inner, dict):
        copy["schema"] = {**inner, "max_length": bounds[limit]}
        copy["custom_error_context"] = {"maximum": bounds[limit]}
    return copy


# ---------------------------------------------------------------- msgpack


def decode(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Decode and validate one msgpack frame of the client↔server wire (either direction)."""
    # cast: the validator just proved the value is a Message.
    return cast("Message", _validate(_MESSAGE, unpack_frame(data, limits), limits))


def decode_client(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> ClientMessage:
    """Decode and validate one msgpack frame a client sent (what the server calls)."""
    # cast: the validator just proved the value is a ClientMessage.
    return cast("ClientMessage", _validate(_CLIENT, unpack_frame(data, limits), limits))


def decode_server(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> ServerMessage:
    """Decode and validate one msgpack frame a server sent (what the client calls)."""
    # cast: the validator just proved the value is a ServerMessage.
    return cast("ServerMessage", _validate(_SERVER, unpack_frame(data, limits), limits))


def decode_cluster(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> ClusterMessage:
    """Decode and validate one msgpack frame from another cluster node."""
    # cast: the validator just proved the value is a ClusterMessage.
    return cast("ClusterMessage", _validate(_CLUSTER, unpack_frame(data, limits), limits))


def encode(message: Message | ClusterMessage) -> bytes:
    """Encode a message as one msgpack frame (``bytes`` values as msgpack bin)."""
    try:
        frame: bytes = msgpack.packb(message, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"unencodable message: {exc}") from None
    return frame


# ---------------------------------------------------------------- JSON text fallback
#
# JSON has no bytes. The one bytes-typed field of the client wire, ``BATCH.data``,
# travels as base64 text; bytes anywhere else cannot be sent in a JSON frame.

_JSON_BYTES_FIELDS: Final = {"BATCH": "data"}
"""Message type → its ``bytes`` field, carried as base64 text in JSON frames."""


def decode_json(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Decode and validate one JSON text frame of the client↔server wire."""
    # cast: the validator just proved the value is a Message.
    return cast("Message", _validate(_MESSAGE, _json_tree(text, limits, _MESSAGE), limits))


def decode_client_json(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> ClientMessage:
    """Decode and validate one JSON text frame a client sent."""
    # cast: the validator just proved the value is a ClientMessage.
    return cast("ClientMessage", _validate(_CLIENT, _json_tree(text, limits, _CLIENT), limits))


def decode_server_json(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> ServerMessage:
    """Decode and validate one JSON text frame a server sent."""
    # cast: the validator just proved the value is a ServerMessage.
    return cast("ServerMessage", _validate(_SERVER, _json_tree(text, limits, _SERVER), limits))


def _json_tree(text: str | bytes, limits: Limits, wire: _Wire) -> object:
    tree = parse_json_frame(text, limits)
    check_envelope(tree, wire.types, wire.direction)
    assert isinstance(tree, dict)
    field = _JSON_BYTES_FIELDS.get(tree["type"])
    if field is not None and isinstance(tree.get(field), str):
        try:
            tree[field] = base64.b64decode(tree[field], validate=True)
        except binascii.Error:
            raise ValidationError(field, "must be base64 text in a JSON frame") from None
    return tree


def encode_json(message: Message) -> str:
    """Encode a message as one JSON text frame (the debugging fallback)."""
    fields: Mapping[str, object] = message
    payload: object = message
    field = _JSON_BYTES_FIELDS.get(message["type"])
    if field is not None:
        raw = fields.get(field)
        if isinstance(raw, bytes):
            payload = {**fields, field: base64.b64encode(raw).decode("ascii")}
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"message cannot be sent as JSON: {exc}") from None
