"""Entry processors: every built-in (table of cases, bad args and values), the
registry, ProcessorRequest validation and the user-code result contract."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topgun_core.errors import LimitExceeded, ValidationError
from topgun_core.processors import (
    BUILTIN_PROCESSORS,
    PROCESSOR_ARGS_BYTES_MAX,
    PROCESSOR_CODE_CHARS_MAX,
    PROCESSOR_RESULT_BYTES_MAX,
    PROCESSOR_TIMEOUT_MS_DEFAULT,
    SAFE_INTEGER_MAX,
    VALUE_DEPTH_MAX,
    ProcessorOutcome,
    ProcessorRequest,
    check_json_value,
    deep_merge_values,
    run_builtin,
    validate_processor_result,
)
from topgun_core.protocol import FieldLimitExceeded
from topgun_core.values import JsonValue

SEMANTICS_BUILTINS = {
    "increment", "decrement", "decrement_floor", "multiply", "put_if_absent", "replace",
    "replace_if_equals", "delete_if_equals", "array_push", "array_pop", "array_remove",
    "set_property", "delete_property", "get", "conditional_update", "merge",
}  # fmt: skip

GT0 = {"op": "gt", "attribute": "stock", "value": 0}

# (name, value before, args, value after, result, changed)
CASES: list[tuple[str, JsonValue, JsonValue, JsonValue, JsonValue, bool]] = [
    ("increment", None, None, 1, 1, True),
    ("increment", None, {"delta": 5}, 5, 5, True),
    ("increment", 10, {"delta": -3}, 7, 7, True),
    ("increment", 1.5, {"delta": 1}, 2.5, 2.5, True),
    ("increment", 4, {"delta": 0}, 4, 4, False),
    ("increment", None, {"delta": 0}, 0, 0, True),
    ("decrement", None, None, -1, -1, True),
    ("decrement", 10, {"delta": 4}, 6, 6, True),
    ("decrement_floor", 10, {"delta": 3}, 7, {"value": 7, "floored": False}, True),
    ("decrement_floor", 2, {"delta": 5}, 0, {"value": 0, "floored": True}, True),
    ("decrement_floor", 0, None, 0, {"value": 0, "floored": True}, False),
    ("decrement_floor", 10, {"delta": 8, "floor": 5}, 5, {"value": 5, "floored": True}, True),
    ("decrement_floor", 3, {"delta": 1, "floor": 5}, 3, {"value": 3, "floored": True}, False),
    ("decrement_floor", None, None, 0, {"value": 0, "floored": True}, True),
    ("multiply", 3, {"factor": 4}, 12, 12, True),
    ("multiply", None, {"factor": 4}, 0, 0, True),
    ("multiply", 2.5, {"factor": 2}, 5.0, 5.0, True),
    ("multiply", 7, {"factor": 1}, 7, 7, False),
    ("put_if_absent", None, {"value": "a"}, "a", True, True),
    ("put_if_absent", "x", {"value": "a"}, "x", False, False),
    ("replace", "x", {"value": "a"}, "a", True, True),
    ("replace", None, {"value": "a"}, None, False, False),
    ("replace_if_equals", {"v": 1}, {"expected": {"v": 1.0}, "value": 2}, 2, True, True),
    ("replace_if_equals", 1, {"expected": True, "value": 2}, 1, False, False),
    ("replace_if_equals", None, {"expected": 1, "value": 2}, None, False, False),
    ("delete_if_equals", [1, 2], {"expected": [1, 2]}, None, True, True),
    ("delete_if_equals", [1, 2], {"expected": [2, 1]}, [1, 2], False, False),
    ("delete_if_equals", None, {"expected": 1}, None, False, False),
    ("array_push", None, {"item": 1}, [1], 1, True),
    ("array_push", [1], {"item": None}, [1, None], 2, True),
    ("array_push", ["a"], {"item": {"x": 1}}, ["a", {"x": 1}], 2, True),
    ("array_pop", [1, 2, 3], None, [1, 2], 3, True),
    ("array_pop", [], None, [], None, False),
    ("array_pop", None, None, None, None, False),
    ("array_remove", [1, 2, 1, 1.0, True], {"item": 1}, [2, True], 3, True),
    ("array_remove", [1, 2], {"item": 3}, [1, 2], 0, False),
    ("array_remove", None, {"item": 3}, None, 0, False),
    ("set_property", None, {"path": "a", "value": 1}, {"a": 1}, None, True),
    ("set_property", {"a": 1}, {"path": "a", "value": 2}, {"a": 2}, 1, True),
    ("set_property", {"a": {"b": 1}}, {"path": "a.c", "value": 2},
     {"a": {"b": 1, "c": 2}}, None, True),
    ("set_property", {"a": None}, {"path": "a.b", "value": 2}, {"a": {"b": 2}}, None, True),
    ("set_property", {}, {"path": ["x.y", "z"], "value": 1}, {"x.y": {"z": 1}}, None, True),
    ("set_property", {"a": 1}, {"path": "a", "value": 1}, {"a": 1}, 1, False),
    ("set_property", {"a": 1}, {"path": "b", "value": None}, {"a": 1, "b": None}, None, True),
    ("delete_property", {"a": 1, "b": 2}, {"path": "a"}, {"b": 2}, 1, True),
    ("delete_property", {"a": {"b": 1, "c": 2}}, {"path": "a.b"}, {"a": {"c": 2}}, 1, True),
    ("delete_property", {"a": 1}, {"path": "z"}, {"a": 1}, None, False),
    ("delete_property", {"a": 1}, {"path": "a.b"}, {"a": 1}, None, False),
    ("delete_property", {"a": {"x": 1}}, {"path": "a.b"}, {"a": {"x": 1}}, None, False),
    ("delete_property", None, {"path": "a"}, None, None, False),
    ("get", {"a": 1}, None, {"a": 1}, {"a": 1}, False),
    ("get", None, None, None, None, False),
    ("get", {"a": {"b": [1]}}, {"path": "a.b"}, {"a": {"b": [1]}}, [1], False),
    ("get", {"a": 1}, {"path": "a.b"}, {"a": 1}, None, False),
    ("conditional_update", {"stock": 3}, {"condition": GT0, "updates": {"stock": 2}},
     {"stock": 2}, True, True),
    ("conditional_update", {"stock": 0}, {"condition": GT0, "updates": {"stock": 2}},
     {"stock": 0}, False, False),
    ("conditional_update", {"stock": 3}, {"condition": GT0, "value": "sold"}, "sold", True, True),
    ("conditional_update", {"stock": 3}, {"condition": GT0, "value": None}, None, True, True),
    ("conditional_update", None, {"condition": GT0, "value": 1}, None, False, False),
    ("merge", {"a": 1, "b": {"x": 1}}, {"value": {"b": {"y": 2}, "c": 3}},
     {"a": 1, "b": {"y": 2}, "c": 3}, None, True),
    ("merge", {"a": 1, "b": {"x": 1}}, {"value": {"b": {"y": 2}}, "deep": True},
     {"a": 1, "b": {"x": 1, "y": 2}}, None, True),
    ("merge", None, {"value": {"a": None}}, {"a": None}, None, True),
    ("merge", {"a": 1}, {"value": {}}, {"a": 1}, None, False),
]  # fmt: skip


def test_every_semantics_builtin_is_registered_with_its_prefix() -> None:
    assert set(BUILTIN_PROCESSORS) == {f"builtin:{n}" for n in SEMANTICS_BUILTINS}
    for name, processor in BUILTIN_PROCESSORS.items():
        assert processor.name == name
        assert processor.summary


@pytest.mark.parametrize(("name", "before", "args", "after", "result", "changed"), CASES)
def test_builtin_cases(
    name: str,
    before: JsonValue,
    args: JsonValue,
    after: JsonValue,
    result: JsonValue,
    changed: bool,
) -> None:
    outcome = run_builtin(f"builtin:{name}", before, "k", args)
    assert outcome == ProcessorOutcome(after, result, changed)
    assert type(outcome.value) is type(after)
    assert outcome.deletes == (changed and after is None)


def test_every_builtin_has_a_case() -> None:
    assert {c[0] for c in CASES} == SEMANTICS_BUILTINS


def test_builtins_never_mutate_their_input() -> None:
    value: JsonValue = {"a": {"b": [1, 2]}, "list": [1]}
    snapshot = {"a": {"b": [1, 2]}, "list": [1]}
    for args in [
        ("set_property", {"path": "a.b", "value": 0}),
        ("delete_property", {"path": "a.b"}),
        ("merge", {"value": {"a": {"c": 1}}, "deep": True}),
        ("conditional_update", {"condition": {"op": "and", "children": []}, "updates": {"a": 1}}),
    ]:
        run_builtin(f"builtin:{args[0]}", value, "k", args[1])
    listed: JsonValue = [1, 2, 3]
    for name in ("array_push", "array_pop", "array_remove"):
        run_builtin(f"builtin:{name}", listed, "k", {"item": 1} if name != "array_pop" else None)
    assert value == snapshot
    assert listed == [1, 2, 3]


BAD: list[tuple[str, JsonValue, JsonValue, str, str]] = [
    ("increment", "x", None, "value", "needs a number value, got string"),
    ("increment", True, None, "value", "got boolean"),
    ("increment", 1, {"delta": "2"}, "args.delta", "must be a finite number, got string"),
    ("increment", 1, {"delta": True}, "args.delta", "got boolean"),
    ("increment", 1, {"delta": math.inf}, "args.delta", "finite"),
    ("increment", 1, {"delat": 2}, "args.delat", "unknown argument; builtin:increment takes delta"),
    ("increment", 1, [1], "args", "takes an object of arguments, got array"),
    ("increment", SAFE_INTEGER_MAX, None, "value", "outside the safe range"),
    ("increment", 1e308, {"delta": 1e308}, "value", "not a finite number"),
    ("decrement", [1], None, "value", "got array"),
    ("decrement_floor", 5, {"delta": -1}, "args.delta", "must be >= 0"),
    ("decrement_floor", "5", None, "value", "needs a number"),
    ("multiply", "abc", {"factor": 2}, "value",
     "builtin:multiply needs a number value, got string"),
    ("multiply", 2, None, "args.factor", "requires this argument"),
    ("multiply", {"n": 1}, {"factor": 2}, "value", "got object"),
    ("put_if_absent", None, {"value": None}, "args.value", "must not be null"),
    ("put_if_absent", None, None, "args.value", "requires"),
    ("replace", 1, {}, "args.value", "requires"),
    ("replace_if_equals", 1, {"value": 2}, "args.expected", "requires"),
    ("replace_if_equals", 1, {"expected": None, "value": 2}, "args.expected", "must not be null"),
    ("delete_if_equals", 1, {"expected": None}, "args.expected", "must not be null"),
    ("array_push", "s", {"item": 1}, "value", "needs an array value, got string"),
    ("array_push", [], None, "args.item", "requires"),
    ("array_pop", {"a": 1}, None, "value", "needs an array value, got object"),
    ("array_pop", [1], {"index": 0}, "args.index", "takes no arguments"),
    ("array_remove", 3, {"item": 1}, "value", "needs an array"),
    ("set_property", [], {"path": "a", "value": 1}, "value", "needs an object value, got array"),
    ("set_property", {"a": 1}, {"path": "a.b", "value": 1}, "args.path",
     "'a' is a number, not an object"),
    ("set_property", {"a": {"b": "s"}}, {"path": "a.b.c", "value": 1}, "args.path",
     "'a.b' is a string"),
    ("set_property", {}, {"path": "", "value": 1}, "args.path", "non-empty"),
    ("set_property", {}, {"path": "a..b", "value": 1}, "args.path", "non-empty"),
    ("set_property", {}, {"path": [], "value": 1}, "args.path", "1 to 32 segments"),
    ("set_property", {}, {"path": ["a", 1], "value": 1}, "args.path", "non-empty string"),
    ("set_property", {}, {"path": 3, "value": 1}, "args.path", "dotted string or a list"),
    ("set_property", {}, {"path": ".".join("a" * 33), "value": 1}, "args.path", "1 to 32"),
    ("set_property", {}, {"path": "a"}, "args.value", "requires"),
    ("delete_property", "s", {"path": "a"}, "value", "needs an object"),
    ("get", 1, {"path": 5}, "args.path", "dotted string"),
    ("conditional_update", {}, {"value": 1}, "args.condition", "requires"),
    ("conditional_update", {}, {"condition": GT0}, "args", "exactly one of 'value', 'updates'"),
    ("conditional_update", {}, {"condition": GT0, "value": 1, "updates": {}}, "args",
     "exactly one"),
    ("conditional_update", {}, {"condition": {"op": "nope"}, "value": 1}, "args.condition.op",
     "unknown operator"),
    ("conditional_update", {}, {"condition": 1, "value": 1}, "args.condition", "must be an object"),
    ("conditional_update", 5, {"condition": {"op": "and", "children": []}, "updates": {"a": 1}},
     "value", "needs an object"),
    ("merge", {}, {"value": [1]}, "args.value", "must be an object, got array"),
    ("merge", {}, {"value": {}, "deep": "yes"}, "args.deep", "must be a boolean"),
    ("merge", 5, {"value": {}}, "value", "needs an object value, got number"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "args", "field", "problem"), BAD)
def test_bad_args_and_values_are_clear_validation_errors(
    name: str, value: JsonValue, args: JsonValue, field: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        run_builtin(f"builtin:{name}", value, "k", args)
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert caught.value.code == 400


@pytest.mark.parametrize(
    ("name", "hint"),
    [("increment", "did you mean 'builtin:increment'?"), ("builtin:nope", "known: increment")],
)
def test_unknown_builtin_names(name: str, hint: str) -> None:
    with pytest.raises(ValidationError, match="unknown built-in processor") as caught:
        run_builtin(name, 1, "k")
    assert caught.value.field == "processor.name"
    assert hint in caught.value.problem


def test_growing_a_value_past_the_result_limit_is_refused() -> None:
    big = ["x" * 1000] * (PROCESSOR_RESULT_BYTES_MAX // 1003)
    with pytest.raises(FieldLimitExceeded) as caught:
        run_builtin("builtin:array_push", big, "k", {"item": "y" * 10_000})
    assert caught.value.limit == "processor_result_bytes_max"
    assert caught.value.field == "value"


# ---------------------------------------------------------------- ProcessorRequest


def test_request_from_wire_builtin_and_code() -> None:
    builtin = ProcessorRequest.from_wire({"name": "builtin:increment", "args": {"delta": (1)}})
    assert builtin.is_builtin
    assert builtin.run_builtin(41, "k") == ProcessorOutcome(42, 42, changed=True)
    code = ProcessorRequest.from_wire({"name": "double", "code": "return {'value': value * 2}"})
    assert not code.is_builtin
    assert code.args is None
    with pytest.raises(ValueError, match="sandbox"):
        code.run_builtin(1, "k")


def test_request_args_are_copied_to_plain_json() -> None:
    args = {"t": (1, 2)}
    request = ProcessorRequest("builtin:array_push", args={"item": args})
    assert request.args == {"item": {"t": [1, 2]}}


@pytest.mark.parametrize(
    ("wire", "field", "problem"),
    [
        ("x", "processor", "must be an object"),
        ({"name": "builtin:get", "extra": 1}, "processor", "unexpected fields ['extra']"),
        ({"code": "return 1"}, "processor.name", "must be a string, got null"),
        ({"name": ""}, "processor.name", "non-empty"),
        ({"name": "builtin:nope"}, "processor.name", "unknown built-in"),
        ({"name": "increment"}, "processor.name", "did you mean"),
        ({"name": "x", "code": 5}, "processor.code", "must be a string"),
        ({"name": "x", "code": "   "}, "processor.code", "non-empty"),
        ({"name": "builtin:get", "code": "return 1"}, "processor.name", "takes no code"),
        ({"name": "builtin:get", "args": {1, 2}}, "processor.args", "set is not a JSON value"),
        ({"name": "builtin:get", "args": {"x": math.nan}}, "processor.args.x", "finite"),
        ({"name": "builtin:increment", "args": {"delta": "1"}}, "args.delta", "finite number"),
        ({"name": "builtin:multiply"}, "args.factor", "requires this argument"),
    ],
)
def test_request_validation(wire: object, field: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ProcessorRequest.from_wire(wire)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("wire", "limit"),
    [
        ({"name": "x", "code": "#" * (PROCESSOR_CODE_CHARS_MAX + 1)}, "processor_code_chars_max"),
        ({"name": "x" * 257, "code": "return 1"}, "processor_name_chars_max"),
        (
            {"name": "builtin:get", "args": {"a": "x" * PROCESSOR_ARGS_BYTES_MAX}},
            "processor_args_bytes_max",
        ),
    ],
)
def test_request_limits(wire: dict[str, object], limit: str) -> None:
    with pytest.raises(LimitExceeded) as caught:
        ProcessorRequest.from_wire(wire)
    assert caught.value.limit == limit
    assert caught.value.code == 413


def test_code_at_the_limit_is_accepted() -> None:
    ProcessorRequest("x", code="#" * PROCESSOR_CODE_CHARS_MAX)
    assert PROCESSOR_TIMEOUT_MS_DEFAULT == 100


# ---------------------------------------------------------------- user-code results


@pytest.mark.parametrize(
    ("raw", "previous", "expected"),
    [
        ({"value": 2, "result": "ok"}, 1, ProcessorOutcome(2, "ok", changed=True)),
        ({"value": 1}, 1, ProcessorOutcome(1, None, changed=False)),
        ({"value": 1.0}, 1, ProcessorOutcome(1.0, None, changed=False)),
        ({"value": True}, 1, ProcessorOutcome(value=True, changed=True)),
        ({"value": None, "result": 5}, {"a": 1}, ProcessorOutcome(None, 5, changed=True)),
        ({"value": None}, None, ProcessorOutcome(None, None, changed=False)),
        ({"value": (1, [2, (3,)])}, None, ProcessorOutcome([1, [2, [3]]], None, changed=True)),
        ({"value": {"b": b"\x00"}}, None, ProcessorOutcome({"b": b"\x00"}, None, changed=True)),
    ],
)
def test_valid_results(raw: object, previous: JsonValue, expected: ProcessorOutcome) -> None:
    outcome = validate_processor_result(raw, previous=previous)
    assert outcome == expected
    assert outcome.deletes == (expected.changed and expected.value is None)


class _Custom:
    pass


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        (None, "result", "must return a dict {'value': new_value, 'result': anything}, got null"),
        (5, "result", "got number"),
        ([1], "result", "got array"),
        ({}, "result", "missing 'value'"),
        ({"result": 1}, "result", "missing 'value'"),
        ({"value": 1, "vaule": 2}, "result", "unexpected keys 'vaule'"),
        ({"value": 1, 3: 2}, "result", "unexpected keys 3"),
        ({"value": {1, 2}}, "result.value", "a set is not a JSON value"),
        ({"value": _Custom()}, "result.value", "_Custom is not a JSON value"),
        ({"value": {"a": [1, math.nan]}}, "result.value.a.1", "finite"),
        ({"value": math.inf}, "result.value", "finite"),
        ({"value": {1: "x"}}, "result.value", "keys must be strings, got number"),
        ({"value": 2**64}, "result.value", "outside [-2**63, 2**64 - 1]"),
        ({"value": -(2**63) - 1}, "result.value", "outside"),
        ({"value": "\ud800"}, "result.value", "lone surrogates"),
        ({"value": 1, "result": print}, "result.result", "is not a JSON value"),
    ],
)
def test_invalid_results(raw: object, field: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_processor_result(raw, previous=None)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_result_nesting_is_bounded_including_cycles() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(VALUE_DEPTH_MAX + 5):
        child: list[object] = []
        node.append(child)
        node = child
    with pytest.raises(ValidationError, match="nested deeper than"):
        validate_processor_result({"value": deep}, previous=None)
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(ValidationError, match="nested deeper than"):
        validate_processor_result({"value": cycle}, previous=None)


def test_oversize_results_are_refused_early() -> None:
    with pytest.raises(FieldLimitExceeded) as caught:
        validate_processor_result({"value": "x" * PROCESSOR_RESULT_BYTES_MAX}, previous=None)
    assert caught.value.limit == "processor_result_bytes_max"
    assert caught.value.field == "result"
    many = {"value": [0] * 2_000_000}  # the walk stops once the byte budget is spent
    with pytest.raises(FieldLimitExceeded):
        validate_processor_result(many, previous=None)
    huge_result = {"value": 1, "result": ["y" * 1000] * 2000}
    with pytest.raises(FieldLimitExceeded):
        validate_processor_result(huge_result, previous=None)


def test_results_are_copied_out_of_the_callers_objects() -> None:
    inner = {"a": [1]}
    outcome = validate_processor_result({"value": inner}, previous=None)
    inner["a"].append(2)
    assert outcome.value == {"a": [1]}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_check_json_value_size_is_the_exact_msgpack_size(value: JsonValue) -> None:
    import msgpack

    size = len(msgpack.packb(value))
    assert check_json_value(value, "v", bytes_max=size, limit="l") == value
    with pytest.raises(FieldLimitExceeded):
        check_json_value(value, "v", bytes_max=size - 1, limit="l")


def test_deep_merge_values() -> None:
    base: JsonValue = {"a": {"x": 1, "y": [1]}, "b": 1}
    patch: JsonValue = {"a": {"y": [2], "z": None}, "c": 2}
    assert deep_merge_values(base, patch) == {"a": {"x": 1, "y": [2], "z": None}, "b": 1, "c": 2}
    assert base == {"a": {"x": 1, "y": [1]}, "b": 1}
    assert deep_merge_values({"a": 1}, [1]) == [1]
    assert deep_merge_values(1, {"a": 1}) == {"a": 1}
