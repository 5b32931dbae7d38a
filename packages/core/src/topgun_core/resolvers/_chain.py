"""Registered resolvers: :class:`ResolverSpec`, the per-map :class:`ResolverChain`,
and the :class:`ResolverRegistry` of every map's chain.

How a chain decides an incoming write (:meth:`ResolverChain.resolve`):

1. Resolvers are ordered by descending ``priority`` (0 to 100, default 50); equal
   priorities keep registration order (re-registering a name counts as a new
   registration, so it moves behind its equals).
2. Resolvers whose ``key_pattern`` does not match the key are skipped. Patterns
   are shell globs matched case-sensitively against the whole key
   (:func:`fnmatch.fnmatchcase`: ``*`` spans any characters including ``/`` and
   ``:``, ``?`` one character, ``[...]`` a set); the default ``*`` matches all.
3. The first decision that is not ``local`` is the answer, tagged with the name
   of the resolver that gave it.
4. If every resolver says ``local`` (or none applies), built-in ``lww`` decides
   (tagged ``"lww"``): accept a strictly newer write, otherwise ``local`` — keep
   the local value silently.

Built-ins run in-process. Custom resolvers (``code``) run through the
``run_custom`` callable the caller passes (the server's sandbox runner), so the
chain stays pure. A custom resolver that fails with a
:class:`~topgun_core.errors.TopGunError` (timeout, invalid output...) rejects the
write — a broken guard must not let writes through — with a reason naming it.

Clients' resolvers are dropped when the client disconnects
(:meth:`ResolverRegistry.remove_client`) unless registered as ``persistent``
(which the server allows admins only). Limits: :data:`RESOLVERS_PER_MAP_MAX` per
chain and :data:`RESOLVERS_MAX` in a registry, each a ``LimitExceeded``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Final, TypeAlias, TypedDict

from topgun_core.errors import LimitExceeded, TopGunError, ValidationError
from topgun_core.processors import PROCESSOR_CODE_CHARS_MAX
from topgun_core.protocol import FieldLimitExceeded
from topgun_core.resolvers._builtins import BUILTIN_RESOLVERS, lww
from topgun_core.resolvers._decision import MergeContext, ResolverDecision

__all__ = [
    "RESOLVERS_MAX",
    "RESOLVERS_PER_MAP_MAX",
    "RESOLVER_CODE_CHARS_MAX",
    "RESOLVER_KEY_PATTERN_CHARS_MAX",
    "RESOLVER_NAME_CHARS_MAX",
    "RESOLVER_PRIORITY_DEFAULT",
    "CustomResolverRunner",
    "ResolverChain",
    "ResolverInfoRecord",
    "ResolverSpec",
]

RESOLVERS_PER_MAP_MAX: Final = 50
"""Resolvers registered on one map."""
RESOLVERS_MAX: Final = 10_000
"""Resolvers registered in one registry (all maps together)."""
RESOLVER_CODE_CHARS_MAX: Final = PROCESSOR_CODE_CHARS_MAX
"""Characters of custom resolver source code."""
RESOLVER_NAME_CHARS_MAX: Final = 256
"""Characters of a resolver name."""
RESOLVER_KEY_PATTERN_CHARS_MAX: Final = 1024
"""Characters of a resolver's key glob."""
RESOLVER_PRIORITY_DEFAULT: Final = 50

_BUILTIN_PREFIX: Final = "builtin:"


class ResolverInfoRecord(TypedDict):
    """The wire's ``ResolverInfo`` (``LIST_RESOLVERS_RESPONSE``); code is never listed."""

    mapName: str
    name: str
    priority: int
    keyPattern: str


@dataclass(frozen=True, slots=True)
class ResolverSpec:
    """A resolver registration: a built-in or custom code, where and how strongly it applies.

    Exactly one of ``builtin`` (a name in ``BUILTIN_RESOLVERS``) and ``code`` (the
    body of ``def resolve(ctx)``) is set. ``name`` is unique per map.
    ``registered_by`` is the registering client's id (``None``: registered by the
    server or its configuration); ``persistent`` keeps it past that client's
    disconnect. Invalid fields raise ``ValidationError`` naming ``resolver.<field>``.
    """

    name: str
    builtin: str | None = None
    code: str | None = None
    priority: int = RESOLVER_PRIORITY_DEFAULT
    key_pattern: str = "*"
    registered_by: str | None = None
    persistent: bool = False

    def __post_init__(self) -> None:
        _check_text("resolver.name", self.name, "resolver_name_chars_max", RESOLVER_NAME_CHARS_MAX)
        _check_text(
            "resolver.keyPattern",
            self.key_pattern,
            "resolver_key_pattern_chars_max",
            RESOLVER_KEY_PATTERN_CHARS_MAX,
        )
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ValidationError("resolver.priority", "must be an integer from 0 to 100")
        if not 0 <= self.priority <= 100:
            raise ValidationError(
                "resolver.priority", f"must be from 0 to 100, got {self.priority}"
            )
        if (self.builtin is None) == (self.code is None):
            raise ValidationError("resolver", "give exactly one of a built-in name or code")
        if self.builtin is not None and self.builtin not in BUILTIN_RESOLVERS:
            known = ", ".join(BUILTIN_RESOLVERS)
            raise ValidationError(
                "resolver.name", f"unknown built-in resolver {self.builtin!r}; known: {known}"
            )
        if self.code is not None:
            _check_text(
                "resolver.code", self.code, "resolver_code_chars_max", RESOLVER_CODE_CHARS_MAX
            )

    @property
    def is_builtin(self) -> bool:
        """Whether this runs a built-in (in-process) rather than sandboxed code."""
        return self.builtin is not None

    @classmethod
    def from_wire(
        cls, resolver: Mapping[str, object], *, registered_by: str | None, persistent: bool = False
    ) -> ResolverSpec:
        """Validate the wire's ``resolver {name, code?, priority?, keyPattern?}``.

        Without ``code``, ``name`` names the built-in (``non_negative`` or
        ``builtin:non_negative``) and the registration is called by that name.
        """
        if not isinstance(resolver, Mapping):
            raise ValidationError("resolver", "must be an object")
        extra = sorted(
            str(k) for k in resolver if k not in {"name", "code", "priority", "keyPattern"}
        )
        if extra:
            raise ValidationError("resolver", f"unexpected fields {extra}")
        name, code = resolver.get("name"), resolver.get("code")
        pattern, priority = (
            resolver.get("keyPattern", "*"),
            resolver.get("priority", RESOLVER_PRIORITY_DEFAULT),
        )
        if not isinstance(name, str):
            raise ValidationError("resolver.name", "must be a string")
        if code is not None and not isinstance(code, str):
            raise ValidationError("resolver.code", "must be a string")
        if not isinstance(pattern, str):
            raise ValidationError("resolver.keyPattern", "must be a string")
        if not isinstance(priority, int):
            raise ValidationError("resolver.priority", "must be an integer from 0 to 100")
        if code is None:
            name = name.removeprefix(_BUILTIN_PREFIX)
        elif name.startswith(_BUILTIN_PREFIX):
            raise ValidationError(
                "resolver.name", f"{name!r} names a built-in, which takes no code"
            )
        builtin = name if code is None else None
        return cls(name, builtin, code, priority, pattern, registered_by, persistent)

    def applies_to(self, key: str) -> bool:
        """Whether the key glob matches ``key``."""
        return self.key_pattern == "*" or fnmatchcase(key, self.key_pattern)

    def to_info(self, map_name: str) -> ResolverInfoRecord:
        """The ``ResolverInfo`` listed to clients."""
        return {
            "mapName": map_name,
            "name": self.name,
            "priority": self.priority,
            "keyPattern": self.key_pattern,
        }


def _check_text(field: str, text: object, limit: str, maximum: int) -> None:
    if not isinstance(text, str) or not text:
        raise ValidationError(field, "must be a non-empty string")
    if len(text) > maximum:
        raise FieldLimitExceeded(field, limit, len(text), maximum)


CustomResolverRunner: TypeAlias = Callable[[ResolverSpec, MergeContext], ResolverDecision]
"""Runs a custom resolver's code on a context (the server's sandbox runner).

It returns a decision (normally via ``validate_resolver_decision``) or raises a
``TopGunError``, which the chain turns into a rejection."""


class ResolverChain:
    """The resolvers of one map, in evaluation order (module docstring)."""

    __slots__ = ("_entries", "_map_name", "_ordered", "_resolvers_max", "_sequence")

    def __init__(self, map_name: str, *, resolvers_max: int = RESOLVERS_PER_MAP_MAX) -> None:
        if resolvers_max < 1:
            raise ValueError("resolvers_max must be >= 1")
        self._map_name = map_name
        self._resolvers_max = resolvers_max
        self._entries: dict[str, tuple[int, ResolverSpec]] = {}
        self._ordered: tuple[ResolverSpec, ...] = ()
        self._sequence = 0

    @property
    def map_name(self) -> str:
        """The map this chain serves."""
        return self._map_name

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[ResolverSpec]:
        """The specs in evaluation order."""
        return iter(self._ordered)

    def get(self, name: str) -> ResolverSpec | None:
        """The resolver registered as ``name``, if any."""
        entry = self._entries.get(name)
        return None if entry is None else entry[1]

    def register(self, spec: ResolverSpec) -> ResolverSpec | None:
        """Add ``spec``, replacing one of the same name; return the replaced spec.

        Raises ``LimitExceeded`` (``resolvers_per_map_max``) when a new name would
        pass the bound; replacing never does.
        """
        replaced = self._entries.get(spec.name)
        if replaced is None and len(self._entries) >= self._resolvers_max:
            raise LimitExceeded(
                "resolvers_per_map_max", len(self._entries) + 1, self._resolvers_max
            )
        self._sequence += 1
        self._entries[spec.name] = (self._sequence, spec)
        self._reorder()
        return None if replaced is None else replaced[1]

    def unregister(self, name: str) -> ResolverSpec | None:
        """Remove the resolver ``name``; return it (``None`` if there was none)."""
        entry = self._entries.pop(name, None)
        if entry is None:
            return None
        self._reorder()
        return entry[1]

    def remove_client(self, client_id: str) -> list[ResolverSpec]:
        """Remove the non-persistent resolvers ``client_id`` registered; return them."""
        gone = [s for s in self._ordered if s.registered_by == client_id and not s.persistent]
        for spec in gone:
            del self._entries[spec.name]
        if gone:
            self._reorder()
        return gone

    def applicable(self, key: str) -> list[ResolverSpec]:
        """The resolvers that apply to ``key``, in evaluation order."""
        return [spec for spec in self._ordered if spec.applies_to(key)]

    def resolve(
        self, ctx: MergeContext, run_custom: CustomResolverRunner | None = None
    ) -> ResolverDecision:
        """Decide ``ctx``'s write (module docstring); ``run_custom`` runs custom code.

        Raises ``ValueError`` if a custom resolver applies and no ``run_custom``
        was given (a wiring bug, not a client error).
        """
        for spec in self._ordered:
            if not spec.applies_to(ctx.key):
                continue
            decision = _run(spec, ctx, run_custom)
            if decision.action != "local":
                return replace(decision, resolver=spec.name)
        return replace(lww(ctx), resolver="lww")

    def _reorder(self) -> None:
        entries = sorted(self._entries.values(), key=lambda e: (-e[1].priority, e[0]))
        self._ordered = tuple(spec for _, spec in entries)


def _run(
    spec: ResolverSpec, ctx: MergeContext, run_custom: CustomResolverRunner | None
) -> ResolverDecision:
    if spec.builtin is not None:
        return BUILTIN_RESOLVERS[spec.builtin](ctx)
    if run_custom is None:
        raise ValueError(f"resolver {spec.name!r} is custom code: resolve() needs run_custom")
    try:
        return run_custom(spec, ctx)
    except TopGunError as error:
        return ResolverDecision.reject(f"resolver {spec.name!r} failed: {error.message}")
