"""The predicate tree and the ``P`` builder.

A :class:`Predicate` is one immutable node ``{op, attribute?, value?, children?}``
(PROTOCOL.md "Shared shapes"). Every node is validated when it is built — by the
builder, by :func:`~topgun_core.query.predicate_from_wire` or directly — so a
predicate that exists is well formed and within the named bounds; evaluation never
raises. Errors are :class:`~topgun_core.errors.ValidationError` naming the path of
the offending field (``predicate.children.1.value``).

Builders compose with operators::

    P.eq("age", 3) & P.gt("score", 1) | ~P.like("email", "%@example.com")

``&`` and ``|`` flatten (``a & b & c`` is one ``and`` with three children); ``~``
wraps in ``not``. :meth:`Predicate.to_wire` gives the wire dict.

Per-op value rules (what each op accepts; the matching rules are in ``_evaluate``):

========================  =========================================================
eq, neq, contains         any JSON value (null is accepted and never matches)
gt, gte, lt, lte          a number or a string (NaN is refused)
between                   ``[lo, hi]``: two numbers or two strings
in, containsAll/Any       a list of at most ``PREDICATE_VALUES_MAX`` values
like, regex               a string pattern (``_regex`` has the syntax and limits)
match, matchPhrase/Prefix a string
and, or                   ``children`` (any number, also none); no attribute/value
not                       exactly one child
========================  =========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, get_args

from topgun_core.errors import ValidationError
from topgun_core.protocol import PredicateNode, PredicateOp
from topgun_core.query._limits import (
    PREDICATE_DEPTH_MAX,
    PREDICATE_NODES_MAX,
    PREDICATE_VALUES_MAX,
)
from topgun_core.query._regex import compile_like, compile_regex
from topgun_core.query._values import is_nan, is_number
from topgun_core.values import JsonValue

__all__ = ["COMBINATORS", "OPS", "RANGE_OPS", "P", "Predicate"]

OPS: Final[frozenset[str]] = frozenset(get_args(PredicateOp))
"""Every operator name the wire accepts (SEMANTICS.md §8)."""

COMBINATORS: Final = frozenset({"and", "or", "not"})
RANGE_OPS: Final = frozenset({"gt", "gte", "lt", "lte"})
_LIST_OPS: Final = frozenset({"in", "containsAll", "containsAny"})
_TEXT_OPS: Final = frozenset({"match", "matchPhrase", "matchPrefix"})
_BUILDER_NAMES: Final = {
    "in": "in_",
    "containsAll": "contains_all",
    "containsAny": "contains_any",
    "matchPhrase": "match_phrase",
    "matchPrefix": "match_prefix",
}


def _is_ordered(value: JsonValue) -> bool:
    return isinstance(value, str) or (is_number(value) and not is_nan(value))


def _check_range(op: str, value: JsonValue, where: str) -> None:
    if not _is_ordered(value):
        raise ValidationError(where, f"{op} needs a number or a string")


def _check_between(op: str, value: JsonValue, where: str) -> None:
    if not (isinstance(value, list) and len(value) == 2 and all(map(_is_ordered, value))):
        raise ValidationError(where, "between needs [lo, hi]: two numbers or two strings")
    if isinstance(value[0], str) != isinstance(value[1], str):
        raise ValidationError(where, "between bounds must both be numbers or both strings")


def _check_list(op: str, value: JsonValue, where: str) -> None:
    if not isinstance(value, list):
        raise ValidationError(where, f"{op} needs a list of values")
    if len(value) > PREDICATE_VALUES_MAX:
        raise ValidationError(where, f"{op} takes at most {PREDICATE_VALUES_MAX} values")


def _check_string(op: str, value: JsonValue, where: str) -> None:
    if not isinstance(value, str):
        raise ValidationError(where, f"{op} needs a string")
    if op == "like":
        compile_like(value, where)
    elif op == "regex":
        compile_regex(value, where)


def _check_any(op: str, value: JsonValue, where: str) -> None:
    """eq, neq and contains take any JSON value (null simply never matches)."""


_CHECKS: Final[dict[str, Callable[[str, JsonValue, str], None]]] = {
    **dict.fromkeys(RANGE_OPS, _check_range),
    "between": _check_between,
    **dict.fromkeys(_LIST_OPS, _check_list),
    **dict.fromkeys(("like", "regex", *_TEXT_OPS), _check_string),
    **dict.fromkeys(("eq", "neq", "contains"), _check_any),
}


def _check_value(op: str, value: JsonValue, path: str) -> None:
    """Raise unless ``value`` is acceptable for ``op`` (table in the module docstring)."""
    _CHECKS[op](op, value, f"{path}.value")


class Predicate:
    """One validated node of a predicate tree (immutable; compare with ``to_wire``).

    ``attribute`` is set on every leaf and None on ``and`` / ``or`` / ``not``;
    ``value`` is the leaf's operand (None on combinators); ``children`` are the
    combinator's operands. ``path`` only says where validation errors point.
    """

    __slots__ = ("_matcher", "attribute", "children", "depth", "op", "size", "value")

    op: PredicateOp
    attribute: str | None
    value: JsonValue
    children: tuple[Predicate, ...]
    depth: int
    size: int
    _matcher: Callable[[JsonValue], bool] | None

    def __init__(
        self,
        op: PredicateOp,
        attribute: str | None = None,
        value: JsonValue = None,
        children: Sequence[Predicate] = (),
        *,
        path: str = "predicate",
    ) -> None:
        if op not in OPS:
            raise ValidationError(f"{path}.op", f"unknown operator {op!r}")
        children = tuple(children)
        if op in COMBINATORS:
            if attribute is not None or value is not None:
                raise ValidationError(path, f"{op} takes children, not attribute or value")
            if op == "not" and len(children) != 1:
                raise ValidationError(f"{path}.children", "not takes exactly one child")
            if not all(isinstance(c, Predicate) for c in children):
                raise ValidationError(f"{path}.children", "children must be predicates")
        else:
            if not isinstance(attribute, str) or not attribute:
                raise ValidationError(f"{path}.attribute", f"{op} needs a non-empty attribute")
            if children:
                raise ValidationError(f"{path}.children", f"{op} takes no children")
            _check_value(op, value, path)
        self.op = op
        self.attribute = attribute
        self.value = value
        self.children = children
        self.depth = 1 + max((c.depth for c in children), default=0)
        self.size = 1 + sum(c.size for c in children)
        self._matcher = None
        if self.depth > PREDICATE_DEPTH_MAX:
            raise ValidationError(path, f"nested deeper than {PREDICATE_DEPTH_MAX} levels")
        if self.size > PREDICATE_NODES_MAX:
            raise ValidationError(path, f"more than {PREDICATE_NODES_MAX} nodes")

    def to_wire(self) -> PredicateNode:
        """The wire form ``{op, attribute?, value?, children?}`` (PROTOCOL.md)."""
        if self.op in COMBINATORS:
            return {"op": self.op, "children": [c.to_wire() for c in self.children]}
        assert self.attribute is not None
        return {"op": self.op, "attribute": self.attribute, "value": self.value}

    def attributes(self) -> frozenset[str]:
        """Every attribute path this predicate reads."""
        if self.attribute is not None:
            return frozenset((self.attribute,))
        return frozenset().union(*(c.attributes() for c in self.children))

    def __and__(self, other: Predicate) -> Predicate:
        return Predicate("and", children=(*_operands(self, "and"), *_operands(other, "and")))

    def __or__(self, other: Predicate) -> Predicate:
        return Predicate("or", children=(*_operands(self, "or"), *_operands(other, "or")))

    def __invert__(self) -> Predicate:
        return Predicate("not", children=(self,))

    def __repr__(self) -> str:
        if self.op in COMBINATORS:
            return f"P.{self.op}_({', '.join(map(repr, self.children))})"
        name = _BUILDER_NAMES.get(self.op, self.op)
        if self.op == "between" and isinstance(self.value, list):
            return f"P.between({self.attribute!r}, {self.value[0]!r}, {self.value[1]!r})"
        return f"P.{name}({self.attribute!r}, {self.value!r})"


def _operands(predicate: Predicate, op: str) -> tuple[Predicate, ...]:
    return predicate.children if predicate.op == op else (predicate,)


class P:
    """Predicate builders, one per operator (``P.eq("age", 3)``); see :class:`Predicate`."""

    __slots__ = ()

    @staticmethod
    def eq(attribute: str, value: JsonValue) -> Predicate:
        """``attribute`` strictly equals ``value`` (numbers by value; ``1 != "1"``)."""
        return Predicate("eq", attribute, value)

    @staticmethod
    def neq(attribute: str, value: JsonValue) -> Predicate:
        """``attribute`` is present, not null, and not equal to ``value``."""
        return Predicate("neq", attribute, value)

    @staticmethod
    def gt(attribute: str, value: int | float | str) -> Predicate:
        """``attribute`` > ``value`` (both numbers or both strings)."""
        return Predicate("gt", attribute, value)

    @staticmethod
    def gte(attribute: str, value: int | float | str) -> Predicate:
        """``attribute`` >= ``value``."""
        return Predicate("gte", attribute, value)

    @staticmethod
    def lt(attribute: str, value: int | float | str) -> Predicate:
        """``attribute`` < ``value``."""
        return Predicate("lt", attribute, value)

    @staticmethod
    def lte(attribute: str, value: int | float | str) -> Predicate:
        """``attribute`` <= ``value``."""
        return Predicate("lte", attribute, value)

    @staticmethod
    def between(attribute: str, low: int | float | str, high: int | float | str) -> Predicate:
        """``low <= attribute <= high`` (inclusive at both ends)."""
        return Predicate("between", attribute, [low, high])

    @staticmethod
    def in_(attribute: str, values: Sequence[JsonValue]) -> Predicate:
        """``attribute`` equals one of ``values``."""
        return Predicate("in", attribute, list(values))

    @staticmethod
    def like(attribute: str, pattern: str) -> Predicate:
        """SQL LIKE over the whole string, case-insensitive; ``\\`` escapes ``%`` and ``_``."""
        return Predicate("like", attribute, pattern)

    @staticmethod
    def regex(attribute: str, pattern: str) -> Predicate:
        """``pattern`` occurs in the string (search, case-sensitive, time-limited)."""
        return Predicate("regex", attribute, pattern)

    @staticmethod
    def contains(attribute: str, value: JsonValue) -> Predicate:
        """Substring of a string (case-insensitive) or element of a list."""
        return Predicate("contains", attribute, value)

    @staticmethod
    def contains_all(attribute: str, values: Sequence[JsonValue]) -> Predicate:
        """Every one of ``values`` is contained (see :meth:`contains`)."""
        return Predicate("containsAll", attribute, list(values))

    @staticmethod
    def contains_any(attribute: str, values: Sequence[JsonValue]) -> Predicate:
        """At least one of ``values`` is contained (see :meth:`contains`)."""
        return Predicate("containsAny", attribute, list(values))

    @staticmethod
    def match(attribute: str, query: str) -> Predicate:
        """Full-text: the text matches ``query`` (``topgun_core.search.matches``)."""
        return Predicate("match", attribute, query)

    @staticmethod
    def match_phrase(attribute: str, phrase: str) -> Predicate:
        """Full-text: ``phrase`` occurs as a phrase (``topgun_core.search.matches_phrase``)."""
        return Predicate("matchPhrase", attribute, phrase)

    @staticmethod
    def match_prefix(attribute: str, prefix: str) -> Predicate:
        """Full-text: a term starts with ``prefix`` (``topgun_core.search.matches_prefix``)."""
        return Predicate("matchPrefix", attribute, prefix)

    @staticmethod
    def and_(*predicates: Predicate) -> Predicate:
        """All of ``predicates`` hold (true when there are none)."""
        return Predicate("and", children=predicates)

    @staticmethod
    def or_(*predicates: Predicate) -> Predicate:
        """At least one of ``predicates`` holds (false when there are none)."""
        return Predicate("or", children=predicates)

    @staticmethod
    def not_(predicate: Predicate) -> Predicate:
        """``predicate`` does not hold."""
        return Predicate("not", children=(predicate,))
