"""Argument schemas of the built-in entry processors.

Each built-in declares its arguments as :class:`ArgSpec` records (name, kind,
required or default). :func:`bind_args` checks a request's ``args`` against them
before the processor runs and returns them with defaults filled in:

- ``args`` must be an object (``None`` counts as ``{}``);
- an argument the processor does not take is an error (a typo such as ``"delat"``
  must not silently fall back to the default);
- a missing required argument, or one of the wrong kind, is an error naming it
  (``args.delta: must be a number, got string``).

Kinds: ``number`` (int or finite float, never a boolean), ``non_negative``
(a number >= 0), ``any`` (any JSON value, null included), ``present`` (any JSON
value but null), ``object``, ``boolean``, ``path`` (a dotted string ``"a.b"`` or a
list of strings ``["a", "b"]``, for keys that contain dots; bound as a list) and
``predicate`` (an object, parsed by the processor as a SEMANTICS.md §8 predicate).

The small ``*_arg`` accessors give processors typed values out of bound args.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal, TypeAlias, TypeGuard

from topgun_core.errors import ValidationError
from topgun_core.processors._json import type_name
from topgun_core.values import JsonValue

__all__ = [
    "NO_DEFAULT",
    "PATH_SEGMENTS_MAX",
    "ArgKind",
    "ArgSpec",
    "BoundArgs",
    "bind_args",
    "bool_arg",
    "number_arg",
    "object_arg",
    "path_arg",
]

PATH_SEGMENTS_MAX: Final = 32
"""Segments in a property path (``set_property``, ``delete_property``, ``get``)."""

ArgKind: TypeAlias = Literal[
    "number", "non_negative", "any", "present", "object", "boolean", "path", "predicate"
]
BoundArgs: TypeAlias = Mapping[str, JsonValue]
"""Arguments after :func:`bind_args`: checked, defaults filled, paths as lists."""


class _NoDefault(Enum):
    NO_DEFAULT = "NO_DEFAULT"


NO_DEFAULT: Final = _NoDefault.NO_DEFAULT
"""Marks an optional argument that is simply absent when not given."""


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One argument of a built-in: ``name``, ``kind``, and either required or a default."""

    name: str
    kind: ArgKind
    required: bool = False
    default: JsonValue | _NoDefault = NO_DEFAULT
    doc: str = ""


def bind_args(processor: str, specs: tuple[ArgSpec, ...], args: JsonValue) -> BoundArgs:
    """Check ``args`` against ``specs`` (module docstring); return them with defaults."""
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ValidationError(
            "args", f"{processor} takes an object of arguments, got {type_name(args)}"
        )
    known = {spec.name for spec in specs}
    unknown = sorted(set(args) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "no arguments"
        raise ValidationError(f"args.{unknown[0]}", f"unknown argument; {processor} takes {takes}")
    bound: dict[str, JsonValue] = {}
    for spec in specs:
        if spec.name in args:
            bound[spec.name] = _checked(spec, args[spec.name])
        elif spec.required:
            raise ValidationError(f"args.{spec.name}", f"{processor} requires this argument")
        elif not isinstance(spec.default, _NoDefault):
            bound[spec.name] = spec.default
    return bound


def _checked(spec: ArgSpec, value: JsonValue) -> JsonValue:
    field = f"args.{spec.name}"
    match spec.kind:
        case "number" | "non_negative":
            if not _is_number(value):
                raise ValidationError(field, f"must be a finite number, got {type_name(value)}")
            if spec.kind == "non_negative" and value < 0:
                raise ValidationError(field, f"must be >= 0, got {value!r}")
            return value
        case "any":
            return value
        case "present":
            if value is None:
                raise ValidationError(field, "must not be null")
            return value
        case "object" | "predicate":
            if not isinstance(value, dict):
                raise ValidationError(field, f"must be an object, got {type_name(value)}")
            return value
        case "boolean":
            if not isinstance(value, bool):
                raise ValidationError(field, f"must be a boolean, got {type_name(value)}")
            return value
        case "path":
            return list(_path(field, value))


def _is_number(value: JsonValue) -> TypeGuard[int | float]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _path(field: str, value: JsonValue) -> tuple[str, ...]:
    if isinstance(value, str):
        segments: list[JsonValue] = list(value.split("."))
    elif isinstance(value, list):
        segments = value
    else:
        raise ValidationError(
            field, f"must be a dotted string or a list of strings, got {type_name(value)}"
        )
    if not segments or len(segments) > PATH_SEGMENTS_MAX:
        raise ValidationError(field, f"must have 1 to {PATH_SEGMENTS_MAX} segments")
    names = tuple(s for s in segments if isinstance(s, str) and s)
    if len(names) != len(segments):
        raise ValidationError(field, "every segment must be a non-empty string")
    return names


def number_arg(args: BoundArgs, name: str) -> int | float:
    """The bound number argument ``name``."""
    value = args[name]
    assert isinstance(value, int | float), name
    assert not isinstance(value, bool), name
    return value


def bool_arg(args: BoundArgs, name: str) -> bool:
    """The bound boolean argument ``name``."""
    value = args[name]
    assert isinstance(value, bool), name
    return value


def object_arg(args: BoundArgs, name: str) -> dict[str, JsonValue]:
    """The bound object argument ``name``."""
    value = args[name]
    assert isinstance(value, dict), name
    return value


def path_arg(args: BoundArgs, name: str) -> tuple[str, ...]:
    """The bound path argument ``name`` as a tuple of segments."""
    value = args[name]
    assert isinstance(value, list), name
    return tuple(str(s) for s in value)
