"""What a conflict resolver sees (:class:`MergeContext`) and says (:class:`ResolverDecision`).

A resolver is consulted for an incoming write to one key. It sees the map and key,
the local and remote values and timestamps, the writing node and the caller's
identity, and answers one of four actions:

- ``accept`` — the remote write wins, with ``value`` (by default the remote value),
  even if its timestamp is older than the local one;
- ``merge`` — write ``value``, a combination of both; the writer holds something
  else, so the server sends the merged value back to it as well;
- ``reject`` — write nothing and tell the writer why (``MERGE_REJECTED`` with
  ``reason``);
- ``local`` — no opinion: the next resolver decides. As the *final* answer of a
  chain (see ``_chain``) it means "keep the local value, silently" — what LWW
  does with a stale write.

User code is the body of ``def resolve(ctx)`` and returns ``{"action": ...,
"value"?: ..., "reason"?: ...}``; :func:`validate_resolver_decision` turns that raw
return into a decision or a clear error. :meth:`MergeContext.to_record` is the plain
(msgpack-friendly) form of the context handed to the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, TypedDict

from topgun_core.errors import ValidationError
from topgun_core.hlc import Timestamp
from topgun_core.policies import Principal
from topgun_core.processors import PROCESSOR_RESULT_BYTES_MAX, check_json_value
from topgun_core.protocol import FieldLimitExceeded
from topgun_core.values import JsonValue

__all__ = [
    "RESOLVER_ACTIONS",
    "RESOLVER_REASON_CHARS_MAX",
    "RESOLVER_VALUE_BYTES_MAX",
    "AuthRecord",
    "MergeContext",
    "MergeContextRecord",
    "ResolverAction",
    "ResolverDecision",
    "TimestampRecord",
    "validate_resolver_decision",
]

ResolverAction: TypeAlias = Literal["accept", "merge", "reject", "local"]
RESOLVER_ACTIONS: Final[frozenset[str]] = frozenset({"accept", "merge", "reject", "local"})
RESOLVER_REASON_CHARS_MAX: Final = 1024
"""Characters of a rejection reason (it travels to the writer in ``MERGE_REJECTED``)."""
RESOLVER_VALUE_BYTES_MAX: Final = PROCESSOR_RESULT_BYTES_MAX
"""msgpack-encoded bytes of what resolver user code returns."""

_DECISION_KEYS: Final = frozenset({"action", "value", "reason"})


class TimestampRecord(TypedDict):
    """A timestamp as user code sees it."""

    millis: int
    counter: int
    node_id: str


class AuthRecord(TypedDict):
    """The caller as user code sees it (``roles`` sorted)."""

    user_id: str
    roles: list[str]


class MergeContextRecord(TypedDict):
    """:class:`MergeContext` as plain data, for the sandbox (attribute names as keys)."""

    map_name: str
    key: str
    local_value: JsonValue
    remote_value: JsonValue
    local_timestamp: TimestampRecord | None
    remote_timestamp: TimestampRecord
    remote_node_id: str
    auth: AuthRecord | None


def _timestamp_record(ts: Timestamp) -> TimestampRecord:
    return {"millis": ts.millis, "counter": ts.counter, "node_id": ts.node_id}


@dataclass(frozen=True, slots=True)
class MergeContext:
    """Everything a resolver may look at for one incoming write.

    - ``local_value`` / ``local_timestamp``: the key's current value and stamp;
      ``None`` value when absent or deleted, ``None`` stamp when there is no record.
    - ``remote_value`` / ``remote_timestamp``: the incoming write; ``None`` value
      is a removal.
    - ``remote_node_id``: the node (client or server) that stamped the write.
    - ``auth``: the writing client's principal, or ``None`` for a write that did
      not come from a client connection (the server itself, e.g. an admin import).
    """

    map_name: str
    key: str
    local_value: JsonValue
    remote_value: JsonValue
    local_timestamp: Timestamp | None
    remote_timestamp: Timestamp
    remote_node_id: str
    auth: Principal | None = None

    def to_record(self) -> MergeContextRecord:
        """The context as plain data for user code (timestamps and auth as dicts)."""
        local_ts = self.local_timestamp
        return {
            "map_name": self.map_name,
            "key": self.key,
            "local_value": self.local_value,
            "remote_value": self.remote_value,
            "local_timestamp": None if local_ts is None else _timestamp_record(local_ts),
            "remote_timestamp": _timestamp_record(self.remote_timestamp),
            "remote_node_id": self.remote_node_id,
            "auth": None
            if self.auth is None
            else {"user_id": self.auth.user_id, "roles": sorted(self.auth.roles)},
        }


@dataclass(frozen=True, slots=True)
class ResolverDecision:
    """A resolver's answer (module docstring). Build with the class methods.

    ``value`` is meaningful for ``accept`` and ``merge`` (``None``: a removal),
    ``reason`` for ``reject``. ``resolver`` names the resolver that decided; the
    chain sets it (``"lww"`` for the fallback).
    """

    action: ResolverAction
    value: JsonValue = None
    reason: str | None = None
    resolver: str | None = None

    @classmethod
    def accept(cls, value: JsonValue) -> ResolverDecision:
        """The remote write wins with ``value`` (normally the remote value)."""
        return cls("accept", value)

    @classmethod
    def merge(cls, value: JsonValue) -> ResolverDecision:
        """Write ``value``, computed from both sides."""
        return cls("merge", value)

    @classmethod
    def reject(cls, reason: str) -> ResolverDecision:
        """Refuse the write; ``reason`` goes to the writer."""
        return cls("reject", reason=reason)

    @classmethod
    def local(cls) -> ResolverDecision:
        """No opinion (next resolver); as a chain's final answer, keep the local value."""
        return cls("local")

    @property
    def writes(self) -> bool:
        """Whether the decision writes ``value`` (``accept`` or ``merge``)."""
        return self.action in ("accept", "merge")


def validate_resolver_decision(obj: object, ctx: MergeContext) -> ResolverDecision:
    """Turn what resolver user code returned into a decision, or raise a clear error.

    ``obj`` must be a dict ``{"action", "value"?, "reason"?}`` with no other keys:
    ``accept`` takes an optional ``value`` (default: ``ctx.remote_value``),
    ``merge`` requires ``value``, ``reject`` takes an optional string ``reason`` (at
    most :data:`RESOLVER_REASON_CHARS_MAX` characters), ``local`` takes neither.
    Values must be JSON-like within :data:`RESOLVER_VALUE_BYTES_MAX`.
    """
    if not isinstance(obj, dict):
        raise ValidationError(
            "decision",
            "resolve() must return a dict {'action': ..., 'value'?: ..., 'reason'?: ...}",
        )
    extra = sorted(repr(k) for k in obj if k not in _DECISION_KEYS)
    if extra:
        raise ValidationError(
            "decision", f"unexpected keys {', '.join(extra)}; use action, value, reason"
        )
    action = obj.get("action")
    if not isinstance(action, str) or action not in RESOLVER_ACTIONS:
        raise ValidationError(
            "decision.action", f"must be one of accept, merge, reject, local; got {action!r}"
        )
    if "value" in obj and action in ("reject", "local"):
        raise ValidationError("decision.value", f"{action} takes no value")
    if "reason" in obj and action != "reject":
        raise ValidationError("decision.reason", f"only reject takes a reason, not {action}")
    if action == "reject":
        return ResolverDecision.reject(_reason(obj.get("reason")))
    if action == "local":
        return ResolverDecision.local()
    if action == "merge" and "value" not in obj:
        raise ValidationError("decision.value", "merge requires the merged value")
    value = (
        check_json_value(
            obj["value"],
            "decision.value",
            bytes_max=RESOLVER_VALUE_BYTES_MAX,
            limit="resolver_value_bytes_max",
        )
        if "value" in obj
        else ctx.remote_value
    )
    return ResolverDecision(action="accept" if action == "accept" else "merge", value=value)


def _reason(reason: object) -> str:
    if reason is None:
        return "rejected by a conflict resolver"
    if not isinstance(reason, str):
        raise ValidationError("decision.reason", "must be a string")
    if len(reason) > RESOLVER_REASON_CHARS_MAX:
        raise FieldLimitExceeded(
            "decision.reason", "resolver_reason_chars_max", len(reason), RESOLVER_REASON_CHARS_MAX
        )
    return reason
