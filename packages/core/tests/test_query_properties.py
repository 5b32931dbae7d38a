"""Property tests for the issue's two guarantees, over random data, predicates and writes.

(a) Indexed execution returns exactly what a brute-force scan returns, whatever
    indexes exist and whatever the planner picks; each index's own lookup is a
    superset of the matches, and equal to them when it claims to be exact.
(b) Live-query deltas applied to the initial result always equal a fresh evaluation,
    for many queries at once (routing included), with sort and limit windows.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topgun_core.query import (
    CompoundIndex,
    Delta,
    HashIndex,
    IndexedMap,
    InvertedIndex,
    LiveQueryRegistry,
    NavigableIndex,
    P,
    Predicate,
    QuerySpec,
    evaluate,
    execute,
)
from topgun_core.values import JsonValue

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = [f"k{i:02}" for i in range(40)]
WORDS = ["red", "Red", "blue", "green", "RED fox", "ox", "blueberry", ""]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 6),
    st.sampled_from([0.0, 1.0, 2.5, -1.5]),
    st.sampled_from(WORDS),
)
# Values the anchored queries below ask for come up often, so writes keep moving
# records into and out of those queries.
common = st.sampled_from([0, 1, 2, "red", "blue", 1.0])
field_values = st.one_of(
    common,
    scalars,
    st.lists(st.one_of(st.sampled_from(WORDS), st.integers(0, 3)), max_size=3),
)


@st.composite
def records(draw: st.DrawFn) -> JsonValue:
    value: dict[str, JsonValue] = {}
    for name in ("a", "b", "tags"):
        if draw(st.booleans()):
            value[name] = draw(field_values)
    if draw(st.booleans()):
        value["n"] = {"x": draw(st.integers(0, 4))} if draw(st.booleans()) else draw(scalars)
    return value


writes = st.lists(
    st.tuples(st.sampled_from(KEYS), st.one_of(st.none(), records())), min_size=1, max_size=25
)
attributes = st.sampled_from(["a", "b", "tags", "n.x", "n", "missing"])
orderable = st.one_of(st.integers(-2, 6), st.sampled_from([1.0, 2.5]), st.sampled_from(WORDS))


@st.composite
def leaves(draw: st.DrawFn) -> Predicate:  # noqa: PLR0911  (one return per operator family)
    attribute = draw(attributes)
    kind = draw(st.integers(0, 8))
    if kind == 0:
        return P.eq(attribute, draw(field_values))
    if kind == 1:
        return P.neq(attribute, draw(scalars))
    if kind == 2:
        op = draw(st.sampled_from([P.gt, P.gte, P.lt, P.lte]))
        return op(attribute, draw(orderable))
    if kind == 3:
        numbers = st.tuples(st.integers(-2, 6), st.integers(-2, 6))
        words = st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS))
        low, high = draw(st.one_of(numbers, words))
        return P.between(attribute, low, high)
    if kind == 4:
        return P.in_(attribute, draw(st.lists(scalars, max_size=3)))
    if kind == 5:
        return P.contains(attribute, draw(st.one_of(scalars, st.sampled_from(["e", "ue", "x"]))))
    if kind == 6:
        return P.contains_all(
            attribute, draw(st.lists(st.sampled_from([*WORDS, 1, 2]), max_size=2))
        )
    if kind == 7:
        return P.contains_any(
            attribute, draw(st.lists(st.sampled_from([*WORDS, 1, 2]), max_size=2))
        )
    return P.like(attribute, draw(st.sampled_from(["%e%", "r_d", "%", "blue%", "\\%"])))


predicates = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda c: P.and_(*c)),
        st.lists(inner, max_size=3).map(lambda c: P.or_(*c)),
        inner.map(P.not_),
    ),
    max_leaves=6,
)
sorts = st.lists(
    st.tuples(st.sampled_from(["a", "b", "n.x", "tags"]), st.sampled_from(["asc", "desc"])),
    max_size=2,
    unique_by=lambda s: s[0],
).map(tuple)


def indexed_map(records: list[tuple[str, JsonValue]] | None = None) -> IndexedMap:
    """A map with every index kind; ``records`` are written first, so indexes bulk-build."""
    users = IndexedMap()
    for key, value in records or []:
        users.set(key, value)
    for index in (
        HashIndex("a"),
        HashIndex("b"),
        NavigableIndex("a"),
        NavigableIndex("n.x"),
        NavigableIndex("b"),
        InvertedIndex("tags"),
        InvertedIndex("b"),
        CompoundIndex("a", "b"),
        HashIndex("n"),
    ):
        users.add_index(index)
    return users


@PROPERTY
@given(initial=writes, later=writes, predicate=predicates, sort=sorts, build=st.booleans())
def test_indexed_execution_equals_a_scan(
    initial: list[tuple[str, JsonValue]],
    later: list[tuple[str, JsonValue]],
    predicate: Predicate,
    sort: tuple[tuple[str, str], ...],
    build: bool,
) -> None:
    users = indexed_map(initial if build else None)
    for key, value in [] if build else initial:
        users.set(key, value)
    spec = QuerySpec(predicate, sort=sort)  # type: ignore[arg-type]
    for key, value in later:
        users.set(key, value)
        truth = execute(spec, dict(users.records))
        assert users.query(spec).results == truth.results
        forced = execute(spec, users.records, indexes=users.indexes, hint="index")
        assert forced.results == truth.results, str(forced.plan)
    matching = {k for k, v in users.records.items() if evaluate(predicate, v)}
    assert {k for k, _ in users.query(spec).results} == matching


def probes(values: list[JsonValue]) -> list[Predicate]:
    """Leaves on every indexed attribute, with operands taken from the data itself."""
    operands = [v for v in values if isinstance(v, str | int | float) and not isinstance(v, bool)]
    out: list[Predicate] = []
    for attribute in ("a", "b", "n.x", "tags", "n"):
        for v in values:
            out += [P.eq(attribute, v), P.neq(attribute, v), P.contains(attribute, v)]
        out.append(P.in_(attribute, values[:3]))
        out.append(P.contains_all(attribute, values[:2]))
        out.append(P.contains_any(attribute, values[:2]))
        for v in operands:
            out += [
                P.gt(attribute, v),
                P.gte(attribute, v),
                P.lt(attribute, v),
                P.lte(attribute, v),
            ]
            out += (
                [P.between(attribute, v, v)]
                if isinstance(v, str)
                else [P.between(attribute, v - 1, v)]
            )
        out += [P.eq("a", v) & P.eq("b", w) for v in values[:3] for w in values[:3]]
    return out


def data_values(users: IndexedMap) -> list[JsonValue]:
    seen: list[JsonValue] = ["ue", "e"]
    for value in users.records.values():
        assert isinstance(value, dict)
        for field in ("a", "b", "tags"):
            seen.append(value.get(field))
            items = value.get(field)
            if isinstance(items, list):
                seen.extend(items)
        nested = value.get("n")
        seen.append(nested.get("x") if isinstance(nested, dict) else nested)
    unique: list[JsonValue] = []
    for v in seen:
        if not any(type(v) is type(u) and v == u for u in unique):
            unique.append(v)
    return unique[:12]


@settings(PROPERTY, max_examples=60)
@given(initial=writes, later=writes)
def test_every_index_lookup_matches_brute_force(
    initial: list[tuple[str, JsonValue]], later: list[tuple[str, JsonValue]]
) -> None:
    users = indexed_map(initial)
    for key, value in later:
        users.set(key, value)
    for probe in probes(data_values(users)):
        truth = {k for k, v in users.records.items() if evaluate(probe, v)}
        for index in users.indexes.supporting(probe):
            if not index.supports(probe):
                continue
            found = index.lookup(probe)
            assert found >= truth, (index.name, probe)
            if index.exact(probe):
                assert found == truth, (index.name, probe)
            if index.kind != "inverted":
                assert index.estimate(probe) == len(found), (index.name, probe)
    # Compositions over the same data-derived leaves, forced onto index plans.
    leaves = probes(data_values(users))
    for left, right in zip(leaves[::7], leaves[3::7], strict=False):
        for combined in (~left, ~(left & right), left | ~right, left & right, ~(left | right)):
            spec = QuerySpec(combined)
            truth = execute(spec, dict(users.records)).results
            forced = execute(spec, users.records, indexes=users.indexes, hint="index")
            assert forced.results == truth, str(forced.plan)


def apply(view: dict[str, JsonValue], delta: Delta) -> None:
    if delta.change == "LEAVE":
        assert delta.key in view, delta
        del view[delta.key]
    elif delta.change == "ENTER":
        assert delta.key not in view, delta
        view[delta.key] = delta.value
    else:
        assert delta.key in view, delta
        view[delta.key] = delta.value


anchored = st.one_of(
    st.builds(P.eq, st.sampled_from(["a", "b"]), common),
    st.builds(P.in_, st.sampled_from(["a", "b"]), st.lists(common, max_size=3)),
    st.builds(lambda x, y: x & y, st.builds(P.eq, st.sampled_from(["a", "b"]), common), leaves()),
    st.builds(P.between, st.sampled_from(["a", "n.x"]), st.integers(-2, 4), st.integers(-2, 6)),
    st.builds(P.gt, st.sampled_from(["a", "n.x", "b"]), st.sampled_from([-1, 1, 2.5, "blue"])),
    st.builds(lambda x, y: x & y, st.builds(P.lte, st.just("a"), st.integers(0, 3)), leaves()),
)
queries = st.lists(
    st.tuples(
        st.one_of(st.none(), predicates, anchored),
        sorts,
        st.one_of(st.none(), st.integers(1, 5)),
    ),
    min_size=1,
    max_size=6,
)


@PROPERTY
@given(initial=writes, later=writes, specs=queries, use_indexes=st.booleans())
def test_live_deltas_equal_fresh_evaluation(
    initial: list[tuple[str, JsonValue]],
    later: list[tuple[str, JsonValue]],
    specs: list[tuple[Predicate | None, tuple[tuple[str, str], ...], int | None]],
    use_indexes: bool,
) -> None:
    users = indexed_map() if use_indexes else IndexedMap()
    for key, value in initial:
        users.set(key, value)
    registry = LiveQueryRegistry()
    views: dict[str, dict[str, JsonValue]] = {}
    specs_by_id: dict[str, QuerySpec] = {}
    for i, (predicate, sort, limit) in enumerate(specs):
        spec = QuerySpec(predicate, sort=sort, limit=limit)  # type: ignore[arg-type]
        live = registry.subscribe(f"q{i}", spec, users.records, indexes=users.indexes)
        views[f"q{i}"] = dict(live.results)
        specs_by_id[f"q{i}"] = spec
    for key, value in later:
        old = users.set(key, value)
        for query_id, delta in registry.apply(key, old, value):
            apply(views[query_id], delta)
            assert len(views[query_id]) <= registry.get(query_id).window_size  # type: ignore[union-attr]
        for query_id, spec in specs_by_id.items():
            fresh = execute(spec, dict(users.records)).results
            assert views[query_id] == dict(fresh), query_id
            live = registry.get(query_id)
            assert live is not None
            assert live.results == fresh
            assert live.has_more == execute(spec, dict(users.records)).has_more
