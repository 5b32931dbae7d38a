"""Conflict resolvers: who wins when a write meets the value already stored.

The server consults a map's resolvers for every incoming write (SEMANTICS.md §11):

- :class:`MergeContext` is what a resolver sees — map, key, local and remote
  values and timestamps, the writing node, the caller's principal — and
  :class:`ResolverDecision` what it answers: ``accept`` / ``merge`` (write a value),
  ``reject`` (refuse, ``MERGE_REJECTED`` to the writer) or ``local`` (no opinion).
- :data:`BUILTIN_RESOLVERS` holds the eleven built-ins as pure functions
  (``_builtins`` documents each rule, including ``owner_only`` and
  ``version_increment``).
- :class:`ResolverSpec` is one registration (built-in or code, priority, key glob,
  registering client, persistence); :class:`ResolverChain` orders a map's
  registrations and decides; :class:`ResolverRegistry` holds every map's chain and
  drops a client's resolvers on disconnect.
- Custom resolvers are Python code run by the server's sandbox; the chain calls
  it through an injected :data:`CustomResolverRunner` and stays pure.
  :func:`validate_resolver_decision` turns the code's raw return into a decision.

Typical server use::

    registry.register("scores", ResolverSpec.from_wire(msg["resolver"], registered_by=client_id))
    decision = registry.resolve(ctx, run_custom=sandbox_runner)
    match decision.action:
        case "accept" | "merge": ...  # write decision.value; on merge also answer the writer
        case "reject": ...            # MERGE_REJECTED {reason: decision.reason} to the writer
        case "local": ...             # nothing to write, nothing to say
"""

from topgun_core.resolvers._builtins import BUILTIN_RESOLVERS, ResolverFunction, owner_of
from topgun_core.resolvers._chain import (
    RESOLVER_CODE_CHARS_MAX,
    RESOLVER_KEY_PATTERN_CHARS_MAX,
    RESOLVER_NAME_CHARS_MAX,
    RESOLVER_PRIORITY_DEFAULT,
    RESOLVERS_MAX,
    RESOLVERS_PER_MAP_MAX,
    CustomResolverRunner,
    ResolverChain,
    ResolverInfoRecord,
    ResolverSpec,
)
from topgun_core.resolvers._decision import (
    RESOLVER_ACTIONS,
    RESOLVER_REASON_CHARS_MAX,
    RESOLVER_VALUE_BYTES_MAX,
    AuthRecord,
    MergeContext,
    MergeContextRecord,
    ResolverAction,
    ResolverDecision,
    TimestampRecord,
    validate_resolver_decision,
)
from topgun_core.resolvers._registry import ResolverRegistry

__all__ = [
    "BUILTIN_RESOLVERS",
    "RESOLVERS_MAX",
    "RESOLVERS_PER_MAP_MAX",
    "RESOLVER_ACTIONS",
    "RESOLVER_CODE_CHARS_MAX",
    "RESOLVER_KEY_PATTERN_CHARS_MAX",
    "RESOLVER_NAME_CHARS_MAX",
    "RESOLVER_PRIORITY_DEFAULT",
    "RESOLVER_REASON_CHARS_MAX",
    "RESOLVER_VALUE_BYTES_MAX",
    "AuthRecord",
    "CustomResolverRunner",
    "MergeContext",
    "MergeContextRecord",
    "ResolverAction",
    "ResolverChain",
    "ResolverDecision",
    "ResolverFunction",
    "ResolverInfoRecord",
    "ResolverRegistry",
    "ResolverSpec",
    "TimestampRecord",
    "owner_of",
    "validate_resolver_decision",
]
