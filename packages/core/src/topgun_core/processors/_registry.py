"""The registry of built-in processors, :func:`run_builtin`, and :class:`ProcessorRequest`.

``BUILTIN_PROCESSORS`` maps each ``builtin:<name>`` to a :class:`BuiltinProcessor`
record: its argument schema (``ArgSpec`` tuple), a one-line summary and the pure
function. :meth:`BuiltinProcessor.run` binds the arguments, runs the function and
bounds the size of a container value it produced (array_push and friends must not
grow a value past :data:`PROCESSOR_RESULT_BYTES_MAX`).

:class:`ProcessorRequest` is the validated form of the wire's
``processor {name, code?, args?}``: a built-in (``code`` absent, ``name`` a known
``builtin:<name>``) or user code (``code`` given, ``name`` a free label that must not
start with ``builtin:``), with ``args`` checked as JSON within
:data:`PROCESSOR_ARGS_BYTES_MAX`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeAlias

from topgun_core.errors import ValidationError
from topgun_core.processors import _builtins as b
from topgun_core.processors._args import ArgSpec, BoundArgs, bind_args
from topgun_core.processors._json import check_json_value, type_name
from topgun_core.processors._outcome import (
    PROCESSOR_ARGS_BYTES_MAX,
    PROCESSOR_CODE_CHARS_MAX,
    PROCESSOR_NAME_CHARS_MAX,
    PROCESSOR_RESULT_BYTES_MAX,
    ProcessorOutcome,
)
from topgun_core.protocol import FieldLimitExceeded
from topgun_core.values import JsonValue

__all__ = [
    "BUILTIN_PREFIX",
    "BUILTIN_PROCESSORS",
    "BuiltinProcessor",
    "ProcessorFunction",
    "ProcessorRequest",
    "run_builtin",
]

BUILTIN_PREFIX: Final = "builtin:"
"""Every built-in processor's name starts with this."""

ProcessorFunction: TypeAlias = Callable[[JsonValue, str, BoundArgs], ProcessorOutcome]
"""A built-in's pure function: ``(value, key, bound args) -> outcome``."""


@dataclass(frozen=True, slots=True)
class BuiltinProcessor:
    """A built-in entry processor: ``name`` (``builtin:<x>``), argument schema, function."""

    name: str
    args: tuple[ArgSpec, ...]
    function: ProcessorFunction
    summary: str

    def run(self, value: JsonValue, key: str, args: JsonValue = None) -> ProcessorOutcome:
        """Check ``args`` against the schema and run on ``value`` (``None`` = absent key)."""
        outcome = self.function(value, key, bind_args(self.name, self.args, args))
        if outcome.changed and isinstance(outcome.value, list | dict):
            check_json_value(
                outcome.value,
                "value",
                bytes_max=PROCESSOR_RESULT_BYTES_MAX,
                limit="processor_result_bytes_max",
            )
        return outcome


_DELTA = ArgSpec("delta", "number", default=1, doc="amount to add or subtract")
_PATH = ArgSpec("path", "path", required=True, doc="dotted string or list of property names")


def _builtin(
    name: str, function: ProcessorFunction, summary: str, *args: ArgSpec
) -> BuiltinProcessor:
    return BuiltinProcessor(BUILTIN_PREFIX + name, args, function, summary)


_ALL: Final = (
    _builtin("increment", b.increment, "add delta (default 1), from 0", _DELTA),
    _builtin("decrement", b.decrement, "subtract delta (default 1), from 0", _DELTA),
    _builtin(
        "decrement_floor",
        b.decrement_floor,
        "subtract delta but never below floor",
        ArgSpec("delta", "non_negative", default=1),
        ArgSpec("floor", "number", default=0),
    ),
    _builtin(
        "multiply",
        b.multiply,
        "multiply by factor, from 0",
        ArgSpec("factor", "number", required=True),
    ),
    _builtin(
        "put_if_absent",
        b.put_if_absent,
        "store value if the key is absent",
        ArgSpec("value", "present", required=True),
    ),
    _builtin(
        "replace",
        b.replace,
        "store value if the key is present",
        ArgSpec("value", "present", required=True),
    ),
    _builtin(
        "replace_if_equals",
        b.replace_if_equals,
        "store value if the current value equals expected",
        ArgSpec("expected", "present", required=True),
        ArgSpec("value", "present", required=True),
    ),
    _builtin(
        "delete_if_equals",
        b.delete_if_equals,
        "delete the key if its value equals expected",
        ArgSpec("expected", "present", required=True),
    ),
    _builtin("array_push", b.array_push, "append item", ArgSpec("item", "any", required=True)),
    _builtin("array_pop", b.array_pop, "remove and return the last item"),
    _builtin(
        "array_remove",
        b.array_remove,
        "remove every item equal to item",
        ArgSpec("item", "any", required=True),
    ),
    _builtin(
        "set_property",
        b.set_property,
        "set the property at path",
        _PATH,
        ArgSpec("value", "any", required=True),
    ),
    _builtin("delete_property", b.delete_property, "remove the property at path", _PATH),
    _builtin("get", b.get, "return the value (or the property at path)", ArgSpec("path", "path")),
    _builtin(
        "conditional_update",
        b.conditional_update,
        "if condition holds on the value, replace it (value) or merge into it (updates)",
        ArgSpec("condition", "predicate", required=True),
        ArgSpec("value", "any"),
        ArgSpec("updates", "object"),
    ),
    _builtin(
        "merge",
        b.merge,
        "merge the object value into the current object (deep: recursively)",
        ArgSpec("value", "object", required=True),
        ArgSpec("deep", "boolean", default=False),
    ),
)

BUILTIN_PROCESSORS: Final[Mapping[str, BuiltinProcessor]] = MappingProxyType(
    {p.name: p for p in _ALL}
)
"""Every built-in processor by its full name (``builtin:increment``...)."""


def run_builtin(name: str, value: JsonValue, key: str, args: JsonValue = None) -> ProcessorOutcome:
    """Run built-in ``name`` on ``value`` (the key's current value; ``None`` = absent).

    Raises ``ValidationError`` for an unknown name, bad ``args`` (naming the
    argument) or a value of the wrong type (field ``value``).
    """
    return _lookup(name).run(value, key, args)


def _lookup(name: str) -> BuiltinProcessor:
    processor = BUILTIN_PROCESSORS.get(name)
    if processor is not None:
        return processor
    if BUILTIN_PREFIX + name in BUILTIN_PROCESSORS:
        hint = f"; did you mean {BUILTIN_PREFIX + name!r}?"
    else:
        hint = f"; known: {', '.join(n.removeprefix(BUILTIN_PREFIX) for n in BUILTIN_PROCESSORS)}"
    raise ValidationError("processor.name", f"unknown built-in processor {name!r}{hint}")


@dataclass(frozen=True, slots=True)
class ProcessorRequest:
    """A validated processor request: a built-in by ``name``, or user ``code`` with a label.

    Construct with :meth:`from_wire` (or directly; the same checks run in
    ``__post_init__``). ``args`` is the checked, plain JSON copy; a built-in's
    arguments are also checked against its schema here, so a batch with bad
    arguments fails once, before any key is touched.
    """

    name: str
    code: str | None = None
    args: JsonValue = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValidationError("processor.name", "must be a non-empty string")
        if len(self.name) > PROCESSOR_NAME_CHARS_MAX:
            raise FieldLimitExceeded(
                "processor.name",
                "processor_name_chars_max",
                len(self.name),
                PROCESSOR_NAME_CHARS_MAX,
            )
        if self.code is not None:
            _check_code(self.name, self.code)
        args = check_json_value(
            self.args,
            "processor.args",
            bytes_max=PROCESSOR_ARGS_BYTES_MAX,
            limit="processor_args_bytes_max",
        )
        if self.code is None:  # check a built-in's arguments once, before any key
            builtin = _lookup(self.name)
            bind_args(builtin.name, builtin.args, args)
        object.__setattr__(self, "args", args)

    @property
    def is_builtin(self) -> bool:
        """Whether this names a built-in (no user code to sandbox)."""
        return self.code is None

    @classmethod
    def from_wire(cls, processor: Mapping[str, object]) -> ProcessorRequest:
        """Validate the wire's ``processor {name, code?, args?}``."""
        if not isinstance(processor, Mapping):
            raise ValidationError("processor", f"must be an object, got {type_name(processor)}")
        extra = sorted(str(k) for k in processor if k not in {"name", "code", "args"})
        if extra:
            raise ValidationError("processor", f"unexpected fields {extra}; use name, code, args")
        name, code = processor.get("name"), processor.get("code")
        if not isinstance(name, str):
            raise ValidationError("processor.name", f"must be a string, got {type_name(name)}")
        if code is not None and not isinstance(code, str):
            raise ValidationError("processor.code", f"must be a string, got {type_name(code)}")
        args = check_json_value(
            processor.get("args"),
            "processor.args",
            bytes_max=PROCESSOR_ARGS_BYTES_MAX,
            limit="processor_args_bytes_max",
        )
        return cls(name, code, args)

    def run_builtin(self, value: JsonValue, key: str) -> ProcessorOutcome:
        """Run this request's built-in on ``value`` (only for :attr:`is_builtin` requests)."""
        if self.code is not None:
            raise ValueError("user code runs in the sandbox, not through run_builtin")
        return run_builtin(self.name, value, key, self.args)


def _check_code(name: str, code: str) -> None:
    if not code.strip():
        raise ValidationError("processor.code", "must be a non-empty string of Python source")
    if len(code) > PROCESSOR_CODE_CHARS_MAX:
        raise FieldLimitExceeded(
            "processor.code", "processor_code_chars_max", len(code), PROCESSOR_CODE_CHARS_MAX
        )
    if name.startswith(BUILTIN_PREFIX):
        raise ValidationError("processor.name", f"{name!r} names a built-in, which takes no code")
