"""The cost-based query planner: which indexes answer a predicate, or a full scan.

**Cost model** (units are "one predicate evaluation on one record"):

- a full scan of N records costs ``N * COST_EVAL``;
- an index probe costs ``COST_PROBE`` plus ``COST_ROW`` per key it returns (building
  the key set), with the row count taken from the index's own estimate — exact for
  hash, compound and navigable indexes, an upper bound for trigram lookups;
- every key an index plan yields costs ``COST_FETCH`` to read its value from the
  records by key (a scan gets values for free as it iterates);
- a plan whose keys are only a superset (an inexact lookup, or an ``and`` whose
  children are not all indexed) pays ``COST_EVAL`` per candidate for the final
  filter that evaluates the whole predicate.

The constants are calibrated on CPython: a scan evaluates a simple comparison in
about 0.2 µs per record, reading a value by key costs about 0.3 µs, and putting a
key in a set 0.02 to 0.2 µs. So an index wins when it returns well under half of
the records, and a lookup that returns nearly everything loses to a scan.

**Plans per node.** A leaf uses the supporting index with the smallest estimate.
``and`` gathers every access path — each indexable child and each compound index
covering several ``eq`` children — then greedily intersects the cheapest paths
while that lowers the total (rows of an intersection are estimated assuming
independence: ``N * product(rows_i / N)``); children left out are checked by the filter.
``or`` is the union of its children's plans and needs every child indexable (a
union with a scan is a scan). ``not`` is the complement of its child within the
map's keys, and needs an exact child plan. The root is then compared with a scan
and the cheaper one wins; :class:`Plan` records the choice and the rejected cost.

Indexed results are exactly a scan's: lookups return the matching keys or a superset,
supersets are filtered by the full predicate, and ``not`` only complements exact
sets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias

from topgun_core.query._indexes import CompoundIndex, Index
from topgun_core.query._predicates import Predicate
from topgun_core.query._registry import IndexRegistry

__all__ = [
    "COST_EVAL",
    "COST_FETCH",
    "COST_PROBE",
    "COST_ROW",
    "Plan",
    "PlanHint",
    "PlanKind",
    "plan_predicate",
]

COST_EVAL: Final = 1.0
"""Evaluating the predicate on one record: the unit of cost."""
COST_ROW: Final = 0.3
"""Taking one key out of an index into a result set."""
COST_FETCH: Final = 1.5
"""Reading one candidate's value from the records by key."""
COST_PROBE: Final = 4.0
"""One index probe (hashing or bisecting the operand)."""

PlanKind: TypeAlias = Literal["scan", "index", "intersect", "union", "complement", "filter"]
PlanHint: TypeAlias = Literal["auto", "index", "scan"]
"""How the root plan is chosen: by cost, an index whenever possible, or always a scan."""
Fetch: TypeAlias = Callable[[], set[str]]


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """One node of a query plan: what it does, estimated rows and cost, its inputs.

    ``exact`` says whether the node yields exactly the matching keys (a ``filter``
    root always does). ``note`` on the root explains the choice against a scan.
    """

    kind: PlanKind
    detail: str
    rows: int
    cost: float
    exact: bool
    children: tuple[Plan, ...] = ()
    index: str | None = None
    note: str = ""
    fetch: Fetch | None = field(default=None, repr=False)

    @property
    def uses_index(self) -> bool:
        """Whether any node of the plan reads an index."""
        return self.index is not None or any(c.uses_index for c in self.children)

    def indexes(self) -> list[str]:
        """The names of the indexes the plan reads, in plan order."""
        own = [self.index] if self.index is not None else []
        return own + [name for c in self.children for name in c.indexes()]

    def render(self, indent: int = 0) -> str:
        """The plan as an indented tree, one node per line."""
        line = f"{'  ' * indent}{self.kind} {self.detail} (rows≈{self.rows}, cost≈{self.cost:.1f})"
        if self.note:
            line += f" -- {self.note}"
        return "\n".join([line, *(c.render(indent + 1) for c in self.children)])

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description (for admin and MCP tools)."""
        out: dict[str, object] = {
            "kind": self.kind,
            "detail": self.detail,
            "rows": self.rows,
            "cost": round(self.cost, 3),
            "exact": self.exact,
        }
        if self.index is not None:
            out["index"] = self.index
        if self.note:
            out["note"] = self.note
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    def run(self) -> set[str]:
        """Run an index plan: the keys it yields (a new set; not for ``scan``)."""
        assert self.fetch is not None, "a scan plan has no key set"
        return self.fetch()


@dataclass(frozen=True, slots=True)
class _Context:
    registry: IndexRegistry
    size: int


def plan_predicate(
    predicate: Predicate | None,
    registry: IndexRegistry | None,
    size: int,
    hint: PlanHint = "auto",
) -> Plan:
    """The cheapest plan for ``predicate`` over ``size`` records (see the module docstring).

    ``hint`` overrides the cost comparison at the root: ``"index"`` takes the best
    index plan whenever one exists, ``"scan"`` never reads an index (both for
    comparing the two paths in tests and benchmarks).
    """
    described = "evaluate the predicate on every record" if predicate is not None else "all"
    scan = Plan("scan", f"{size} records, {described}", size, size * COST_EVAL, exact=True)
    if predicate is None or registry is None or not len(registry) or hint == "scan":
        return scan
    access = _plan(predicate, _Context(registry, size))
    if access is None:
        return dataclasses.replace(scan, note="no index applies")
    total = access.cost + access.rows * (COST_FETCH + (0.0 if access.exact else COST_EVAL))
    if total >= scan.cost and hint != "index":
        return dataclasses.replace(scan, note=f"cheaper than the best index plan ({total:.1f})")
    note = f"chosen over a full scan ({scan.cost:.1f})"
    if access.exact:
        return dataclasses.replace(access, note=note)
    detail = "evaluate the predicate on the candidates"
    return Plan(
        "filter", detail, access.rows, total, exact=True, children=(access,), note=note,
        fetch=access.fetch,
    )  # fmt: skip


def _plan(p: Predicate, ctx: _Context) -> Plan | None:
    if p.op == "and":
        return _plan_and(p, ctx)
    if p.op == "or":
        return _plan_or(p, ctx)
    if p.op == "not":
        return _plan_not(p, ctx)
    best = min(ctx.registry.supporting(p), key=lambda i: i.estimate(p), default=None)
    return None if best is None else _index_plan(best, p, f"{p.op} {p.attribute}")


def _index_plan(index: Index, p: Predicate, what: str) -> Plan:
    rows = index.estimate(p)
    return Plan(
        "index", f"{what} via {index.name}", rows, COST_PROBE + rows * COST_ROW, index.exact(p),
        index=index.name, fetch=lambda: index.lookup(p),
    )  # fmt: skip


def _plan_or(p: Predicate, ctx: _Context) -> Plan | None:
    parts = [_plan(c, ctx) for c in p.children]
    plans = [c for c in parts if c is not None]
    if len(plans) < len(parts):
        return None
    if len(plans) == 1:
        return plans[0]
    rows = min(ctx.size, sum(c.rows for c in plans))

    def union() -> set[str]:
        out: set[str] = set()
        for child in plans:
            out |= child.run()
        return out

    cost = sum(c.cost for c in plans) + rows * COST_ROW
    exact = all(c.exact for c in plans)
    return Plan("union", f"of {len(plans)}", rows, cost, exact, tuple(plans), fetch=union)


def _plan_not(p: Predicate, ctx: _Context) -> Plan | None:
    child = _plan(p.children[0], ctx)
    if child is None or not child.exact:
        return None
    universe = ctx.registry.records

    def complement() -> set[str]:
        return set(universe) - child.run()

    rows = max(0, ctx.size - child.rows)
    cost = child.cost + ctx.size * COST_ROW
    return Plan(
        "complement", "within all keys", rows, cost, exact=True, children=(child,), fetch=complement
    )


@dataclass(frozen=True, slots=True)
class _Path:
    plan: Plan
    covers: frozenset[int]


def _paths(p: Predicate, ctx: _Context) -> list[_Path]:
    paths = []
    for i, child in enumerate(p.children):
        plan = _plan(child, ctx)
        if plan is not None:
            paths.append(_Path(plan, frozenset((i,))))
    for index in ctx.registry.supporting(p):
        assert isinstance(index, CompoundIndex)
        covered = index.covered(p)
        if covered is not None:
            ids = frozenset(i for i, c in enumerate(p.children) if any(c is x for x in covered))
            what = "eq " + ", ".join(index.attributes)
            paths.append(_Path(_index_plan(index, p, what), ids))
    return sorted(paths, key=lambda path: path.plan.rows)


def _and_cost(chosen: Sequence[_Path], n_children: int, size: int) -> tuple[float, int, bool]:
    """Cost with the final filter, estimated rows and exactness of intersecting ``chosen``."""
    rows = float(chosen[0].plan.rows)
    for path in chosen[1:]:
        rows *= path.plan.rows / size if size else 0.0
    covered = frozenset().union(*(path.covers for path in chosen))
    exact = len(covered) == n_children and all(path.plan.exact for path in chosen)
    per_row = COST_FETCH + (0.0 if exact else COST_EVAL)
    cost = sum(path.plan.cost for path in chosen) + rows * per_row
    return cost, round(rows), exact


def _plan_and(p: Predicate, ctx: _Context) -> Plan | None:
    paths = _paths(p, ctx)
    if not paths:
        return None
    chosen = [paths[0]]
    cost, rows, exact = _and_cost(chosen, len(p.children), ctx.size)
    for path in paths[1:]:
        if path.covers <= frozenset().union(*(c.covers for c in chosen)):
            continue  # answers only conjuncts already answered: cannot narrow the result
        new_cost, new_rows, new_exact = _and_cost([*chosen, path], len(p.children), ctx.size)
        if new_cost < cost:
            chosen.append(path)
            cost, rows, exact = new_cost, new_rows, new_exact
    if len(chosen) == 1:
        return dataclasses.replace(chosen[0].plan, exact=exact)
    plans = tuple(path.plan for path in chosen)

    def intersect() -> set[str]:
        out = plans[0].run()
        for child in plans[1:]:
            out &= child.run()
            if not out:
                break
        return out

    # The plan's own cost leaves the final filter out: the root adds it once.
    fetch_cost = sum(c.cost for c in plans) + plans[0].rows * COST_ROW
    return Plan("intersect", f"of {len(plans)}", rows, fetch_cost, exact, plans, fetch=intersect)
