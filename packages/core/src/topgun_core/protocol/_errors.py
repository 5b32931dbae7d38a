"""Turn a pydantic validation failure into a TopGun error naming the wire field.

Only the first error is reported (the message is rejected either way). Its ``loc``
is rewritten into the dotted *wire* path by walking it alongside the input: a
segment that is not a key of the current map but equals that map's discriminator
value (``type``, ``opType``, ``eventType``, ``kind``) is pydantic's union-branch
label, not a field, and is dropped — so ``('OP_BATCH', 'payload', 'ops', 3, 'PUT',
'record')`` becomes ``payload.ops.3.record``. Errors of the length checks tagged
with a limit's name become :class:`FieldLimitExceeded`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pydantic_core import ErrorDetails
from pydantic_core import ValidationError as PydanticValidationError

from topgun_core.errors import ProtocolError, ValidationError
from topgun_core.protocol._frame import describe
from topgun_core.protocol._limits import FIELD_LIMIT_NAMES, FieldLimitExceeded

__all__ = ["translate"]

_DISCRIMINATORS: Final = ("type", "opType", "eventType", "kind")
_MAP_KEY_SEGMENT: Final = "[key]"
_SHOW_INPUT: Final = frozenset({"literal_error", "node_id", "merkle_path", "none_required"})


def translate(error: PydanticValidationError, tree: object) -> ProtocolError:
    """The TopGun error for the first problem pydantic found in ``tree``."""
    first = error.errors(include_url=False)[0]
    path, is_map_key = _wire_path(first["loc"], tree)
    kind = first["type"]
    if kind in FIELD_LIMIT_NAMES:
        maximum = int(first.get("ctx", {}).get("maximum", 0))
        offending = first["input"]
        actual = len(offending) if isinstance(offending, str | list) else maximum + 1
        return FieldLimitExceeded(path, kind, actual, maximum)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_error(first, path)
    problem = _problem(first)
    return ValidationError(path, f"map key: {problem}" if is_map_key else problem)


def _wire_path(loc: Sequence[int | str], tree: object) -> tuple[str, bool]:
    parts: list[str] = []
    node: object = tree
    is_map_key = False
    for segment in loc:
        if segment == _MAP_KEY_SEGMENT:
            is_map_key = True
            continue
        if isinstance(node, dict) and isinstance(segment, str):
            if segment not in node and any(node.get(d) == segment for d in _DISCRIMINATORS):
                continue  # a union-branch label, not a wire field
            node = node.get(segment)
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            node = None
        parts.append(str(segment))
    return ".".join(parts), is_map_key


def _tag_error(error: ErrorDetails, path: str) -> ValidationError:
    ctx = error.get("ctx", {})
    field = str(ctx.get("discriminator", "type")).strip("'")
    where = f"{path}.{field}" if path else field
    if error["type"] == "union_tag_not_found":
        return ValidationError(where, "missing (required field)")
    expected = str(ctx.get("expected_tags", ""))
    container = error["input"]
    offending = container.get(field) if isinstance(container, dict) else ctx.get("tag")
    return ValidationError(where, f"must be one of {expected}, got {describe(offending)}")


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    offending = error["input"]
    if kind == "missing":
        return "missing (required field)"
    if kind == "extra_forbidden":
        return "unknown field (not part of this message)"
    if kind == "int_type" and isinstance(offending, float):
        return f"must be an integer, got a non-integral number {offending!r}"
    message = error["msg"]
    if kind.endswith("_type") or kind in _SHOW_INPUT:
        return f"{message}, got {describe(offending)}"
    return message
