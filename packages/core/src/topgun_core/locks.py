"""Distributed locks with fencing tokens, as a sans-IO state machine (SEMANTICS.md §10).

A :class:`LockTable` holds every lock of one node (or, in a cluster, of one
partition owner). It never sends anything: each call returns typed records that the
server turns into messages — :class:`Granted` becomes ``LOCK_GRANTED`` to
``grant.owner`` for ``grant.request_id``; :class:`Released` records why a lease
ended (``released``, ``expired`` or ``disconnected``) for logs and metrics.

How it works:

- **Request.** A free lock is granted at once with a new fencing token. The current
  holder asking again extends its lease (``expires_at = now + ttl``) and keeps its
  token (``Granted.extended``). Anyone else waits in a FIFO queue, once per owner —
  asking again while queued keeps the place and updates the request id and TTL —
  and gets :class:`Queued` with its 1-based position.
- **TTL.** ``None`` means ``ttl_default_ms`` (10 s); anything else is clamped to
  ``[ttl_min_ms, ttl_max_ms]`` (1 s to 300 s). A waiter's lease starts when it is
  granted.
- **Release** needs the owner *and* the current fencing token; anything else is
  refused with a reason (:class:`ReleaseResult`), changing nothing. Releasing grants
  the lock to the next waiter with a new token, returned as an effect.
- **Expiry.** A lease ends once ``now >= expires_at_ms``, when :meth:`expire`
  runs: the server calls it at :meth:`next_expiry_ms` (and may call it before
  any request). Until then a lapsed lease is still valid — fencing tokens, not
  timing, protect the resource.
- **Disconnect.** :meth:`release_all` ends every lease an owner holds and drops
  all its waits; :meth:`cancel` drops one wait (a client that gave up waiting).
- **Fencing tokens** for a name strictly increase for the life of the data, across
  the release of the last holder and across restarts. The table keeps the last
  token issued per name (:meth:`fencing_high_water`). To bound memory it tracks at
  most ``fencing_names_max`` names; the least recently granted name is forgotten
  by raising a common floor to its mark, and a name's next token is
  ``max(its mark, floor) + 1`` — never a repeat. On restart the server passes the
  persisted marks and floor back (constructor or :meth:`restore_high_water`;
  restoring only ever raises them). After every :class:`Granted` that is not an
  extension, ``grant.fencing_token`` is the name's new mark: persist it (and
  :attr:`fencing_floor`) before sending ``LOCK_GRANTED`` and a crash cannot make a
  token repeat.
- **Bounds.** At most ``locks_max`` held locks and ``waiters_max`` waiters per
  lock; a request over either is a :class:`~topgun_core.errors.LimitExceeded`.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal, TypeAlias

from topgun_core.clock import Clock
from topgun_core.errors import LimitExceeded, ValidationError

__all__ = [
    "LOCKS_MAX",
    "LOCK_FENCING_NAMES_MAX",
    "LOCK_NAME_CHARS_MAX",
    "LOCK_TTL_DEFAULT_MS",
    "LOCK_TTL_MAX_MS",
    "LOCK_TTL_MIN_MS",
    "LOCK_WAITERS_MAX",
    "Granted",
    "LockEffect",
    "LockTable",
    "Queued",
    "ReleaseReason",
    "ReleaseResult",
    "Released",
    "validate_lock_name",
]

LOCK_TTL_DEFAULT_MS: Final = 10_000
LOCK_TTL_MIN_MS: Final = 1_000
LOCK_TTL_MAX_MS: Final = 300_000
LOCKS_MAX: Final = 100_000
"""Locks held at once in one table."""
LOCK_WAITERS_MAX: Final = 1_000
"""Queued requests on one lock."""
LOCK_FENCING_NAMES_MAX: Final = 1_000_000
"""Lock names whose fencing high-water mark is tracked individually."""
LOCK_NAME_CHARS_MAX: Final = 256

ReleaseReason: TypeAlias = Literal["released", "expired", "disconnected"]


@dataclass(frozen=True, slots=True)
class Granted:
    """``owner`` holds lock ``name`` with ``fencing_token`` until ``expires_at_ms``.

    Returned by :meth:`LockTable.request` and as an effect when a waiter's turn
    comes; ``request_id`` is the request being answered. ``extended`` is true when
    the holder re-requested (same token, new expiry).
    """

    name: str
    owner: str
    request_id: str
    fencing_token: int
    expires_at_ms: int
    ttl_ms: int
    extended: bool = False


@dataclass(frozen=True, slots=True)
class Queued:
    """``owner`` waits for lock ``name``; ``position`` 1 is next in line."""

    name: str
    owner: str
    request_id: str
    position: int


@dataclass(frozen=True, slots=True)
class Released:
    """A lease ended: the holder released it, it expired, or its owner disconnected."""

    name: str
    owner: str
    request_id: str
    fencing_token: int
    reason: ReleaseReason


LockEffect: TypeAlias = Granted | Released
"""What the server must act on after a call: send grants, log and count releases."""


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """The answer to :meth:`LockTable.release` (``LOCK_RELEASED.success`` is ``ok``).

    A refusal (``ok`` false) has an ``error`` saying why and changes nothing;
    ``effects`` holds the lease's end and the next waiter's grant.
    """

    ok: bool
    error: str | None = None
    effects: tuple[LockEffect, ...] = ()


@dataclass(frozen=True, slots=True)
class _Wait:
    request_id: str
    ttl_ms: int


@dataclass(slots=True)
class _Lock:
    holder: Granted
    waiters: dict[str, _Wait] = field(default_factory=dict)  # by owner, FIFO


def validate_lock_name(name: object) -> str:
    """Return ``name`` if it is a lock name (1 to 256 characters); raise ``ValidationError``."""
    if not isinstance(name, str) or not name:
        raise ValidationError("name", "a lock name must be a non-empty string")
    if len(name) > LOCK_NAME_CHARS_MAX:
        raise ValidationError("name", f"a lock name has at most {LOCK_NAME_CHARS_MAX} characters")
    return name


def _check_id(field_name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(field_name, "must be a non-empty string")
    return value


def _check_mark(where: str, mark: object) -> int:
    if isinstance(mark, bool) or not isinstance(mark, int) or mark < 0:
        raise ValidationError(
            where, f"a fencing high-water mark must be an integer >= 0, got {mark!r}"
        )
    return mark


class LockTable:
    """Every lock of one node: leases, FIFO waiters, fencing tokens (module docstring)."""

    __slots__ = (
        "_clock",
        "_expiries",
        "_fencing_names_max",
        "_floor",
        "_locks",
        "_locks_max",
        "_marks",
        "_owned",
        "_sequence",
        "_waiters_max",
        "ttl_default_ms",
        "ttl_max_ms",
        "ttl_min_ms",
    )

    def __init__(  # noqa: PLR0913 - every limit is a named, keyword-only knob
        self,
        clock: Clock,
        *,
        ttl_default_ms: int = LOCK_TTL_DEFAULT_MS,
        ttl_min_ms: int = LOCK_TTL_MIN_MS,
        ttl_max_ms: int = LOCK_TTL_MAX_MS,
        waiters_max: int = LOCK_WAITERS_MAX,
        locks_max: int = LOCKS_MAX,
        fencing_names_max: int = LOCK_FENCING_NAMES_MAX,
        high_water: Mapping[str, int] | None = None,
        fencing_floor: int = 0,
    ) -> None:
        if not 1 <= ttl_min_ms <= ttl_default_ms <= ttl_max_ms:
            raise ValueError("need 1 <= ttl_min_ms <= ttl_default_ms <= ttl_max_ms")
        if min(waiters_max, locks_max, fencing_names_max) < 1:
            raise ValueError("waiters_max, locks_max and fencing_names_max must be >= 1")
        self._clock = clock
        self.ttl_default_ms = ttl_default_ms
        self.ttl_min_ms = ttl_min_ms
        self.ttl_max_ms = ttl_max_ms
        self._waiters_max = waiters_max
        self._locks_max = locks_max
        self._fencing_names_max = fencing_names_max
        self._locks: dict[str, _Lock] = {}
        self._owned: dict[str, set[str]] = {}  # owner -> names it holds or waits for
        self._expiries: list[tuple[int, int, str, int]] = []  # (expires_at, seq, name, token)
        self._sequence = 0
        self._marks: dict[str, int] = {}  # name -> last token, least recently granted first
        self._floor = 0
        self.restore_high_water(high_water or {}, floor=fencing_floor)

    def __len__(self) -> int:
        """Locks currently held."""
        return len(self._locks)

    # ---------------------------------------------------------------- requests

    def clamp_ttl(self, ttl_ms: int | None) -> int:
        """The lease length a request for ``ttl_ms`` gets (``None``: the default)."""
        if ttl_ms is None:
            return self.ttl_default_ms
        if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int):
            raise ValidationError("ttl", "must be an integer number of milliseconds")
        return min(max(ttl_ms, self.ttl_min_ms), self.ttl_max_ms)

    def request(
        self, name: str, owner: str, request_id: str, ttl_ms: int | None = None
    ) -> Granted | Queued:
        """Acquire ``name`` for ``owner``: granted now, extended, or queued (module docstring).

        Raises ``ValidationError`` for a bad name, owner, request id or TTL and
        ``LimitExceeded`` (``locks_max``, ``lock_waiters_max``) when full.
        """
        validate_lock_name(name)
        _check_id("owner", owner)
        _check_id("requestId", request_id)
        ttl = self.clamp_ttl(ttl_ms)
        lock = self._locks.get(name)
        if lock is None:
            if len(self._locks) >= self._locks_max:
                raise LimitExceeded("locks_max", len(self._locks) + 1, self._locks_max)
            grant = self._new_grant(name, owner, request_id, ttl)
            self._locks[name] = _Lock(grant)
            self._own(owner, name)
            return grant
        if lock.holder.owner == owner:
            now = self._clock.now_ms()
            lock.holder = replace(
                lock.holder,
                request_id=request_id,
                expires_at_ms=now + ttl,
                ttl_ms=ttl,
                extended=True,
            )
            self._schedule(lock.holder)
            return lock.holder
        if owner not in lock.waiters and len(lock.waiters) >= self._waiters_max:
            raise LimitExceeded("lock_waiters_max", len(lock.waiters) + 1, self._waiters_max)
        lock.waiters[owner] = _Wait(request_id, ttl)  # an existing waiter keeps its place
        self._own(owner, name)
        return Queued(name, owner, request_id, list(lock.waiters).index(owner) + 1)

    def release(self, name: str, owner: str, fencing_token: int) -> ReleaseResult:
        """End ``owner``'s lease on ``name`` if ``fencing_token`` is the current one.

        A refusal says why: the lock is not held, is held by someone else, or the
        token is not the current one (a stale release from an earlier lease).
        """
        if isinstance(fencing_token, bool) or not isinstance(fencing_token, int):
            raise ValidationError("fencingToken", "must be an integer")
        lock = self._locks.get(name)
        if lock is None:
            return ReleaseResult(ok=False, error=f"lock {name!r} is not held")
        if lock.holder.owner != owner:
            return ReleaseResult(ok=False, error=f"lock {name!r} is not held by this client")
        if lock.holder.fencing_token != fencing_token:
            return ReleaseResult(
                ok=False,
                error=f"fencing token {fencing_token} is not the current token of lock {name!r}",
            )
        return ReleaseResult(ok=True, effects=tuple(self._end_lease(name, lock, "released")))

    def cancel(self, name: str, owner: str) -> bool:
        """Drop ``owner``'s queued request for ``name``; return whether there was one."""
        lock = self._locks.get(name)
        if lock is None or lock.waiters.pop(owner, None) is None:
            return False
        self._disown(owner, name)
        return True

    def release_all(self, owner: str) -> list[LockEffect]:
        """``owner`` disconnected: end all its leases (granting next waiters), drop its waits."""
        effects: list[LockEffect] = []
        for name in sorted(self._owned.pop(owner, ())):
            lock = self._locks.get(name)
            if lock is None:
                continue
            if lock.holder.owner == owner:
                effects.extend(self._end_lease(name, lock, "disconnected"))
            else:
                lock.waiters.pop(owner, None)
        return effects

    # ---------------------------------------------------------------- expiry

    def expire(self) -> list[LockEffect]:
        """End every lease with ``now >= expires_at_ms``; grant the next waiters."""
        now = self._clock.now_ms()
        effects: list[LockEffect] = []
        while self._expiries and self._expiries[0][0] <= now:
            entry = heapq.heappop(self._expiries)
            if self._is_live(entry):
                effects.extend(self._end_lease(entry[2], self._locks[entry[2]], "expired"))
        return effects

    def next_expiry_ms(self) -> int | None:
        """When the earliest lease expires (call :meth:`expire` then); ``None`` if none."""
        while self._expiries:
            if self._is_live(self._expiries[0]):
                return self._expiries[0][0]
            heapq.heappop(self._expiries)
        return None

    # ---------------------------------------------------------------- inspection

    def holder(self, name: str) -> Granted | None:
        """The current lease on ``name``, if held."""
        lock = self._locks.get(name)
        return None if lock is None else lock.holder

    def waiters(self, name: str) -> list[Queued]:
        """The queue on ``name``, next in line first."""
        lock = self._locks.get(name)
        if lock is None:
            return []
        return [
            Queued(name, owner, wait.request_id, index)
            for index, (owner, wait) in enumerate(lock.waiters.items(), start=1)
        ]

    # ---------------------------------------------------------------- fencing

    @property
    def fencing_floor(self) -> int:
        """Every name's next token is above this (raised when a name's mark is forgotten)."""
        return self._floor

    def fencing_high_water(self) -> dict[str, int]:
        """The last token issued per tracked name (persist with :attr:`fencing_floor`)."""
        return dict(self._marks)

    def restore_high_water(self, marks: Mapping[str, int], *, floor: int = 0) -> None:
        """Raise the marks (and floor) to persisted values; never lowers anything."""
        checked = {
            validate_lock_name(n): _check_mark(f"highWater.{n}", m) for n, m in marks.items()
        }
        self._floor = max(self._floor, _check_mark("fencingFloor", floor))
        for name, mark in checked.items():
            if mark > self._marks.get(name, 0):
                self._marks[name] = mark
        self._forget_marks()

    # ---------------------------------------------------------------- internals

    def _new_grant(self, name: str, owner: str, request_id: str, ttl: int) -> Granted:
        token = max(self._marks.pop(name, 0), self._floor) + 1
        self._marks[name] = token  # re-inserted: now the most recently granted
        self._forget_marks()
        grant = Granted(name, owner, request_id, token, self._clock.now_ms() + ttl, ttl)
        self._schedule(grant)
        return grant

    def _forget_marks(self) -> None:
        while len(self._marks) > self._fencing_names_max:
            oldest = next(iter(self._marks))
            self._floor = max(self._floor, self._marks.pop(oldest))

    def _end_lease(self, name: str, lock: _Lock, reason: ReleaseReason) -> list[LockEffect]:
        ended = lock.holder
        effects: list[LockEffect] = [
            Released(name, ended.owner, ended.request_id, ended.fencing_token, reason)
        ]
        self._disown(ended.owner, name)
        if not lock.waiters:
            del self._locks[name]
            return effects
        owner = next(iter(lock.waiters))
        wait = lock.waiters.pop(owner)
        lock.holder = self._new_grant(name, owner, wait.request_id, wait.ttl_ms)
        effects.append(lock.holder)
        return effects

    def _schedule(self, grant: Granted) -> None:
        self._sequence += 1
        entry = (grant.expires_at_ms, self._sequence, grant.name, grant.fencing_token)
        heapq.heappush(self._expiries, entry)
        if len(self._expiries) > 2 * len(self._locks) + 64:
            self._expiries = [e for e in self._expiries if e is entry or self._is_live(e)]
            heapq.heapify(self._expiries)

    def _is_live(self, entry: tuple[int, int, str, int]) -> bool:
        # An entry is superseded once its lease ended or was extended.
        lock = self._locks.get(entry[2])
        return lock is not None and _is_current(lock.holder, entry[0], entry[3])

    def _own(self, owner: str, name: str) -> None:
        self._owned.setdefault(owner, set()).add(name)

    def _disown(self, owner: str, name: str) -> None:
        names = self._owned.get(owner)
        if names is not None:
            names.discard(name)
            if not names:
                del self._owned[owner]


def _is_current(holder: Granted, expires_at: int, token: int) -> bool:
    return holder.fencing_token == token and holder.expires_at_ms == expires_at
