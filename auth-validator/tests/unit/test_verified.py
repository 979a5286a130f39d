"""The verified-token cache: a token seen again skips the signature check, but never past its
exp, never once its key left the JWKS, and never for anything that failed verification."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from support import FakeClock, FakeJwks, make_validator

from auth_validator import InvalidToken, Principal, TokenValidator, ValidatorSettings
from auth_validator.verified import VerifiedToken, VerifiedTokens


class DecodeCounter:
    """Counts full verifications (PyJWT decodes) while delegating to the real one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = jwt.decode

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(jwt, "decode", counting)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> DecodeCounter:
    return DecodeCounter(monkeypatch)


def static(signer: Any, wall: Callable[[], float] = time.time, **settings: Any) -> TokenValidator:
    jwks = {"keys": [signer.jwk()]}
    return TokenValidator(ValidatorSettings(**settings), jwks=jwks, wall_clock=wall)


async def cached_via_jwks(signer: Any) -> tuple[FakeJwks, FakeClock, TokenValidator, str]:
    """A validator on a JWKS endpoint publishing `signer`, and a token it has verified."""
    server, clock = FakeJwks(signer), FakeClock()
    validator = make_validator(server, clock)
    token = signer.token()
    await validator.verify(token)
    return server, clock, validator, token


async def test_a_token_seen_before_is_not_verified_again(
    signer: Any, decodes: DecodeCounter
) -> None:
    validator = static(signer)
    token = signer.token(username="alice")
    first = await validator.verify(token)
    for _ in range(5):
        assert await validator.verify(token) == first
    assert decodes.calls == 1
    await validator.verify(signer.token())  # another token is verified in full
    assert decodes.calls == 2


async def test_never_used_past_exp(signer: Any, decodes: DecodeCounter) -> None:
    wall = FakeClock()
    wall.now = time.time()
    validator = static(signer, wall)
    token = signer.token(exp=int(wall.now) + 60)
    await validator.verify(token)
    wall.now += 59
    await validator.verify(token)
    assert decodes.calls == 1
    wall.now += 2  # past exp by the cache's clock: verified in full again
    await validator.verify(token)
    assert decodes.calls == 2


async def test_a_token_accepted_within_the_leeway_is_not_cached(
    signer: Any, decodes: DecodeCounter
) -> None:
    now = int(time.time())
    validator = static(signer, AUTH_LEEWAY_SECONDS=60)
    token = signer.token(iat=now - 900, exp=now - 10)  # expired, inside the leeway
    await validator.verify(token)
    await validator.verify(token)
    assert decodes.calls == 2


async def test_a_key_withdrawn_from_the_jwks_stops_cached_tokens(
    signer: Any, foreign_signer: Any
) -> None:
    server, clock, validator, token = await cached_via_jwks(signer)
    server.signers = [foreign_signer]  # signer's key is withdrawn (say, compromised)
    clock.now += 299
    await validator.verify(token)  # still within AUTH_JWKS_MAX_AGE_SECONDS
    clock.now += 1
    with pytest.raises(InvalidToken, match="unknown signing key id"):
        await validator.verify(token)
    with pytest.raises(InvalidToken, match="unknown signing key id"):
        await validator.verify(token)
    assert server.requests == 2


async def test_a_kid_republished_with_another_key_refuses_cached_tokens(signer: Any) -> None:
    server, clock, validator, token = await cached_via_jwks(signer)
    impostor = type(signer)(kid=signer.kid)  # same kid, different key material
    server.signers = [impostor]
    clock.now += 300
    with pytest.raises(InvalidToken, match="signature does not verify"):
        await validator.verify(token)


async def test_an_unchanged_jwks_refresh_keeps_the_cache(
    signer: Any, decodes: DecodeCounter
) -> None:
    server, clock, validator, token = await cached_via_jwks(signer)
    clock.now += 300
    await validator.verify(token)
    assert server.requests == 2  # the keys were refreshed...
    assert decodes.calls == 1  # ...and the token, still signed by a published key, not rechecked


async def test_failed_verifications_are_never_cached(
    signer: Any, foreign_signer: Any, attacks: Callable[..., dict[str, str]]
) -> None:
    validator = static(signer)
    refused = {
        **attacks(signer, foreign_signer),
        "bad_subject": signer.token(sub="not-a-uuid"),
        "no_username": signer.token(username=""),
    }
    for name, token in refused.items():
        for _ in range(2):
            with pytest.raises(InvalidToken):
                await validator.verify(token)
        assert validator.cached_tokens == 0, name


async def test_the_cache_is_bounded(signer: Any) -> None:
    validator = static(signer, AUTH_TOKEN_CACHE_SIZE=3)
    for _ in range(10):
        await validator.verify(signer.token())
    assert validator.cached_tokens == 3


async def test_size_zero_turns_the_cache_off(signer: Any, decodes: DecodeCounter) -> None:
    validator = static(signer, AUTH_TOKEN_CACHE_SIZE=0)
    token = signer.token()
    for _ in range(3):
        await validator.verify(token)
    assert decodes.calls == 3
    assert validator.cached_tokens == 0


def test_least_recently_used_goes_first(signer: Any) -> None:
    cache = VerifiedTokens(2, clock=lambda: 0.0)
    entry = VerifiedToken(
        Principal(id=uuid.uuid4(), username="a", expires_at=10.0, issued_at=0.0),
        "k",
        signer.public,
        10.0,
    )
    cache.add("a", entry)
    cache.add("b", entry)
    assert cache.get("a") is entry  # "a" is now the most recently used
    cache.add("c", entry)
    assert cache.get("b") is None
    assert cache.get("a") is entry and cache.get("c") is entry
