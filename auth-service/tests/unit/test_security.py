"""Hashing and signing without any server: kids, token claims, refresh parsing."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from auth_service.config import Settings
from auth_service.security import (
    InvalidRefreshToken,
    Passwords,
    TokenSigner,
    hash_refresh_token,
    jwk_thumbprint,
)
from auth_validator import InvalidToken, TokenValidator, ValidatorSettings


def settings() -> Settings:
    return Settings(JWT_PRIVATE_KEY_FILE=Path("/unused"), ACCESS_TOKEN_TTL_SECONDS=60)


def test_thumbprint_matches_rfc_8037_example() -> None:
    # RFC 8037 appendix A.3: the JWK thumbprint of the example Ed25519 key.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    import base64

    raw = base64.urlsafe_b64decode(x + "=")
    key = Ed25519PublicKey.from_public_bytes(raw)
    assert jwk_thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


async def test_passwords_verify_and_dummy() -> None:
    passwords = Passwords(time_cost=1, memory_cost_kib=1024, parallelism=1)
    stored = await passwords.hash("s3cret-password")
    assert stored.startswith("$argon2id$")
    assert (await passwords.verify("s3cret-password", stored))[0] is True
    assert (await passwords.verify("wrong-password", stored))[0] is False
    assert await passwords.verify("s3cret-password", None) == (False, None)


async def test_stronger_parameters_ask_for_rehash() -> None:
    weak = Passwords(time_cost=1, memory_cost_kib=1024, parallelism=1)
    strong = Passwords(time_cost=2, memory_cost_kib=2048, parallelism=1)
    matches, new_hash = await strong.verify("pw-123456", await weak.hash("pw-123456"))
    assert matches and new_hash is not None and "m=2048" in new_hash


async def test_access_token_verifies_with_validator_from_jwks() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), None, settings())
    user_id = uuid.uuid4()
    token = signer.access_token(user_id, "alice", datetime.now(UTC))
    validator = TokenValidator(ValidatorSettings(), jwks=signer.jwks())
    principal = await validator.verify(token)
    assert principal.id == user_id and principal.username == "alice"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60


async def test_refresh_token_round_trip_and_never_an_access_token() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), None, settings())
    user_id, token_id, family_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    refresh = signer.refresh_token(user_id, token_id, family_id, datetime.now(UTC))
    claims = signer.read_refresh_token(refresh)
    assert (claims.user_id, claims.token_id, claims.family_id) == (user_id, token_id, family_id)
    with pytest.raises(InvalidToken, match="not an access token"):
        await TokenValidator(ValidatorSettings(), jwks=signer.jwks()).verify(refresh)
    access = signer.access_token(user_id, "alice", datetime.now(UTC))
    with pytest.raises(InvalidRefreshToken):
        signer.read_refresh_token(access)
    other = TokenSigner(Ed25519PrivateKey.generate(), None, settings())
    with pytest.raises(InvalidRefreshToken):
        other.read_refresh_token(refresh)


def test_jwks_publishes_current_then_previous() -> None:
    previous = Ed25519PrivateKey.generate().public_key()
    signer = TokenSigner(Ed25519PrivateKey.generate(), previous, settings())
    kids = [key["kid"] for key in signer.jwks()["keys"]]
    assert kids == [signer.kid, jwk_thumbprint(previous)]
    assert all("d" not in key for key in signer.jwks()["keys"])


def test_refresh_hash_is_stable_and_not_the_token() -> None:
    assert hash_refresh_token("abc") == hash_refresh_token("abc")
    assert hash_refresh_token("abc") != b"abc" and len(hash_refresh_token("abc")) == 32
