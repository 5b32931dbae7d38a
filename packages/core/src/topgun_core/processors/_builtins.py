"""The built-in entry processors (SEMANTICS.md §11), as pure functions.

Every built-in is ``(value, key, args) -> ProcessorOutcome`` where ``value`` is the
key's current value (``None`` when absent) and ``args`` were already checked by
:func:`~topgun_core.processors._args.bind_args`. None mutates its input: results are
fresh containers (which may share untouched sub-trees with the input).

Rules shared by families (the registry in ``_registry`` lists each one's arguments):

- **Numbers** (``increment``, ``decrement``, ``decrement_floor``, ``multiply``):
  an absent key counts as 0; a present non-number is an error. Results must stay
  finite and, for integers, within JavaScript's safe range ±(2**53 - 1) so every
  peer reads the same number. ``result`` is the new number, except
  ``decrement_floor``: ``{"value": new, "floored": bool}``.
- **Conditionals** (``put_if_absent``, ``replace``, ``replace_if_equals``,
  ``delete_if_equals``, ``conditional_update``): ``result`` is ``True`` when the
  write happened, ``False`` otherwise. Equality is
  :func:`~topgun_core.or_map.json_equal` (``1 == 1.0``, ``True != 1``).
- **Arrays** (``array_push``, ``array_pop``, ``array_remove``): an absent key
  counts as ``[]``; a present non-array is an error. Results: the new length, the
  popped item (``None`` when empty), the number of items removed.
- **Objects** (``set_property``, ``delete_property``, ``merge``, ``get``): an absent
  key counts as ``{}``; paths walk objects only (never array indexes).
"""

from __future__ import annotations

import math

from topgun_core.errors import ValidationError
from topgun_core.or_map import json_equal
from topgun_core.processors._args import BoundArgs, bool_arg, number_arg, object_arg, path_arg
from topgun_core.processors._json import deep_merge_values, type_name
from topgun_core.processors._outcome import ProcessorOutcome
from topgun_core.query import evaluate, predicate_from_wire
from topgun_core.values import JsonValue

__all__ = [
    "SAFE_INTEGER_MAX",
    "array_pop",
    "array_push",
    "array_remove",
    "conditional_update",
    "decrement",
    "decrement_floor",
    "delete_if_equals",
    "delete_property",
    "get",
    "increment",
    "merge",
    "multiply",
    "put_if_absent",
    "replace",
    "replace_if_equals",
    "set_property",
]

SAFE_INTEGER_MAX = 2**53 - 1
"""Largest integer magnitude a numeric built-in produces (``Number.MAX_SAFE_INTEGER``)."""

Outcome = ProcessorOutcome

# ---------------------------------------------------------------- numbers


def _number(processor: str, value: JsonValue) -> int | float:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("value", f"{processor} needs a number value, got {type_name(value)}")
    return value


def _number_result(processor: str, number: int | float) -> int | float:
    if isinstance(number, float) and not math.isfinite(number):
        raise ValidationError("value", f"{processor}: the result is not a finite number")
    if isinstance(number, int) and abs(number) > SAFE_INTEGER_MAX:
        raise ValidationError(
            "value", f"{processor}: the result {number} is outside the safe range ±(2**53 - 1)"
        )
    return number


def increment(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Add ``delta`` (default 1) to the number, starting from 0; result: the new number."""
    new = _number_result(
        "builtin:increment", _number("builtin:increment", value) + number_arg(args, "delta")
    )
    return Outcome.transition(value, new, new)


def decrement(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Subtract ``delta`` (default 1), starting from 0; result: the new number."""
    new = _number_result(
        "builtin:decrement", _number("builtin:decrement", value) - number_arg(args, "delta")
    )
    return Outcome.transition(value, new, new)


def decrement_floor(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Subtract ``delta`` (>= 0) but never go below ``floor`` (default 0).

    When ``value - delta < floor`` the value becomes ``floor`` — or stays as it is
    if it is already below ``floor`` (a decrement never raises a value). Result:
    ``{"value": new, "floored": whether the full delta could not be taken}``.
    """
    current = _number("builtin:decrement_floor", value)
    floor = number_arg(args, "floor")
    wanted = current - number_arg(args, "delta")
    new = _number_result(
        "builtin:decrement_floor", wanted if wanted >= floor else min(current, floor)
    )
    return Outcome.transition(value, new, {"value": new, "floored": new != wanted})


def multiply(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Multiply the number by ``factor``, starting from 0; result: the new number."""
    new = _number_result(
        "builtin:multiply", _number("builtin:multiply", value) * number_arg(args, "factor")
    )
    return Outcome.transition(value, new, new)


# ---------------------------------------------------------------- conditionals


def put_if_absent(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Store ``value`` only if the key is absent; result: whether it was stored."""
    if value is not None:
        return Outcome.unchanged(value, result=False)
    return Outcome.transition(value, args["value"], result=True)


def replace(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Store ``value`` only if the key is present; result: whether it was stored."""
    if value is None:
        return Outcome.unchanged(value, result=False)
    return Outcome.transition(value, args["value"], result=True)


def replace_if_equals(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Store ``value`` only if the current value equals ``expected``; result: whether it did."""
    if not json_equal(value, args["expected"]):
        return Outcome.unchanged(value, result=False)
    return Outcome.transition(value, args["value"], result=True)


def delete_if_equals(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Delete the key only if its value equals ``expected``; result: whether it did."""
    if not json_equal(value, args["expected"]):
        return Outcome.unchanged(value, result=False)
    return Outcome.transition(value, None, result=True)


def conditional_update(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """If ``condition`` (a SEMANTICS.md §8 predicate on the value) holds, update the key.

    Exactly one of ``value`` (replaces the whole value; ``null`` deletes) or
    ``updates`` (an object merged shallowly into the current object value) must be
    given. Result: whether the condition held and the update was made.
    """
    if ("value" in args) == ("updates" in args):
        raise ValidationError(
            "args", "builtin:conditional_update takes exactly one of 'value', 'updates'"
        )
    condition = predicate_from_wire(object_arg(args, "condition"), "args.condition")
    if not evaluate(condition, value):
        return Outcome.unchanged(value, result=False)
    if "value" in args:
        return Outcome.transition(value, args["value"], result=True)
    current = _object("builtin:conditional_update", value)
    return Outcome.transition(value, {**current, **object_arg(args, "updates")}, result=True)


# ---------------------------------------------------------------- arrays


def _array(processor: str, value: JsonValue) -> list[JsonValue]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError("value", f"{processor} needs an array value, got {type_name(value)}")
    return value


def array_push(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Append ``item`` (absent key: a new array); result: the new length."""
    new = [*_array("builtin:array_push", value), args["item"]]
    return Outcome.transition(value, new, len(new))


def array_pop(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Remove the last item; result: that item (``None`` when empty or absent)."""
    current = _array("builtin:array_pop", value)
    if not current:
        return Outcome.unchanged(value, None)
    return Outcome.transition(value, current[:-1], current[-1])


def array_remove(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Remove every item equal to ``item``; result: how many were removed."""
    current = _array("builtin:array_remove", value)
    kept = [x for x in current if not json_equal(x, args["item"])]
    removed = len(current) - len(kept)
    if removed == 0:
        return Outcome.unchanged(value, 0)
    return Outcome.transition(value, kept, removed)


# ---------------------------------------------------------------- objects


def _object(processor: str, value: JsonValue) -> dict[str, JsonValue]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError("value", f"{processor} needs an object value, got {type_name(value)}")
    return value


def _with_property(
    obj: dict[str, JsonValue], path: tuple[str, ...], new: JsonValue, walked: str = ""
) -> tuple[dict[str, JsonValue], JsonValue]:
    head, rest = path[0], path[1:]
    here = f"{walked}.{head}" if walked else head
    copy = dict(obj)
    if not rest:
        copy[head] = new
        return copy, obj.get(head)
    child = obj.get(head)
    if child is None:
        child = {}
    elif not isinstance(child, dict):
        raise ValidationError("args.path", f"{here!r} is a {type_name(child)}, not an object")
    copy[head], previous = _with_property(child, rest, new, here)
    return copy, previous


def _without_property(
    obj: dict[str, JsonValue], path: tuple[str, ...]
) -> tuple[dict[str, JsonValue], JsonValue] | None:
    head, rest = path[0], path[1:]
    if head not in obj:
        return None
    if not rest:
        copy = dict(obj)
        return copy, copy.pop(head)
    child = obj[head]
    if not isinstance(child, dict):
        return None
    inner = _without_property(child, rest)
    if inner is None:
        return None
    return {**obj, head: inner[0]}, inner[1]


def set_property(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Set the property at ``path`` to ``value``, creating missing objects on the way.

    A non-object in the way is an error. Result: the property's previous value
    (``None`` when it had none).
    """
    current = _object("builtin:set_property", value)
    new, previous = _with_property(current, path_arg(args, "path"), args["value"])
    return Outcome.transition(value, new, previous)


def delete_property(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Remove the property at ``path``; nothing there is no change. Result: the removed value."""
    current = _object("builtin:delete_property", value)
    removed = _without_property(current, path_arg(args, "path"))
    if removed is None:
        return Outcome.unchanged(value, None)
    return Outcome.transition(value, removed[0], removed[1])


def merge(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Merge the object ``value`` into the current object; ``deep`` merges recursively.

    Shallow (default): top-level keys of the patch replace the current ones, like
    ``{...current, ...patch}``. Deep: see
    :func:`~topgun_core.processors.deep_merge_values`. A ``null`` in the patch is
    stored as ``null``. Result: ``None`` (the new value is the outcome's value).
    """
    current = _object("builtin:merge", value)
    patch = object_arg(args, "value")
    new = deep_merge_values(current, patch) if bool_arg(args, "deep") else {**current, **patch}
    return Outcome.transition(value, new, None)


def get(value: JsonValue, key: str, args: BoundArgs) -> Outcome:
    """Change nothing; result: the value, or the property at ``path`` (``None`` if missing)."""
    if "path" not in args:
        return Outcome.unchanged(value, value)
    found: JsonValue = value
    for segment in path_arg(args, "path"):
        if not isinstance(found, dict):
            return Outcome.unchanged(value, None)
        found = found.get(segment)
    return Outcome.unchanged(value, found)
