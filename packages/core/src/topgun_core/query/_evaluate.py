"""Evaluating a predicate against one record value (SEMANTICS.md §8).

Each :class:`Predicate` is compiled once, on first use, into a tree of small
closures (cached on the node), so scanning a million records walks no op table.
Evaluation never raises: every type mismatch is simply *false*.

The rules, operator by operator (``x`` is the value at the attribute path, ``v``
the predicate's operand; path rules are in ``_values``):

- **null and missing.** A comparison with a null or missing ``x``, or a null ``v``,
  is false — for ``neq`` too: ``neq`` holds only when ``x`` and ``v`` are both
  present, non-null and not equal. NaN (anywhere inside) behaves like null.
- **eq / neq / in** use strict structural equality: ``1 == 1.0``, ``True != 1``,
  ``1 != "1"``, lists and dicts compare element by element.
- **gt / gte / lt / lte / between** hold only between two numbers or two strings
  (code-point order); ``between`` is inclusive at both ends.
- **like** and **regex**: see ``_regex`` (like: whole value, case-insensitive,
  backslash escapes; regex: search, case-sensitive, time-limited). Non-strings are
  false.
- **contains** on a string ``x``: ``v`` is a string that occurs in ``x`` ignoring
  case (the empty string occurs in every string). On a list ``x``: some element
  equals ``v``, where strings directly in the list compare ignoring case and
  everything else by strict equality. Anything else is false.
  **containsAll** / **containsAny**: every / some ``v`` item is contained in that
  sense; an empty list gives true / false when ``x`` is a string or a list.
- **match / matchPhrase / matchPrefix** delegate to ``topgun_core.search`` on a
  string ``x``; anything else is false.
- **and / or / not**: empty ``and`` is true, empty ``or`` false; short-circuiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from topgun_core.protocol import PredicateNode
from topgun_core.query._predicates import Predicate
from topgun_core.query._regex import compile_like, compile_regex, regex_search
from topgun_core.query._values import (
    Getter,
    Resolved,
    compile_path,
    element_key,
    index_key,
    is_nan,
    is_number,
    json_equal,
)
from topgun_core.query._wire import predicate_from_wire
from topgun_core.values import JsonValue

__all__ = ["Matcher", "evaluate", "matcher"]

Matcher = Callable[[JsonValue], bool]


def evaluate(predicate: Predicate | PredicateNode | Mapping[str, object], value: JsonValue) -> bool:
    """Whether ``value`` satisfies ``predicate`` (a :class:`Predicate` or a wire dict).

    A wire dict is validated first (a bad one raises ``ValidationError``); to
    evaluate one many times, build it once with ``predicate_from_wire``.
    """
    if not isinstance(predicate, Predicate):
        predicate = predicate_from_wire(predicate)
    return matcher(predicate)(value)


def matcher(predicate: Predicate) -> Matcher:
    """The compiled test of ``predicate`` (compiled on first call, then cached)."""
    compiled = predicate._matcher
    if compiled is None:
        compiled = predicate._matcher = _compile(predicate)
    return compiled


def _never(value: JsonValue) -> bool:
    return False


def _always(value: JsonValue) -> bool:
    return True


def _compile(p: Predicate) -> Matcher:
    if p.op in ("and", "or", "not"):
        return _combinator(p)
    assert p.attribute is not None
    get = compile_path(p.attribute)
    factory = _LEAVES[p.op]
    return factory(get, p.value)


def _combinator(p: Predicate) -> Matcher:
    parts = tuple(matcher(c) for c in p.children)
    if p.op == "not":
        (inner,) = parts

        def negated(value: JsonValue) -> bool:
            return not inner(value)

        return negated
    if not parts:
        return _always if p.op == "and" else _never
    if len(parts) == 1:
        return parts[0]
    if p.op == "and":

        def every(value: JsonValue) -> bool:
            return all(part(value) for part in parts)

        return every

    def some(value: JsonValue) -> bool:
        return any(part(value) for part in parts)

    return some


def _eq(get: Getter, target: JsonValue) -> Matcher:
    if isinstance(target, str):
        return lambda value: get(value) == target
    if isinstance(target, bool):
        return lambda value: get(value) is target
    if is_number(target) and not is_nan(target):
        return lambda value: is_number(x := get(value)) and x == target
    key = index_key(target)
    if key is None:
        return _never
    return lambda value: (x := get(value)) is not None and json_equal(x, target)


def _neq(get: Getter, target: JsonValue) -> Matcher:
    key = index_key(target)
    if key is None:
        return _never

    def differs(value: JsonValue) -> bool:
        x_key = index_key(get(value))
        return x_key is not None and x_key != key

    return differs


def _in(get: Getter, target: JsonValue) -> Matcher:
    assert isinstance(target, list)
    keys = {k for k in map(index_key, target) if k is not None}
    return lambda value: index_key(get(value)) in keys


def _ordered(op: str) -> Callable[[Getter, JsonValue], Matcher]:
    def factory(get: Getter, target: JsonValue) -> Matcher:
        if isinstance(target, str):
            return _ordered_str(op, get, target)
        assert is_number(target)
        t = target
        if op == "gt":
            return lambda value: is_number(x := get(value)) and x > t
        if op == "gte":
            return lambda value: is_number(x := get(value)) and x >= t
        if op == "lt":
            return lambda value: is_number(x := get(value)) and x < t
        return lambda value: is_number(x := get(value)) and x <= t

    return factory


def _ordered_str(op: str, get: Getter, t: str) -> Matcher:
    if op == "gt":
        return lambda value: isinstance(x := get(value), str) and x > t
    if op == "gte":
        return lambda value: isinstance(x := get(value), str) and x >= t
    if op == "lt":
        return lambda value: isinstance(x := get(value), str) and x < t
    return lambda value: isinstance(x := get(value), str) and x <= t


def _between(get: Getter, target: JsonValue) -> Matcher:
    assert isinstance(target, list)
    low, high = target
    if isinstance(low, str) and isinstance(high, str):
        return lambda value: isinstance(x := get(value), str) and low <= x <= high
    assert is_number(low)
    assert is_number(high)
    return lambda value: is_number(x := get(value)) and low <= x <= high


def _like(get: Getter, target: JsonValue) -> Matcher:
    assert isinstance(target, str)
    pattern = compile_like(target, "predicate.value")
    return lambda value: isinstance(x := get(value), str) and pattern.matches(x)


def _regex(get: Getter, target: JsonValue) -> Matcher:
    assert isinstance(target, str)
    compiled = compile_regex(target, "predicate.value")
    return lambda value: isinstance(x := get(value), str) and regex_search(compiled, x)


def contained(x: Resolved, needle: JsonValue) -> bool:
    """The ``contains`` test of one needle against the value ``x`` (module docstring)."""
    if isinstance(x, str):
        return isinstance(needle, str) and needle.lower() in x.lower()
    if isinstance(x, list):
        key = element_key(needle)
        return key is not None and any(element_key(e) == key for e in x)
    return False


def _contains(get: Getter, target: JsonValue) -> Matcher:
    return lambda value: contained(get(value), target)


def _contains_all(get: Getter, target: JsonValue) -> Matcher:
    assert isinstance(target, list)

    def holds(value: JsonValue) -> bool:
        x = get(value)
        return isinstance(x, str | list) and all(contained(x, n) for n in target)

    return holds


def _contains_any(get: Getter, target: JsonValue) -> Matcher:
    assert isinstance(target, list)

    def holds(value: JsonValue) -> bool:
        x = get(value)
        return any(contained(x, n) for n in target)

    return holds


def _text(op: str) -> Callable[[Getter, JsonValue], Matcher]:
    def factory(get: Getter, target: JsonValue) -> Matcher:
        from topgun_core import search  # the full-text package builds on this one

        assert isinstance(target, str)
        test = {
            "match": search.matches,
            "matchPhrase": search.matches_phrase,
            "matchPrefix": search.matches_prefix,
        }[op]
        return lambda value: isinstance(x := get(value), str) and test(x, target)

    return factory


_LEAVES: Final[dict[str, Callable[[Getter, JsonValue], Matcher]]] = {
    "eq": _eq,
    "neq": _neq,
    "in": _in,
    "gt": _ordered("gt"),
    "gte": _ordered("gte"),
    "lt": _ordered("lt"),
    "lte": _ordered("lte"),
    "between": _between,
    "like": _like,
    "regex": _regex,
    "contains": _contains,
    "containsAll": _contains_all,
    "containsAny": _contains_any,
    "match": _text("match"),
    "matchPhrase": _text("matchPhrase"),
    "matchPrefix": _text("matchPrefix"),
}
