"""JWT verification (and minting for development and tests).

:class:`TokenVerifier` decodes with exactly the key's algorithm, requires a valid
signature, rejects expired tokens and tokens whose ``nbf`` is in the future, and
checks ``iss`` / ``aud`` when they are configured. Claims map to a
:class:`~topgun_core.policies.Principal`: the user id is ``sub`` (or ``userId``),
roles come from ``roles`` (default ``["USER"]``). Every failure is an
:class:`~topgun_core.errors.AuthError` with a short, safe reason; PyJWT's
exception text is never sent to a client.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import jwt

from topgun_core.errors import AuthError
from topgun_core.policies import Principal
from topgun_server.auth.keys import KeyMaterial

__all__ = ["TokenVerifier", "mint_token", "principal_from_claims"]

_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong token issuer"),
    (jwt.InvalidAudienceError, "wrong token audience"),
    (jwt.InvalidAlgorithmError, "token algorithm not accepted"),
    (jwt.InvalidSignatureError, "invalid token signature"),
    (jwt.MissingRequiredClaimError, "token lacks a required claim"),
    (jwt.DecodeError, "malformed token"),
)
_USER_ID_CHARS_MAX = 256


def principal_from_claims(claims: Mapping[str, object]) -> Principal:
    """The principal a verified token names; ``AuthError`` when the claims are unusable."""
    user_id = claims.get("sub", claims.get("userId"))
    if not isinstance(user_id, str) or not user_id or len(user_id) > _USER_ID_CHARS_MAX:
        raise AuthError("token has no usable 'sub' or 'userId' claim")
    roles = claims.get("roles", ["USER"])
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        raise AuthError("token 'roles' claim must be a list of role names")
    return Principal(user_id, frozenset(roles) if roles else frozenset({"USER"}))


class TokenVerifier:
    """Verifies tokens against one key with one pinned algorithm."""

    __slots__ = ("_audience", "_issuer", "_keys", "_leeway_s")

    def __init__(
        self,
        keys: KeyMaterial,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        leeway_s: int = 0,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s

    @property
    def keys(self) -> KeyMaterial:
        """The key material in use."""
        return self._keys

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; ``AuthError`` naming the reason otherwise."""
        if not token:
            raise AuthError("missing token")
        try:
            claims = jwt.decode(
                token,
                key=self._keys.verify_key,
                algorithms=[self._keys.algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway_s,
                options={
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iss": self._issuer is not None,
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthError(_reason(exc)) from None
        return principal_from_claims(claims)


def _reason(exc: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "invalid token"


def mint_token(
    secret: str,
    *,
    sub: str,
    roles: Sequence[str] = ("USER",),
    ttl_s: int | None = 3600,
    issuer: str | None = None,
    audience: str | None = None,
    now_s: int | None = None,
) -> str:
    """An HS256 token for ``sub`` with ``roles`` (development, tests, ``topgun token``)."""
    issued = int(time.time()) if now_s is None else now_s
    claims: dict[str, object] = {"sub": sub, "roles": list(roles), "iat": issued}
    if ttl_s is not None:
        claims["exp"] = issued + ttl_s
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")
