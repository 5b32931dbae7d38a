"""Role-based access policies for maps and other named resources (HARDENING.md §5).

A :class:`Policy` grants a role some actions on resources whose name matches a
pattern: ``*`` matches any run of characters (including ``/`` and ``:``) and
``{userId}`` stands for the caller's own user id, so ``"notes/{userId}/*"`` gives
every user their own namespace. A policy may restrict reads to ``allowed_fields``;
:meth:`PolicyEngine.filter_value` then strips every other top-level field from the
values a caller receives.

Rules, in order:

1. ``ADMIN`` may do everything.
2. Resources under ``$sys/`` are admin-only, whatever the policies say.
3. Otherwise the union of every policy matching one of the caller's roles applies;
   no matching policy means denied.

With no policies configured, :data:`DEFAULT_POLICIES` lets an authenticated ``USER``
do everything on non-``$sys`` resources. Other resource kinds use prefixed names
(``topic:chat``, ``lock:jobs:42``, ``counter:likes``) and the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from topgun_core.values import JsonValue

__all__ = [
    "ADMIN_ROLE",
    "DEFAULT_POLICIES",
    "SYSTEM_PREFIX",
    "Action",
    "Policy",
    "PolicyEngine",
    "Principal",
]

Action = Literal["READ", "PUT", "REMOVE", "ALL"]
ADMIN_ROLE = "ADMIN"
SYSTEM_PREFIX = "$sys/"
_ACTION_BY_NAME: dict[str, Action] = {
    "READ": "READ",
    "PUT": "PUT",
    "REMOVE": "REMOVE",
    "ALL": "ALL",
}
_ACTIONS: frozenset[str] = frozenset(_ACTION_BY_NAME)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the user id (``sub``/``userId`` claim) and roles."""

    user_id: str
    roles: frozenset[str] = frozenset({"USER"})

    @property
    def is_admin(self) -> bool:
        """Whether the principal holds the admin role."""
        return ADMIN_ROLE in self.roles


@dataclass(frozen=True, slots=True)
class Policy:
    """``role`` may perform ``actions`` on resources matching ``pattern``.

    ``allowed_fields`` (when set) limits which top-level fields of a value the role
    may read; ``None`` means all fields.
    """

    role: str
    pattern: str
    actions: frozenset[Action]
    allowed_fields: frozenset[str] | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.role or not self.pattern:
            raise ValueError("a policy needs a role and a pattern")
        unknown = set(self.actions) - _ACTIONS
        if unknown or not self.actions:
            raise ValueError(
                f"policy actions must be among {sorted(_ACTIONS)}, got {sorted(unknown)}"
            )
        parts = re.split(r"(\*|\{userId\})", self.pattern)
        regex = "".join(
            ".*" if p == "*" else "(?P<uid>[^/]+)" if p == "{userId}" else re.escape(p)
            for p in parts
        )
        if regex.count("(?P<uid>") > 1:
            raise ValueError("{userId} may appear at most once in a pattern")
        object.__setattr__(self, "_regex", re.compile(regex))

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> Policy:
        """Build from ``{role, pattern, actions, allowedFields?}`` as in a policies file."""
        pattern = data.get("pattern", data.get("mapNamePattern"))
        actions = data.get("actions")
        fields = data.get("allowedFields")
        role = data.get("role")
        if not isinstance(role, str) or not isinstance(pattern, str):
            raise ValueError("a policy needs string 'role' and 'pattern'")
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise ValueError("policy 'actions' must be a list of READ, PUT, REMOVE, ALL")
        allowed: frozenset[str] | None = None
        if fields is not None:
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                raise ValueError("policy 'allowedFields' must be a list of field names")
            allowed = frozenset(str(f) for f in fields)
        return cls(role, pattern, _actions(actions), allowed)

    def matches(self, principal: Principal, resource: str) -> bool:
        """Whether this policy's pattern covers ``resource`` for ``principal``."""
        match = self._regex.fullmatch(resource)
        if match is None:
            return False
        uid = match.groupdict().get("uid")
        return uid is None or uid == principal.user_id

    def allows(self, action: Action) -> bool:
        """Whether this policy grants ``action``."""
        return "ALL" in self.actions or action in self.actions


def _actions(names: list[JsonValue]) -> frozenset[Action]:
    chosen: set[Action] = set()
    for name in names:
        action = _ACTION_BY_NAME.get(str(name).upper())
        if action is None:
            raise ValueError(f"unknown policy action {name!r}; use READ, PUT, REMOVE or ALL")
        chosen.add(action)
    return frozenset(chosen)


DEFAULT_POLICIES: tuple[Policy, ...] = (Policy("USER", "*", frozenset({"ALL"})),)


class PolicyEngine:
    """Answers "may this principal do that to this resource?" and filters read fields."""

    __slots__ = ("_policies",)

    def __init__(self, policies: Iterable[Policy] | None = None) -> None:
        chosen = tuple(policies) if policies is not None else DEFAULT_POLICIES
        self._policies = chosen

    @property
    def policies(self) -> tuple[Policy, ...]:
        """The configured policies."""
        return self._policies

    def _matching(self, principal: Principal, resource: str) -> list[Policy]:
        return [
            p
            for p in self._policies
            if p.role in principal.roles and p.matches(principal, resource)
        ]

    def allowed(self, principal: Principal, resource: str, action: Action) -> bool:
        """Whether ``principal`` may perform ``action`` on ``resource``."""
        if principal.is_admin:
            return True
        if resource.startswith(SYSTEM_PREFIX):
            return False
        return any(p.allows(action) for p in self._matching(principal, resource))

    def readable_fields(self, principal: Principal, resource: str) -> frozenset[str] | None:
        """Top-level fields ``principal`` may read (None: all), for a resource it may READ."""
        if principal.is_admin:
            return None
        granting = [p for p in self._matching(principal, resource) if p.allows("READ")]
        if any(p.allowed_fields is None for p in granting):
            return None
        fields: set[str] = set()
        for p in granting:
            fields.update(p.allowed_fields or ())
        return frozenset(fields)

    def filter_value(self, principal: Principal, resource: str, value: JsonValue) -> JsonValue:
        """``value`` with fields the principal may not read removed (dicts only)."""
        fields = self.readable_fields(principal, resource)
        if fields is None or not isinstance(value, dict):
            return value
        return {k: v for k, v in value.items() if k in fields}
