"""From wire dicts to validated queries: predicates, the legacy ``where``, sort and paging.

Everything arriving from outside goes through here, and everything here is strict:
unknown keys, unknown operators, values that are not JSON, bad sort directions and
non-positive limits are :class:`~topgun_core.errors.ValidationError` naming the
path (``query.predicate.children.0.op``). Depth and breadth are checked while
descending, so a hostile tree is refused before it can exhaust the stack.

Legacy ``where`` (SEMANTICS.md §8) maps each field to a literal (``eq``) or to an
operator dict with ``$gt $gte $lt $lte $ne $in`` (``gt gte lt lte neq in``); several
fields or operators are joined with ``and``. A dict mixing ``$`` operators with
plain keys, or naming any other ``$`` operator, is an error; a dict without ``$``
keys is a literal compared by deep equality.

:class:`QuerySpec` is the validated query both :func:`execute` and live queries
take; a query given both ``predicate`` and ``where`` means both must hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeGuard

from topgun_core.errors import ValidationError
from topgun_core.protocol import PredicateNode, PredicateOp, Query, SortDirection
from topgun_core.query._limits import (
    PREDICATE_DEPTH_MAX,
    PREDICATE_NODES_MAX,
    SORT_FIELDS_MAX,
)
from topgun_core.query._predicates import COMBINATORS, OPS, P, Predicate
from topgun_core.values import JsonValue

__all__ = ["QuerySpec", "json_value", "predicate_from_wire", "where_to_predicate"]

_NODE_KEYS: Final = frozenset({"op", "attribute", "value", "children"})
_QUERY_KEYS: Final = frozenset({"predicate", "where", "sort", "limit", "cursor"})
_WHERE_OPS: Final[dict[str, PredicateOp]] = {
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
    "$ne": "neq",
    "$in": "in",
}
_VALUE_DEPTH_MAX: Final = 32


def json_value(obj: object, path: str, depth: int = 0) -> JsonValue:
    """``obj`` checked to be a JSON value (plus bytes), rebuilt with precise types."""
    if obj is None or isinstance(obj, bool | int | float | str | bytes):
        return obj
    if depth >= _VALUE_DEPTH_MAX:
        raise ValidationError(path, f"value nested deeper than {_VALUE_DEPTH_MAX} levels")
    if isinstance(obj, list):
        return [json_value(v, f"{path}.{i}", depth + 1) for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        out: dict[str, JsonValue] = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise ValidationError(path, "object keys must be strings")
            out[k] = json_value(v, f"{path}.{k}", depth + 1)
        return out
    raise ValidationError(path, f"not a JSON value: {type(obj).__name__}")


def _is_op(op: object) -> TypeGuard[PredicateOp]:
    return isinstance(op, str) and op in OPS


def _is_name(name: object) -> bool:
    return isinstance(name, str) and name != ""


def _is_positive_int(number: object) -> bool:
    return isinstance(number, int) and not isinstance(number, bool) and number > 0


def _is_direction(direction: object) -> TypeGuard[SortDirection]:
    return direction in ("asc", "desc")


def predicate_from_wire(
    node: PredicateNode | Mapping[str, object], path: str = "predicate"
) -> Predicate:
    """Validate a wire predicate node and build the :class:`Predicate` it describes."""
    return _node(node, path, 1)


def _node(node: object, path: str, depth: int) -> Predicate:
    if not isinstance(node, Mapping):
        raise ValidationError(path, "a predicate node must be an object")
    if depth > PREDICATE_DEPTH_MAX:
        raise ValidationError(path, f"nested deeper than {PREDICATE_DEPTH_MAX} levels")
    extra = set(node) - _NODE_KEYS
    if extra:
        raise ValidationError(path, f"unknown fields {sorted(map(str, extra))}")
    op = node.get("op")
    if not _is_op(op):
        raise ValidationError(f"{path}.op", f"unknown operator {op!r}")
    if op in COMBINATORS:
        raw = node.get("children", [])
        if not isinstance(raw, list):
            raise ValidationError(f"{path}.children", "children must be a list")
        if len(raw) > PREDICATE_NODES_MAX:
            raise ValidationError(f"{path}.children", f"more than {PREDICATE_NODES_MAX} nodes")
        children = [_node(c, f"{path}.children.{i}", depth + 1) for i, c in enumerate(raw)]
        if "attribute" in node or "value" in node:
            raise ValidationError(path, f"{op} takes children, not attribute or value")
        return Predicate(op, children=children, path=path)
    attribute = node.get("attribute")
    if not isinstance(attribute, str):
        raise ValidationError(f"{path}.attribute", f"{op} needs a string attribute")
    if "value" not in node:
        raise ValidationError(f"{path}.value", f"{op} needs a value")
    if "children" in node:
        raise ValidationError(f"{path}.children", f"{op} takes no children")
    value = json_value(node["value"], f"{path}.value")
    return Predicate(op, attribute, value, path=path)


def where_to_predicate(where: Mapping[str, object], path: str = "where") -> Predicate:
    """Translate a legacy ``where`` dict (module docstring) into an ``and`` predicate."""
    if not isinstance(where, Mapping):
        raise ValidationError(path, "where must be an object")
    if len(where) > PREDICATE_NODES_MAX:
        raise ValidationError(path, f"more than {PREDICATE_NODES_MAX} fields")
    parts: list[Predicate] = []
    for field, condition in where.items():
        here = f"{path}.{field}"
        if not _is_name(field):
            raise ValidationError(path, "field names must be non-empty strings")
        if isinstance(condition, dict) and any(str(k).startswith("$") for k in condition):
            parts.extend(_where_operators(field, condition, here))
        else:
            parts.append(Predicate("eq", field, json_value(condition, here), path=here))
    return P.and_(*parts)


def _where_operators(field: str, condition: dict[object, object], path: str) -> list[Predicate]:
    parts = []
    for key, operand in condition.items():
        here = f"{path}.{key}"
        if not isinstance(key, str) or not key.startswith("$"):
            raise ValidationError(path, "an operator object cannot also hold plain fields")
        op = _WHERE_OPS.get(key)
        if op is None:
            raise ValidationError(here, f"unknown where operator {key!r}")
        parts.append(Predicate(op, field, json_value(operand, here), path=here))
    return parts


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """A validated query: predicate (None matches everything), sort, limit and cursor.

    ``sort`` is ``((field, "asc" | "desc"), ...)`` in priority order (a list of pairs
    or a ``{field: direction}`` dict is converted); ``limit`` is a
    positive page size (None: up to ``QueryLimits.results_max``); ``cursor`` is the
    ``next_cursor`` of an earlier page of the same predicate and sort.
    """

    predicate: Predicate | None = None
    sort: tuple[tuple[str, SortDirection], ...] = ()
    limit: int | None = None
    cursor: str | None = None

    def __post_init__(self) -> None:
        if self.predicate is not None and not isinstance(self.predicate, Predicate):
            raise ValidationError("query.predicate", "must be a Predicate")
        sort: object = self.sort  # callers without type checking may pass a list or a dict
        if not isinstance(sort, tuple):
            object.__setattr__(self, "sort", _sort_from_wire(sort, "query.sort"))
        _check_sort(self.sort)
        if self.limit is not None and not _is_positive_int(self.limit):
            raise ValidationError("query.limit", "limit must be a positive integer")
        if self.cursor is not None and not isinstance(self.cursor, str):
            raise ValidationError("query.cursor", "cursor must be a string")

    @classmethod
    def from_wire(cls, query: Query | Mapping[str, object], path: str = "query") -> QuerySpec:
        """Validate a wire query ``{predicate?, where?, sort?, limit?, cursor?}``."""
        if not isinstance(query, Mapping):
            raise ValidationError(path, "a query must be an object")
        extra = set(query) - _QUERY_KEYS
        if extra:
            raise ValidationError(path, f"unknown fields {sorted(map(str, extra))}")
        parts = []
        if query.get("predicate") is not None:
            parts.append(_node(query["predicate"], f"{path}.predicate", 1))
        if query.get("where") is not None:
            where = query["where"]
            if not isinstance(where, Mapping):
                raise ValidationError(f"{path}.where", "where must be an object")
            parts.append(where_to_predicate(where, f"{path}.where"))
        predicate = parts[0] if len(parts) == 1 else (P.and_(*parts) if parts else None)
        limit, cursor = query.get("limit"), query.get("cursor")
        if limit is not None and not isinstance(limit, int):
            raise ValidationError(f"{path}.limit", "limit must be a positive integer")
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationError(f"{path}.cursor", "cursor must be a string")
        return cls(predicate, _sort_from_wire(query.get("sort"), f"{path}.sort"), limit, cursor)

    def to_wire(self) -> Query:
        """The wire form of this query (``where`` is always expressed as ``predicate``)."""
        query: Query = {}
        if self.predicate is not None:
            query["predicate"] = self.predicate.to_wire()
        if self.sort:
            query["sort"] = dict(self.sort)
        if self.limit is not None:
            query["limit"] = self.limit
        if self.cursor is not None:
            query["cursor"] = self.cursor
        return query

    def with_cursor(self, cursor: str | None) -> QuerySpec:
        """The same query positioned at ``cursor`` (the next page)."""
        return QuerySpec(self.predicate, self.sort, self.limit, cursor)


def _sort_from_wire(sort: object, path: str) -> tuple[tuple[str, SortDirection], ...]:
    if sort is None:
        return ()
    if isinstance(sort, Mapping):
        items: Sequence[object] = list(sort.items())
    elif isinstance(sort, list | tuple):  # [(field, direction)] from Python callers
        items = sort
    else:
        raise ValidationError(path, "sort must be an object {field: 'asc' | 'desc'}")
    out: list[tuple[str, SortDirection]] = []
    for item in items:
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise ValidationError(path, "sort entries are (field, direction) pairs")
        field, direction = item
        if not _is_direction(direction) or not isinstance(field, str):
            raise ValidationError(f"{path}.{field}", "sort direction must be 'asc' or 'desc'")
        out.append((field, direction))
    return tuple(out)


def _check_sort(sort: object) -> None:
    if not isinstance(sort, tuple):
        raise ValidationError("query.sort", "sort must be a tuple of (field, direction)")
    if len(sort) > SORT_FIELDS_MAX:
        raise ValidationError("query.sort", f"at most {SORT_FIELDS_MAX} sort fields")
    seen: set[object] = set()
    for item in sort:
        ok = isinstance(item, tuple) and len(item) == 2 and item[1] in ("asc", "desc")
        if not ok or not isinstance(item[0], str) or not item[0] or item[0] in seen:
            raise ValidationError("query.sort", f"bad or repeated sort entry {item!r}")
        seen.add(item[0])
