"""Conflict resolvers: every built-in (table of cases), decision validation, the
chain (ordering, globs, first non-local wins, LWW fallback, custom runner, failures)
and the registry (limits, listing, disconnect cleanup keeping persistent ones)."""

from __future__ import annotations

import pytest

from topgun_core.errors import LimitExceeded, Unavailable, ValidationError
from topgun_core.hlc import Timestamp
from topgun_core.policies import Principal
from topgun_core.protocol import FieldLimitExceeded
from topgun_core.resolvers import (
    BUILTIN_RESOLVERS,
    RESOLVER_REASON_CHARS_MAX,
    RESOLVER_VALUE_BYTES_MAX,
    RESOLVERS_PER_MAP_MAX,
    MergeContext,
    ResolverChain,
    ResolverDecision,
    ResolverRegistry,
    ResolverSpec,
    owner_of,
    validate_resolver_decision,
)
from topgun_core.values import JsonValue

SEMANTICS_BUILTINS = {
    "lww", "first_write_wins", "numeric_min", "numeric_max", "non_negative", "array_union",
    "deep_merge", "server_only", "owner_only", "immutable", "version_increment",
}  # fmt: skip

OLD = Timestamp(100, 0, "A")
NEW = Timestamp(200, 0, "B")
ANN = Principal("ann")
BOB = Principal("bob")
ROOT = Principal("root", frozenset({"ADMIN"}))
ANNS: JsonValue = {"ownerId": "ann"}
BOBS: JsonValue = {"ownerId": "bob"}


def ctx(
    local: JsonValue = None,
    remote: JsonValue = None,
    *,
    local_ts: Timestamp | None = OLD,
    remote_ts: Timestamp = NEW,
    auth: Principal | None = ANN,
    key: str = "k",
    map_name: str = "m",
) -> MergeContext:
    return MergeContext(map_name, key, local, remote, local_ts, remote_ts, remote_ts.node_id, auth)


ACCEPT = ResolverDecision.accept
MERGE = ResolverDecision.merge
LOCAL = ResolverDecision.local()


def REJECT(reason: str) -> ResolverDecision:
    return ResolverDecision.reject(reason)


# (resolver, context, expected decision; for rejections a reason fragment)
CASES: list[tuple[str, MergeContext, ResolverDecision]] = [
    ("lww", ctx(1, 2), ACCEPT(2)),
    ("lww", ctx(1, 2, remote_ts=Timestamp(50, 0, "Z")), LOCAL),
    ("lww", ctx(1, 2, remote_ts=OLD), LOCAL),
    ("lww", ctx(1, 2, local_ts=Timestamp(9, 0, "A"), remote_ts=Timestamp(9, 0, "B")), ACCEPT(2)),
    ("lww", ctx(None, 2, local_ts=None, remote_ts=Timestamp(1, 0, "Z")), ACCEPT(2)),
    ("lww", ctx(1, None), ACCEPT(None)),
    ("first_write_wins", ctx(None, "x", local_ts=None), LOCAL),
    ("first_write_wins", ctx(None, "x"), LOCAL),
    ("first_write_wins", ctx("x", "x"), LOCAL),
    ("first_write_wins", ctx("x", None), LOCAL),
    ("first_write_wins", ctx("x", "y"), REJECT("first_write_wins: the key already has a value")),
    ("first_write_wins", ctx("x", "y", remote_ts=Timestamp(1, 0, "Z")), REJECT("first_write_wins")),
    ("immutable", ctx(None, "x"), LOCAL),
    ("immutable", ctx({"a": 1}, {"a": 1.0}), LOCAL),
    ("immutable", ctx("x", "y"), REJECT("immutable: the value cannot change once written")),
    ("immutable", ctx("x", None), REJECT("immutable")),
    ("numeric_max", ctx(3, 5), ACCEPT(5)),
    ("numeric_max", ctx(5, 3), MERGE(5)),
    ("numeric_max", ctx(5, 5.0), MERGE(5)),
    ("numeric_max", ctx(None, 3), LOCAL),
    ("numeric_max", ctx("s", 3), LOCAL),
    ("numeric_max", ctx(3, None), LOCAL),
    ("numeric_max", ctx(3, "9"), REJECT("numeric_max: the value must be a number")),
    ("numeric_max", ctx(3, remote=True), REJECT("numeric_max: the value must be a number")),
    ("numeric_min", ctx(3, 5), MERGE(3)),
    ("numeric_min", ctx(5, 3), ACCEPT(3)),
    ("numeric_min", ctx(5, -1.5), ACCEPT(-1.5)),
    ("numeric_min", ctx(3, [1]), REJECT("numeric_min: the value must be a number")),
    ("non_negative", ctx(1, 0), LOCAL),
    ("non_negative", ctx(1, 5), LOCAL),
    ("non_negative", ctx(1, -1), REJECT("non_negative: the value must not be negative (got -1)")),
    ("non_negative", ctx(1, -0.5), REJECT("non_negative")),
    ("non_negative", ctx(1, "-1"), LOCAL),
    ("non_negative", ctx(1, None), LOCAL),
    ("array_union", ctx([1, 2], [2, 3]), MERGE([1, 2, 3])),
    ("array_union", ctx([1, 1], [1.0, True, "1"]), ACCEPT([1.0, True, "1"])),
    ("array_union", ctx([1, 1], [2, 2]), MERGE([1, 2])),
    ("array_union", ctx([{"a": 1}], [{"a": 1}, {"a": 2}]), ACCEPT([{"a": 1}, {"a": 2}])),
    ("array_union", ctx([], [1]), ACCEPT([1])),
    ("array_union", ctx(None, [1]), LOCAL),
    ("array_union", ctx([1], None), LOCAL),
    ("array_union", ctx([1], "x"), LOCAL),
    ("deep_merge", ctx({"a": {"x": 1}, "b": 1}, {"a": {"y": 2}}),
     MERGE({"a": {"x": 1, "y": 2}, "b": 1})),
    ("deep_merge", ctx({"a": 1}, {"a": 2, "b": 3}), ACCEPT({"a": 2, "b": 3})),
    ("deep_merge", ctx({"a": [1]}, {"a": [2]}), ACCEPT({"a": [2]})),
    ("deep_merge", ctx(None, {"a": 1}), LOCAL),
    ("deep_merge", ctx({"a": 1}, None), LOCAL),
    ("deep_merge", ctx({"a": 1}, [1]), LOCAL),
    ("server_only", ctx(1, 2, auth=None), LOCAL),
    ("server_only", ctx(1, 2, auth=ANN),
     REJECT("server_only: this key is written only by the server")),
    ("server_only", ctx(1, 2, auth=ROOT), REJECT("server_only")),
    ("owner_only", ctx(None, {"ownerId": "ann"}), LOCAL),
    ("owner_only", ctx(None, {"owner": "ann"}), LOCAL),
    ("owner_only", ctx(None, {"ownerId": "bob"}), REJECT("a new record must name the writer")),
    ("owner_only", ctx(None, {"x": 1}), REJECT("a new record must name the writer")),
    ("owner_only", ctx(None, "scalar"), REJECT("a new record must name the writer")),
    ("owner_only", ctx(None, None), LOCAL),
    ("owner_only", ctx({"ownerId": "ann", "v": 1}, {"ownerId": "ann", "v": 2}), LOCAL),
    ("owner_only", ctx({"ownerId": "ann"}, None), LOCAL),
    ("owner_only", ctx(ANNS, ANNS, auth=BOB), REJECT("only the record's owner")),
    ("owner_only", ctx({"ownerId": "ann"}, None, auth=BOB), REJECT("only the record's owner")),
    ("owner_only", ctx(ANNS, BOBS), REJECT("owner of a record cannot be changed")),
    ("owner_only", ctx({"ownerId": "ann"}, {"v": 2}), REJECT("cannot be changed")),
    ("owner_only", ctx({"v": 1}, ANNS), REJECT("owner_only: the record has no owner")),
    ("owner_only", ctx({"ownerId": 5}, {"ownerId": "ann"}), REJECT("has no owner")),
    ("owner_only", ctx({"ownerId": "ann"}, {"ownerId": "bob"}, auth=ROOT), LOCAL),
    ("owner_only", ctx({"ownerId": "ann"}, {"ownerId": "bob"}, auth=None), LOCAL),
    ("version_increment", ctx(None, {"version": 1}), ACCEPT({"version": 1})),
    ("version_increment", ctx({"version": 1}, {"version": 2}, remote_ts=Timestamp(1, 0, "Z")),
     ACCEPT({"version": 2})),
    ("version_increment", ctx({"version": 2}, {"version": 2}), REJECT("expected version 3, got 2")),
    ("version_increment", ctx({"version": 2}, {"version": 4}), REJECT("expected version 3, got 4")),
    ("version_increment", ctx(None, {"version": 2}), REJECT("expected version 1, got 2")),
    ("version_increment", ctx({"x": 1}, {"version": 1}), ACCEPT({"version": 1})),
    ("version_increment", ctx({"version": 1}, {"x": 1}),
     REJECT("needs an integer 'version' field")),
    ("version_increment", ctx({"version": 1}, {"version": "2"}), REJECT("needs an integer")),
    ("version_increment", ctx({"version": 1}, {"version": True}), REJECT("needs an integer")),
    ("version_increment", ctx({"version": 1}, None), LOCAL),
]  # fmt: skip


def test_every_semantics_builtin_exists() -> None:
    assert set(BUILTIN_RESOLVERS) == SEMANTICS_BUILTINS
    assert {c[0] for c in CASES} == SEMANTICS_BUILTINS


@pytest.mark.parametrize(("name", "context", "expected"), CASES)
def test_builtin_resolver_cases(
    name: str, context: MergeContext, expected: ResolverDecision
) -> None:
    decision = BUILTIN_RESOLVERS[name](context)
    assert decision.action == expected.action
    if expected.action == "reject":
        assert expected.reason is not None
        assert decision.reason is not None
        assert expected.reason in decision.reason
    else:
        assert decision.value == expected.value
        assert decision.reason is None


def test_guards_never_accept_or_merge() -> None:
    guards = {"first_write_wins", "immutable", "non_negative", "server_only", "owner_only"}
    for name, context, _ in CASES:
        if name in guards:
            assert BUILTIN_RESOLVERS[name](context).action in ("reject", "local")


@pytest.mark.parametrize(
    ("value", "owner"),
    [
        ({"ownerId": "a", "owner": "b"}, "a"),
        ({"owner": "b"}, "b"),
        ({"ownerId": None, "owner": "b"}, None),
        ({"ownerId": 1}, None),
        ("a", None),
        (None, None),
    ],
)
def test_owner_of(value: JsonValue, owner: str | None) -> None:
    assert owner_of(value) == owner


def test_merge_context_record_is_plain_data() -> None:
    record = ctx(1, 2, auth=Principal("ann", frozenset({"USER", "EDITOR"}))).to_record()
    assert record == {
        "map_name": "m",
        "key": "k",
        "local_value": 1,
        "remote_value": 2,
        "local_timestamp": {"millis": 100, "counter": 0, "node_id": "A"},
        "remote_timestamp": {"millis": 200, "counter": 0, "node_id": "B"},
        "remote_node_id": "B",
        "auth": {"user_id": "ann", "roles": ["EDITOR", "USER"]},
    }
    bare = ctx(None, 2, local_ts=None, auth=None).to_record()
    assert bare["local_timestamp"] is None
    assert bare["auth"] is None


# ---------------------------------------------------------------- decision validation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"action": "accept"}, ResolverDecision("accept", "remote")),
        ({"action": "accept", "value": (1, 2)}, ResolverDecision("accept", [1, 2])),
        ({"action": "accept", "value": None}, ResolverDecision("accept", None)),
        ({"action": "merge", "value": {"a": 1}}, ResolverDecision("merge", {"a": 1})),
        ({"action": "merge", "value": None}, ResolverDecision("merge", None)),
        ({"action": "reject", "reason": "no"}, ResolverDecision("reject", reason="no")),
        (
            {"action": "reject"},
            ResolverDecision("reject", reason="rejected by a conflict resolver"),
        ),
        ({"action": "local"}, ResolverDecision("local")),
    ],
)
def test_valid_decisions(raw: object, expected: ResolverDecision) -> None:
    assert validate_resolver_decision(raw, ctx("local", "remote")) == expected


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        (None, "decision", "must return a dict"),
        ("accept", "decision", "must return a dict"),
        ({}, "decision.action", "must be one of accept, merge, reject, local; got None"),
        ({"action": "ACCEPT"}, "decision.action", "got 'ACCEPT'"),
        ({"action": 1}, "decision.action", "must be one of"),
        ({"action": "accept", "why": 1}, "decision", "unexpected keys 'why'"),
        ({"action": "merge"}, "decision.value", "merge requires the merged value"),
        ({"action": "reject", "value": 1}, "decision.value", "reject takes no value"),
        ({"action": "local", "value": 1}, "decision.value", "local takes no value"),
        ({"action": "accept", "reason": "x"}, "decision.reason", "only reject takes a reason"),
        ({"action": "reject", "reason": 5}, "decision.reason", "must be a string"),
        ({"action": "merge", "value": {1, 2}}, "decision.value", "set is not a JSON value"),
        ({"action": "accept", "value": [float("nan")]}, "decision.value.0", "finite"),
    ],
)
def test_invalid_decisions(raw: object, field: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_resolver_decision(raw, ctx())
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_oversize_decisions() -> None:
    with pytest.raises(FieldLimitExceeded) as caught:
        validate_resolver_decision(
            {"action": "merge", "value": "x" * RESOLVER_VALUE_BYTES_MAX}, ctx()
        )
    assert caught.value.limit == "resolver_value_bytes_max"
    reason = "r" * (RESOLVER_REASON_CHARS_MAX + 1)
    with pytest.raises(FieldLimitExceeded) as caught:
        validate_resolver_decision({"action": "reject", "reason": reason}, ctx())
    assert caught.value.limit == "resolver_reason_chars_max"
    ok = validate_resolver_decision({"action": "reject", "reason": reason[:-1]}, ctx())
    assert ok.reason == reason[:-1]


# ---------------------------------------------------------------- specs


def test_spec_from_wire() -> None:
    spec = ResolverSpec.from_wire({"name": "non_negative"}, registered_by="c1")
    assert spec == ResolverSpec("non_negative", builtin="non_negative", registered_by="c1")
    assert spec.is_builtin
    assert spec.priority == 50
    assert spec.key_pattern == "*"
    prefixed = ResolverSpec.from_wire(
        {"name": "builtin:owner_only", "priority": 90, "keyPattern": "doc:*"},
        registered_by=None,
        persistent=True,
    )
    assert prefixed.builtin == "owner_only"
    assert prefixed.name == "owner_only"
    assert prefixed.persistent
    assert prefixed.to_info("docs") == {
        "mapName": "docs",
        "name": "owner_only",
        "priority": 90,
        "keyPattern": "doc:*",
    }
    custom = ResolverSpec.from_wire(
        {"name": "mine", "code": "return {'action': 'local'}"}, registered_by="c"
    )
    assert not custom.is_builtin
    assert custom.code is not None


@pytest.mark.parametrize(
    ("wire", "field", "problem"),
    [
        ("x", "resolver", "must be an object"),
        ({"name": "lww", "extra": 1}, "resolver", "unexpected fields ['extra']"),
        ({}, "resolver.name", "must be a string"),
        ({"name": ""}, "resolver.name", "non-empty"),
        ({"name": "nope"}, "resolver.name", "unknown built-in resolver 'nope'; known: lww"),
        ({"name": "x", "code": 1}, "resolver.code", "must be a string"),
        ({"name": "x", "code": ""}, "resolver.code", "non-empty"),
        ({"name": "builtin:lww", "code": "return 1"}, "resolver.name", "takes no code"),
        ({"name": "lww", "priority": 101}, "resolver.priority", "from 0 to 100, got 101"),
        ({"name": "lww", "priority": -1}, "resolver.priority", "from 0 to 100"),
        ({"name": "lww", "priority": True}, "resolver.priority", "integer"),
        ({"name": "lww", "priority": 5.5}, "resolver.priority", "integer"),
        ({"name": "lww", "keyPattern": 3}, "resolver.keyPattern", "must be a string"),
        ({"name": "lww", "keyPattern": ""}, "resolver.keyPattern", "non-empty"),
    ],
)
def test_spec_validation(wire: object, field: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ResolverSpec.from_wire(wire, registered_by=None)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_spec_needs_exactly_one_of_builtin_and_code() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        ResolverSpec("x")
    with pytest.raises(ValidationError, match="exactly one"):
        ResolverSpec("x", builtin="lww", code="return 1")
    with pytest.raises(LimitExceeded, match="resolver_code_chars_max"):
        ResolverSpec("x", code="#" * 40_000)
    with pytest.raises(LimitExceeded, match="resolver_name_chars_max"):
        ResolverSpec("x" * 257, builtin="lww")
    with pytest.raises(LimitExceeded, match="resolver_key_pattern_chars_max"):
        ResolverSpec("x", builtin="lww", key_pattern="*" * 1025)


# ---------------------------------------------------------------- the chain


def guard(
    name: str, priority: int = 50, pattern: str = "*", builtin: str | None = None
) -> ResolverSpec:
    return ResolverSpec(name, builtin=builtin or name, priority=priority, key_pattern=pattern)


def custom(
    name: str, priority: int = 50, pattern: str = "*", client: str | None = None
) -> ResolverSpec:
    return ResolverSpec(
        name, code=f"# {name}", priority=priority, key_pattern=pattern, registered_by=client
    )


class Runner:
    """A stand-in for the sandbox: decisions by resolver name, and a call log."""

    def __init__(self, decisions: dict[str, ResolverDecision | Exception]) -> None:
        self.decisions = decisions
        self.calls: list[str] = []

    def __call__(self, spec: ResolverSpec, context: MergeContext) -> ResolverDecision:
        self.calls.append(spec.name)
        outcome = self.decisions[spec.name]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_chain_orders_by_descending_priority_then_registration() -> None:
    chain = ResolverChain("m")
    for spec in [
        custom("a", 10),
        custom("b", 90),
        custom("c", 50),
        custom("d", 90),
        custom("e", 50),
    ]:
        chain.register(spec)
    assert [s.name for s in chain] == ["b", "d", "c", "e", "a"]
    runner = Runner(dict.fromkeys("abcde", LOCAL))
    decision = chain.resolve(ctx(1, 2), runner)
    assert runner.calls == ["b", "d", "c", "e", "a"]
    assert decision == ResolverDecision("accept", 2, resolver="lww")


def test_reregistering_replaces_and_moves_behind_equals() -> None:
    chain = ResolverChain("m")
    chain.register(custom("a"))
    chain.register(custom("b"))
    replaced = chain.register(custom("a", pattern="x*"))
    assert replaced == custom("a")
    assert [s.name for s in chain] == ["b", "a"]
    assert len(chain) == 2
    assert chain.get("a") == custom("a", pattern="x*")


def test_first_non_local_decision_wins_and_names_its_resolver() -> None:
    chain = ResolverChain("m")
    chain.register(custom("first", 90))
    chain.register(custom("second", 80))
    chain.register(custom("third", 70))
    runner = Runner({"first": LOCAL, "second": REJECT("nope"), "third": ACCEPT(9)})
    decision = chain.resolve(ctx(1, 2), runner)
    assert decision == ResolverDecision("reject", reason="nope", resolver="second")
    assert runner.calls == ["first", "second"]


def test_glob_key_patterns_filter_resolvers() -> None:
    chain = ResolverChain("m")
    chain.register(guard("non_negative", 90, "stock:*"))
    chain.register(guard("immutable", 80, "config/??"))
    chain.register(guard("server_only", 70, "[ab]*"))
    assert chain.resolve(ctx(1, -1, key="stock:apple")).resolver == "non_negative"
    assert chain.resolve(ctx(1, -1, key="Stock:apple")).resolver == "lww"  # case-sensitive
    assert chain.resolve(ctx(1, 2, key="config/ab")).resolver == "immutable"
    assert chain.resolve(ctx(1, 2, key="config/abc")).resolver == "lww"
    assert chain.resolve(ctx(1, 2, key="a/b:c")).resolver == "server_only"
    assert [s.name for s in chain.applicable("stock:x")] == ["non_negative"]
    assert [s.name for s in chain.applicable("zzz")] == []


def test_lww_fallback_keeps_local_for_stale_writes() -> None:
    chain = ResolverChain("m")
    chain.register(guard("non_negative"))
    stale = chain.resolve(ctx(1, 2, remote_ts=Timestamp(1, 0, "Z")))
    assert stale == ResolverDecision("local", resolver="lww")
    assert not stale.writes
    fresh = chain.resolve(ctx(1, 2))
    assert fresh == ResolverDecision("accept", 2, resolver="lww")
    assert fresh.writes


def test_guards_compose_above_shapers() -> None:
    chain = ResolverChain("scores")
    chain.register(guard("non_negative", 90))
    chain.register(guard("numeric_max", 10))
    assert chain.resolve(ctx(5, -3)) == ResolverDecision("reject", reason=(
        "non_negative: the value must not be negative (got -3)"
    ), resolver="non_negative")  # fmt: skip
    assert chain.resolve(ctx(5, 3)) == ResolverDecision("merge", 5, resolver="numeric_max")
    assert chain.resolve(ctx(5, 8, remote_ts=Timestamp(1, 0, "Z"))).action == "accept"


def test_failing_custom_resolver_rejects_with_its_name() -> None:
    chain = ResolverChain("m")
    chain.register(custom("slow"))
    runner = Runner({"slow": Unavailable("sandbox timed out after 100 ms")})
    decision = chain.resolve(ctx(1, 2), runner)
    assert decision.action == "reject"
    assert decision.reason == "resolver 'slow' failed: sandbox timed out after 100 ms"
    assert decision.resolver == "slow"


def test_foreign_exceptions_from_the_runner_propagate() -> None:
    chain = ResolverChain("m")
    chain.register(custom("buggy"))
    with pytest.raises(KeyError):
        chain.resolve(ctx(1, 2), Runner({"buggy": KeyError("bug")}))


def test_custom_resolver_without_a_runner_is_a_wiring_error() -> None:
    chain = ResolverChain("m")
    chain.register(custom("x", pattern="only:*"))
    assert chain.resolve(ctx(1, 2, key="other")).resolver == "lww"
    with pytest.raises(ValueError, match="needs run_custom"):
        chain.resolve(ctx(1, 2, key="only:1"))


def test_chain_limit_and_unregister() -> None:
    chain = ResolverChain("m", resolvers_max=2)
    chain.register(custom("a"))
    chain.register(custom("b"))
    chain.register(custom("b", 70))  # replacing never counts
    with pytest.raises(LimitExceeded) as caught:
        chain.register(custom("c"))
    assert caught.value.limit == "resolvers_per_map_max"
    assert chain.unregister("a") == custom("a")
    assert chain.unregister("a") is None
    assert "a" not in chain
    chain.register(custom("c"))
    assert [s.name for s in chain] == ["b", "c"]
    with pytest.raises(ValueError, match=">= 1"):
        ResolverChain("m", resolvers_max=0)
    assert RESOLVERS_PER_MAP_MAX == 50


def test_chain_remove_client_keeps_persistent_and_others() -> None:
    chain = ResolverChain("m")
    chain.register(custom("mine", client="c1"))
    chain.register(ResolverSpec("kept", code="#", registered_by="c1", persistent=True))
    chain.register(custom("theirs", client="c2"))
    chain.register(guard("lww"))
    removed = chain.remove_client("c1")
    assert [s.name for s in removed] == ["mine"]
    assert [s.name for s in chain] == ["kept", "theirs", "lww"]
    assert chain.remove_client("c1") == []


# ---------------------------------------------------------------- registry


def test_registry_register_list_and_resolve_per_map() -> None:
    registry = ResolverRegistry()
    assert registry.resolve(ctx(1, 2)) == ResolverDecision("accept", 2, resolver="lww")
    registry.register("b", guard("immutable", 60))
    registry.register("a", guard("non_negative", 70, "n:*"))
    registry.register("a", guard("numeric_max"))
    assert len(registry) == 3
    assert [(m, s.name) for m, s in registry.specs()] == [
        ("a", "non_negative"),
        ("a", "numeric_max"),
        ("b", "immutable"),
    ]
    assert registry.infos("b") == [
        {"mapName": "b", "name": "immutable", "priority": 60, "keyPattern": "*"}
    ]
    assert registry.specs("nope") == []
    assert registry.resolve(ctx(1, 2, map_name="b")).action == "reject"
    assert registry.resolve(ctx(1, -2, key="n:1", map_name="a")).resolver == "non_negative"
    chain = registry.chain("a")
    assert chain is not None
    assert chain.map_name == "a"
    assert registry.chain("c") is None


def test_registry_unregister_drops_empty_chains() -> None:
    registry = ResolverRegistry()
    registry.register("m", guard("immutable"))
    assert registry.register("m", guard("immutable", 10)) == guard("immutable")
    assert len(registry) == 1
    assert registry.unregister("m", "nope") is None
    assert registry.unregister("x", "immutable") is None
    assert registry.unregister("m", "immutable") == guard("immutable", 10)
    assert len(registry) == 0
    assert registry.chain("m") is None


def test_registry_limits() -> None:
    registry = ResolverRegistry(resolvers_max=2, resolvers_per_map_max=1)
    registry.register("a", guard("immutable"))
    with pytest.raises(LimitExceeded, match="resolvers_per_map_max"):
        registry.register("a", guard("lww"))
    registry.register("b", guard("immutable"))
    with pytest.raises(LimitExceeded, match="resolvers_max"):
        registry.register("c", guard("immutable"))
    registry.register("b", guard("immutable", 99))  # a replacement fits
    assert len(registry) == 2
    with pytest.raises(ValueError, match=">= 1"):
        ResolverRegistry(resolvers_max=0)


def test_registry_disconnect_cleanup_keeps_persistent_ones() -> None:
    registry = ResolverRegistry()
    registry.register("a", custom("temp", client="c1"))
    registry.register("a", ResolverSpec("admin", code="#", registered_by="c1", persistent=True))
    registry.register("b", custom("temp2", client="c1"))
    registry.register("b", custom("other", client="c2"))
    registry.register("c", custom("only", client="c1"))
    removed = registry.remove_client("c1")
    assert sorted((m, s.name) for m, s in removed) == [("a", "temp"), ("b", "temp2"), ("c", "only")]
    assert [(m, s.name) for m, s in registry.specs()] == [("a", "admin"), ("b", "other")]
    assert len(registry) == 2
    assert registry.chain("c") is None
