"""Authentication: JWT verification with pinned algorithms, and the principal it yields."""

from topgun_server.auth.keys import KeyMaterial, load_keys
from topgun_server.auth.tokens import TokenVerifier, mint_token, principal_from_claims

__all__ = ["KeyMaterial", "TokenVerifier", "load_keys", "mint_token", "principal_from_claims"]
