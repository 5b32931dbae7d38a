"""From frame bytes to a checked tree of plain values (the step before the schema).

:func:`unpack_frame` (msgpack) and :func:`parse_json_frame` (JSON text fallback)
refuse a frame over ``frame_bytes_max`` before decoding it, convert every decoder
failure into ``ProtocolError("undecodable frame: ...")``, and then run
:func:`check_tree` — one iterative, level-by-level pass over the decoded tree that
enforces ``depth_max`` and ``collection_items_max`` and proves every node is a
``JsonValue`` (string map keys; no msgpack extension types). After it, the schema
may treat free-form values as opaque, and no recursion anywhere can blow the stack.

:func:`check_envelope` then checks the top level — a map with a known string
``type`` — so those failures name the ``type`` field precisely.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Final

import msgpack  # type: ignore[import-untyped]  # ships no type information

from topgun_core.errors import LimitExceeded, ProtocolError, ValidationError
from topgun_core.protocol._limits import Limits

__all__ = [
    "check_envelope",
    "check_tree",
    "describe",
    "parse_json_frame",
    "shorten",
    "unpack_frame",
]

_SCALARS: Final = frozenset({str, int, float, bool, bytes, type(None)})
_MSGPACK_LENGTH_ERROR: Final = re.compile(r"^(\d+) exceeds max_(array|map)_len\((\d+)\)$")


def describe(value: object) -> str:
    """A short, safe description of an offending input for an error message."""
    kind = type(value).__name__
    if isinstance(value, bool | int | float) or value is None:
        return f"{kind} {value!r}"
    if isinstance(value, str):
        return f"str {shorten(value)!r}"
    return kind


def shorten(text: str) -> str:
    """``text`` cut to 40 characters, so an error never echoes a huge input."""
    return text if len(text) <= 40 else text[:37] + "..."


def _check_frame_size(size: int, limits: Limits) -> None:
    if size > limits.frame_bytes_max:
        raise LimitExceeded("frame_bytes_max", size, limits.frame_bytes_max)


def unpack_frame(data: bytes, limits: Limits) -> object:
    """Decode one msgpack frame into plain values and check the tree."""
    _check_frame_size(len(data), limits)
    if not data:
        raise ProtocolError("undecodable frame: empty frame")
    try:
        tree: object = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_array_len=limits.collection_items_max,
            max_map_len=limits.collection_items_max,
        )
    except msgpack.ExtraData:
        raise ProtocolError("undecodable frame: trailing bytes after the message") from None
    except msgpack.StackError:
        raise ProtocolError("undecodable frame: nested deeper than the decoder allows") from None
    except msgpack.FormatError:
        raise ProtocolError("undecodable frame: not msgpack (reserved byte)") from None
    except UnicodeDecodeError:
        raise ProtocolError("undecodable frame: a string is not valid UTF-8") from None
    except ValueError as exc:
        raise _unpack_error(exc, limits) from None
    check_tree(tree, limits)
    return tree


def _unpack_error(exc: ValueError, limits: Limits) -> ProtocolError:
    text = str(exc)
    length = _MSGPACK_LENGTH_ERROR.match(text)
    if length is not None:
        return LimitExceeded("collection_items_max", int(length[1]), limits.collection_items_max)
    if "incomplete input" in text:
        return ProtocolError("undecodable frame: truncated msgpack")
    return ProtocolError(f"undecodable frame: {text}")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_frame(text: str | bytes, limits: Limits) -> object:
    """Decode one JSON text frame into plain values and check the tree."""
    if len(text) > limits.frame_bytes_max:  # cheap pre-check: a char is >= 1 byte
        _check_frame_size(len(text), limits)
    if isinstance(text, str):
        _check_frame_size(len(text.encode("utf-8", "surrogatepass")), limits)
    if not text:
        raise ProtocolError("undecodable frame: empty frame")
    try:
        tree: object = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ProtocolError("undecodable frame: nested deeper than the decoder allows") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ProtocolError(f"undecodable frame: not JSON ({exc})") from None
    check_tree(tree, limits)
    return tree


def check_tree(tree: object, limits: Limits) -> None:
    """Enforce ``depth_max`` and ``collection_items_max``; prove the tree a ``JsonValue``.

    Breadth-first, one level at a time, so its cost is one visit per node and its
    stack use is constant. The top-level map is depth 1. Only maps and arrays are
    ever queued, and the loop is written out in full: it runs for every node of
    every inbound frame, and a helper call per container costs ~15 %.
    """
    depth_max = limits.depth_max
    items_max = limits.collection_items_max
    if type(tree) is not dict and type(tree) is not list:
        return
    level: list[object] = [tree]
    depth = 0
    while level:
        depth += 1
        if depth > depth_max:
            raise LimitExceeded("depth_max", depth, depth_max)
        below: list[object] = []
        push = below.append
        for node in level:
            children: Iterable[object]
            if type(node) is dict:
                for key in node:
                    if type(key) is not str:
                        raise ValidationError("", f"map keys must be strings, got {describe(key)}")
                children = node.values()
            else:
                assert type(node) is list
                children = node
            if len(node) > items_max:
                raise LimitExceeded("collection_items_max", len(node), items_max)
            for child in children:
                kind = type(child)
                if kind is dict or kind is list:
                    push(child)
                elif kind not in _SCALARS:
                    raise ValidationError("", f"unsupported value type {kind.__name__}")
        level = below


def check_envelope(tree: object, types: frozenset[str], direction: str) -> None:
    """Require a map whose ``type`` is a string naming a message of ``direction``."""
    if type(tree) is not dict:
        raise ValidationError("type", f"a message must be a map, got {describe(tree)}")
    if "type" not in tree:
        raise ValidationError("type", "missing: every message needs a string 'type'")
    name = tree["type"]
    if type(name) is not str:
        raise ValidationError("type", f"must be a string, got {describe(name)}")
    if name not in types:
        raise ValidationError("type", f"unknown {direction} message type {shorten(name)!r}")
