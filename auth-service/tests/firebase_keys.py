"""The checks Firebase Auth makes on a custom token (RS256, its `uid`, the Identity Toolkit
audience, at most one hour), held against the key that signed it."""

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# Written out here, not imported from firebase_admin: the test holds the SDK to Firebase's
# documented format.
IDENTITY_TOOLKIT_AUDIENCE = (
    "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"
)
MAX_LIFETIME_SECONDS = 3600


def verified_custom_token(
    token: str, public_key: rsa.RSAPublicKey, key: dict[str, Any]
) -> dict[str, Any]:
    """The claims of a custom token, once its signature and claims pass Firebase's checks."""
    assert jwt.get_unverified_header(token) == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": key["private_key_id"],
    }
    claims: dict[str, Any] = jwt.decode(
        token,
        public_key,
        algorithms=["RS256"],
        audience=IDENTITY_TOOLKIT_AUDIENCE,
        issuer=key["client_email"],
        options={"require": ["iss", "sub", "aud", "iat", "exp", "uid"]},
    )
    assert claims["sub"] == key["client_email"]
    assert 0 < claims["exp"] - claims["iat"] <= MAX_LIFETIME_SECONDS
    return claims
