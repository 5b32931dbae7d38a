"""Which key verifies tokens, and with which single algorithm.

The algorithm follows from the key, never from the token (HARDENING.md §1):

* a PEM public key file → RS256 for an RSA key, ES256 for an EC P-256 key;
* otherwise an HS256 shared secret — the configured one, or, in development only,
  a random one generated per run (``secrets``), which the CLI logs once together
  with a ready-to-use dev token.

Pinning one algorithm per key is what defeats ``alg: none`` and algorithm
confusion (an HS256 token "signed" with the public key's PEM text as the secret):
the verifier passes exactly that one algorithm to PyJWT.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from topgun_server.settings import ConfigError, ServerSettings

__all__ = ["KeyMaterial", "load_keys"]

GENERATED_SECRET_BYTES = 48


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """The verification key and its one algorithm; ``signing_secret`` when we can mint."""

    algorithm: str
    verify_key: str | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    signing_secret: str | None
    generated: bool = False
    """True when the secret was generated for this run (development only)."""


def load_keys(settings: ServerSettings) -> KeyMaterial:
    """The key material the settings describe; ``ConfigError`` when unusable."""
    settings.check_production()
    if settings.jwt_public_key_file is not None:
        return _public_key(settings)
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
        if not secret:
            raise ConfigError("TOPGUN_JWT_SECRET is empty")
        return KeyMaterial("HS256", secret, secret)
    generated = secrets.token_urlsafe(GENERATED_SECRET_BYTES)
    return KeyMaterial("HS256", generated, generated, generated=True)


def _public_key(settings: ServerSettings) -> KeyMaterial:
    path = settings.jwt_public_key_file
    assert path is not None
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the JWT public key file: {exc.strerror}") from None
    try:
        key = load_pem_public_key(pem)
    except ValueError:
        raise ConfigError("the JWT public key file is not a PEM public key") from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ConfigError("the RSA public key is shorter than 2048 bits")
        return KeyMaterial("RS256", key, None)
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ConfigError("an EC public key must be on P-256 (ES256)")
        return KeyMaterial("ES256", key, None)
    raise ConfigError("the JWT public key must be an RSA or EC P-256 key")
