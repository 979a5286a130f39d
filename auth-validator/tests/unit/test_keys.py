"""JWKS caching with a fake HTTP transport and a fake clock: lazy, cached, rate-limited."""

from typing import Any, NamedTuple

import httpx
import pytest
from support import URL, FakeClock, FakeJwks, make_validator

from auth_validator import InvalidToken, KeysUnavailable, TokenValidator
from auth_validator.keys import JwksKeyStore, parse_jwks


async def assert_knows_only(validator: TokenValidator, known: Any, unknown: Any) -> None:
    """The validator accepts `known`'s tokens and refuses `unknown`'s for their key."""
    with pytest.raises(InvalidToken, match="unknown signing key id"):
        await validator.verify(unknown.token())
    assert await validator.verify(known.token())


async def test_fetched_lazily_once_then_cached(signer: Any) -> None:
    server = FakeJwks(signer)
    validator = make_validator(server, FakeClock())
    assert server.requests == 0
    for _ in range(5):
        await validator.verify(signer.token())
    assert server.requests == 1


async def test_unknown_kid_refetches_at_most_once_per_interval(
    signer: Any, foreign_signer: Any
) -> None:
    server = FakeJwks(signer)
    clock = FakeClock()
    validator = make_validator(server, clock)
    await validator.verify(signer.token())
    for _ in range(10):
        with pytest.raises(InvalidToken, match="unknown signing key id"):
            await validator.verify(foreign_signer.token())
    assert server.requests == 1  # the first fetch was less than an interval ago
    clock.now += 31
    with pytest.raises(InvalidToken):
        await validator.verify(foreign_signer.token())
    assert server.requests == 2


async def test_rotated_key_is_picked_up(signer: Any, foreign_signer: Any) -> None:
    server = FakeJwks(signer)
    clock = FakeClock()
    validator = make_validator(server, clock)
    await validator.verify(signer.token())
    server.signers.append(foreign_signer)  # the new key is published beside the old
    clock.now += 30
    assert await validator.verify(foreign_signer.token())
    assert await validator.verify(signer.token())
    assert server.requests == 2


async def test_unreachable_with_nothing_cached_is_keys_unavailable(signer: Any) -> None:
    server = FakeJwks(signer)
    server.up = False
    clock = FakeClock()
    validator = make_validator(server, clock)
    with pytest.raises(KeysUnavailable, match="connection refused"):
        await validator.verify(signer.token())
    clock.now += 1.5  # with nothing cached, retries are not held back a whole interval
    server.up = True
    assert await validator.verify(signer.token())


async def test_key_withdrawn_from_jwks_is_dropped_once_the_cache_is_old(
    signer: Any, foreign_signer: Any
) -> None:
    server = FakeJwks(signer, foreign_signer)
    clock = FakeClock()
    validator = make_validator(server, clock)
    assert await validator.verify(foreign_signer.token())
    server.signers.remove(foreign_signer)  # e.g. a compromised key is withdrawn
    clock.now += 299
    assert await validator.verify(foreign_signer.token())  # the cache is still fresh
    assert server.requests == 1
    clock.now += 2
    await assert_knows_only(validator, signer, foreign_signer)
    assert server.requests == 2


class CachedThenDown(NamedTuple):
    """A validator that fetched and cached the keys; since then the JWKS is down."""

    server: FakeJwks
    clock: FakeClock
    validator: TokenValidator


@pytest.fixture
async def cached_then_down(signer: Any) -> CachedThenDown:
    server = FakeJwks(signer)
    clock = FakeClock()
    validator = make_validator(server, clock)
    await validator.verify(signer.token())
    server.up = False
    return CachedThenDown(server, clock, validator)


async def test_failed_refresh_keeps_cached_keys(
    cached_then_down: CachedThenDown, signer: Any, foreign_signer: Any
) -> None:
    server, clock, validator = cached_then_down
    clock.now += 60
    await assert_knows_only(validator, signer, foreign_signer)
    assert server.requests == 2


async def test_old_cache_is_kept_when_the_refresh_fails(
    cached_then_down: CachedThenDown, signer: Any
) -> None:
    server, clock, validator = cached_then_down
    clock.now += 400
    assert await validator.verify(signer.token())  # availability: the known key still works
    assert await validator.verify(signer.token())  # and the next try waits an interval
    assert server.requests == 2


def test_parse_jwks_keeps_only_ed25519_signing_keys(signer: Any) -> None:
    good = signer.jwk()
    document = {
        "keys": [
            good,
            {**good, "kid": "enc", "use": "enc"},
            {**good, "kid": "hs", "alg": "HS256"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
            {**good, "kid": "broken", "x": "!!"},
            "junk",
        ]
    }
    assert list(parse_jwks(document)) == [signer.kid]
    with pytest.raises(ValueError):
        parse_jwks({"nokeys": []})


async def test_store_rejects_missing_kid() -> None:
    store = JwksKeyStore(URL, httpx.AsyncClient(), 30)
    with pytest.raises(InvalidToken, match="no key id"):
        await store.key_for(None)
