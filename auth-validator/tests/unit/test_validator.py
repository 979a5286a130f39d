"""TokenValidator against static keys: what it accepts, and every forgery it refuses."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from auth_validator import InvalidToken, Principal, TokenValidator, ValidatorSettings


def static_validator(*signers: Any, **settings: Any) -> TokenValidator:
    jwks = {"keys": [s.jwk() for s in signers]}
    return TokenValidator(ValidatorSettings(**settings), jwks=jwks)


async def test_valid_token_gives_principal(signer: Any) -> None:
    user_id = uuid.uuid4()
    issued = int(time.time()) - 5
    expires = issued + 600
    token = signer.token(sub=str(user_id), username="alice", exp=expires, iat=issued)
    principal = await static_validator(signer).verify(token)
    # The verified `exp` travels with the principal (a stream ends when its token does), and
    # `iat` (a service refuses tokens issued before a logout-all).
    assert principal == Principal(
        id=user_id, username="alice", expires_at=float(expires), issued_at=float(issued)
    )


async def test_pem_public_key_is_used_instead_of_jwks(signer: Any) -> None:
    validator = TokenValidator(ValidatorSettings(AUTH_PUBLIC_KEY=signer.public_pem()))
    principal = await validator.verify(signer.token(username="bob"))
    assert principal.username == "bob"


def test_pem_of_another_key_type_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="Ed25519"):
        TokenValidator(ValidatorSettings(AUTH_PUBLIC_KEY=pem))


ATTACKS = [
    "alg_none",
    "hmac_with_public_key",
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "tampered_payload",
    "foreign_key_known_kid",
    "wrong_audience",
    "wrong_issuer",
    "refresh_as_access",
    "no_token_type",
    "no_expiry",
    "garbage",
]


@pytest.mark.parametrize("attack", ATTACKS)
async def test_attack_is_refused(
    attack: str, signer: Any, foreign_signer: Any, attacks: Callable[..., dict[str, str]]
) -> None:
    token = attacks(signer, foreign_signer)[attack]
    with pytest.raises(InvalidToken):
        await static_validator(signer).verify(token)


@pytest.mark.parametrize("attack", ["alg_none", "hmac_with_public_key", "foreign_key_known_kid"])
async def test_attack_is_refused_with_pem_key(
    attack: str, signer: Any, foreign_signer: Any, attacks: Callable[..., dict[str, str]]
) -> None:
    validator = TokenValidator(ValidatorSettings(AUTH_PUBLIC_KEY=signer.public_pem()))
    with pytest.raises(InvalidToken):
        await validator.verify(attacks(signer, foreign_signer)[attack])


async def test_reasons_are_specific(signer: Any, foreign_signer: Any) -> None:
    validator = static_validator(signer)
    tokens = {
        "has expired": signer.token(iat=1, exp=2),
        "another audience": signer.token(aud="x"),
        "unknown issuer": signer.token(iss="x"),
        "not an access token": signer.token(token_type="refresh"),
        "unknown signing key id": foreign_signer.token(),
        "'none' is not accepted": signer.token(kid=None).replace(
            signer.token(kid=None).split(".")[0], "eyJhbGciOiJub25lIn0"
        ),
    }
    for reason, token in tokens.items():
        with pytest.raises(InvalidToken, match=reason):
            await validator.verify(token)


async def test_leeway_accepts_small_clock_skew(signer: Any) -> None:
    import time

    now = int(time.time())
    token = signer.token(iat=now + 10, exp=now + 900)
    assert (await static_validator(signer).verify(token)).username
    with pytest.raises(InvalidToken, match="not yet valid"):
        await static_validator(signer, AUTH_LEEWAY_SECONDS=0).verify(token)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [({"sub": "not-a-uuid"}, "not a user id"), ({"username": ""}, "username")],
)
async def test_bad_subject_claims(signer: Any, claims: dict[str, str], reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        await static_validator(signer).verify(signer.token(**claims))


async def test_token_without_kid_is_refused_by_jwks(signer: Any) -> None:
    with pytest.raises(InvalidToken, match="key id"):
        await static_validator(signer).verify(signer.token(kid=None))


async def test_two_published_keys_both_verify(signer: Any, foreign_signer: Any) -> None:
    validator = static_validator(signer, foreign_signer)
    assert await validator.verify(signer.token(username="one"))
    assert (await validator.verify(foreign_signer.token(username="two"))).username == "two"
