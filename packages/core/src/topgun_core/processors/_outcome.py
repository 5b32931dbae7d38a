"""What an entry processor produces, the limits on user code, and checking its output.

An entry processor turns the current value of one key into a
:class:`ProcessorOutcome`: the key's value afterwards (``None`` — the key is absent,
so deleted if it existed), a ``result`` for the caller, and whether anything changed
(only a change is persisted, replicated, journaled and broadcast).

User code is the body of ``def process(value, key, args)`` and returns
``{"value": new_value, "result": anything}``. The sandbox hands back whatever the
code returned; :func:`validate_processor_result` is the single place that turns it
into an outcome or a clear error, so the server never stores a value it could not
encode. A missing return (``None``) is an error, not a deletion: deleting takes an
explicit ``{"value": None}``, so a forgotten ``return`` cannot wipe data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from topgun_core.errors import ValidationError
from topgun_core.or_map import json_equal
from topgun_core.processors._json import check_json_value, type_name
from topgun_core.values import JsonValue

__all__ = [
    "PROCESSOR_ARGS_BYTES_MAX",
    "PROCESSOR_CODE_CHARS_MAX",
    "PROCESSOR_NAME_CHARS_MAX",
    "PROCESSOR_RESULT_BYTES_MAX",
    "PROCESSOR_TIMEOUT_MS_DEFAULT",
    "ProcessorOutcome",
    "validate_processor_result",
]

PROCESSOR_CODE_CHARS_MAX: Final = 32_768
"""Characters of user processor (and resolver) source code."""
PROCESSOR_ARGS_BYTES_MAX: Final = 65_536
"""msgpack-encoded bytes of a processor's ``args``."""
PROCESSOR_RESULT_BYTES_MAX: Final = 1_048_576
"""msgpack-encoded bytes of what user code returns (``{"value", "result"}`` together)."""
PROCESSOR_TIMEOUT_MS_DEFAULT: Final = 100
"""Default hard wall-clock limit on one user-code execution, in milliseconds."""
PROCESSOR_NAME_CHARS_MAX: Final = 256
"""Characters of a processor name (``builtin:<name>`` or a label for user code)."""

_RESULT_KEYS: Final = frozenset({"value", "result"})


@dataclass(frozen=True, slots=True)
class ProcessorOutcome:
    """The effect of running a processor on one key.

    - ``value``: the key's value afterwards; ``None`` means the key is absent.
    - ``result``: what the caller gets back (``ENTRY_PROCESS_RESPONSE.result``).
    - ``changed``: whether the key must be written (``value`` differs from before,
      by :func:`~topgun_core.or_map.json_equal`). When false, nothing is persisted,
      journaled or broadcast.
    """

    value: JsonValue
    result: JsonValue = None
    changed: bool = False

    @property
    def deletes(self) -> bool:
        """Whether applying the outcome removes the key (writes a tombstone)."""
        return self.changed and self.value is None

    @classmethod
    def unchanged(cls, value: JsonValue, result: JsonValue = None) -> ProcessorOutcome:
        """An outcome that leaves ``value`` as it is and answers ``result``."""
        return cls(value, result, changed=False)

    @classmethod
    def transition(
        cls, previous: JsonValue, value: JsonValue, result: JsonValue = None
    ) -> ProcessorOutcome:
        """An outcome moving the key from ``previous`` to ``value``; ``changed`` is computed."""
        return cls(value, result, changed=not json_equal(previous, value))


def validate_processor_result(obj: object, *, previous: JsonValue) -> ProcessorOutcome:
    """Turn what user code returned into an outcome, or raise a clear error.

    ``obj`` must be a dict with a ``"value"`` key and optionally ``"result"`` (no
    other keys); both must be JSON-like values (see ``_json``) whose msgpack encoding
    together stays within :data:`PROCESSOR_RESULT_BYTES_MAX`. ``previous`` is the
    key's value before the run (``None`` when absent), used to compute ``changed``.

    Raises ``ValidationError`` (field ``result`` or ``result.<path>``) or
    ``FieldLimitExceeded`` (limit ``processor_result_bytes_max``).
    """
    if not isinstance(obj, dict):
        raise ValidationError(
            "result",
            "process() must return a dict {'value': new_value, 'result': anything}, "
            f"got {type_name(obj)}",
        )
    keys = set(obj)
    if not all(isinstance(k, str) for k in keys) or not keys <= _RESULT_KEYS:
        extra = sorted(repr(k) for k in keys - _RESULT_KEYS)
        raise ValidationError(
            "result", f"unexpected keys {', '.join(extra)}; use 'value', 'result'"
        )
    if "value" not in obj:
        raise ValidationError(
            "result", "missing 'value' (return {'value': None} to delete the key)"
        )
    checked = check_json_value(
        obj, "result", bytes_max=PROCESSOR_RESULT_BYTES_MAX, limit="processor_result_bytes_max"
    )
    assert isinstance(checked, dict)
    return ProcessorOutcome.transition(previous, checked["value"], checked.get("result"))
