"""Keys and token makers for the validator tests (tokens are minted here, not by the library)."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auth_validator.testing import forge_token, tamper

ISSUER = "chat-auth"
AUDIENCE = "chat-backend"


class Signer:
    """An Ed25519 key with a kid that mints tokens, valid unless told otherwise."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = Ed25519PrivateKey.generate()
        self.public = self.private.public_key()

    def jwk(self) -> dict[str, Any]:
        entry: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(self.public, as_dict=True)
        return {**entry, "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    def public_pem(self) -> str:
        return self.public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid4()),
            "username": f"user-{uuid.uuid4().hex[:8]}",
            "iat": now,
            "exp": now + 900,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "token_type": "access",
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def token(self, kid: str | None = "same", **overrides: Any) -> str:
        headers = {"kid": self.kid if kid == "same" else kid} if kid is not None else {}
        claims = self.claims(**overrides)
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers=headers)


def attack_tokens(signer: Signer, foreign: Signer) -> dict[str, str]:
    """Every forged or unacceptable token the issue lists, by name."""
    now = int(time.time())
    genuine = signer.token()
    return {
        "alg_none": forge_token({"alg": "none", "kid": signer.kid}, signer.claims(), None),
        "hmac_with_public_key": forge_token(
            {"alg": "HS256", "typ": "JWT", "kid": signer.kid},
            signer.claims(),
            signer.public_pem().encode(),
        ),
        "expired": signer.token(iat=now - 3600, exp=now - 600),
        "not_yet_valid": signer.token(nbf=now + 600),
        "issued_in_future": signer.token(iat=now + 600, exp=now + 1500),
        "tampered_payload": tamper(genuine, username="admin"),
        "foreign_key_known_kid": foreign.token(kid=signer.kid),
        "wrong_audience": signer.token(aud="someone-else"),
        "wrong_issuer": signer.token(iss="evil-issuer"),
        "refresh_as_access": signer.token(token_type="refresh"),
        "no_token_type": signer.token(token_type=None),
        "no_expiry": signer.token(exp=None),
        "garbage": "not.a.jwt",
    }


@pytest.fixture
def signer() -> Signer:
    return Signer(kid=f"kid-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def foreign_signer() -> Signer:
    return Signer(kid=f"foreign-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def attacks() -> Callable[[Signer, Signer], dict[str, str]]:
    return attack_tokens
