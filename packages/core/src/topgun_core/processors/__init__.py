"""Entry processors: pure built-ins, the user-code contract, and its limits.

An entry processor runs atomically on one key of a map: it sees the key's current
``value`` (``None`` when absent), the ``key`` and the caller's ``args``, and
produces a :class:`ProcessorOutcome` — the value afterwards (``None``: the key is
deleted), a ``result`` for the caller and whether anything changed (only changes
are persisted, replicated, journaled and broadcast; SEMANTICS.md §11).

- **Built-ins** are named ``builtin:<name>`` and are plain functions in this
  package (``_builtins``), with declared argument schemas (``_args``) collected in
  :data:`BUILTIN_PROCESSORS`; :func:`run_builtin` looks one up, checks the
  arguments and runs it. Bad arguments and values of the wrong type are
  :class:`~topgun_core.errors.ValidationError` naming the argument (``args.delta``)
  or ``value``.
- **User code** is the body of ``def process(value, key, args)`` and returns
  ``{"value": new_value, "result": anything}``; ``"value": None`` deletes the key.
  The server runs it in a sandbox (not here); :class:`ProcessorRequest` validates
  the request first (code and argument limits) and
  :func:`validate_processor_result` turns the sandbox's raw return into an outcome
  or a clear error (shape, JSON-ness, size).
- **Limits** are named constants: :data:`PROCESSOR_CODE_CHARS_MAX`,
  :data:`PROCESSOR_ARGS_BYTES_MAX`, :data:`PROCESSOR_RESULT_BYTES_MAX`,
  :data:`PROCESSOR_TIMEOUT_MS_DEFAULT`, :data:`PROCESSOR_NAME_CHARS_MAX`.

Typical server use::

    request = ProcessorRequest.from_wire(message["processor"])
    if request.is_builtin:
        outcome = request.run_builtin(current_value, key)
    else:
        outcome = validate_processor_result(sandbox.run(request, ...), previous=current_value)
    if outcome.changed:
        ...  # write outcome.value (a tombstone when outcome.deletes), journal, broadcast
"""

from topgun_core.processors._args import (
    NO_DEFAULT,
    PATH_SEGMENTS_MAX,
    ArgKind,
    ArgSpec,
    BoundArgs,
    bind_args,
)
from topgun_core.processors._builtins import SAFE_INTEGER_MAX
from topgun_core.processors._json import (
    VALUE_DEPTH_MAX,
    check_json_value,
    deep_merge_values,
)
from topgun_core.processors._outcome import (
    PROCESSOR_ARGS_BYTES_MAX,
    PROCESSOR_CODE_CHARS_MAX,
    PROCESSOR_NAME_CHARS_MAX,
    PROCESSOR_RESULT_BYTES_MAX,
    PROCESSOR_TIMEOUT_MS_DEFAULT,
    ProcessorOutcome,
    validate_processor_result,
)
from topgun_core.processors._registry import (
    BUILTIN_PREFIX,
    BUILTIN_PROCESSORS,
    BuiltinProcessor,
    ProcessorFunction,
    ProcessorRequest,
    run_builtin,
)

__all__ = [
    "BUILTIN_PREFIX",
    "BUILTIN_PROCESSORS",
    "NO_DEFAULT",
    "PATH_SEGMENTS_MAX",
    "PROCESSOR_ARGS_BYTES_MAX",
    "PROCESSOR_CODE_CHARS_MAX",
    "PROCESSOR_NAME_CHARS_MAX",
    "PROCESSOR_RESULT_BYTES_MAX",
    "PROCESSOR_TIMEOUT_MS_DEFAULT",
    "SAFE_INTEGER_MAX",
    "VALUE_DEPTH_MAX",
    "ArgKind",
    "ArgSpec",
    "BoundArgs",
    "BuiltinProcessor",
    "ProcessorFunction",
    "ProcessorOutcome",
    "ProcessorRequest",
    "bind_args",
    "check_json_value",
    "deep_merge_values",
    "run_builtin",
    "validate_processor_result",
]
