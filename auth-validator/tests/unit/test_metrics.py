"""The failure counter: one series per reason from the start, and each refusal counted once."""

from typing import Any

import pytest
from prometheus_client import REGISTRY
from support import FakeClock, FakeJwks, make_validator

from auth_validator import InvalidToken, KeysUnavailable, TokenValidator, ValidatorSettings
from auth_validator.errors import VerificationFailure

METRIC = "auth_token_verification_failures_total"


def failures(reason: VerificationFailure) -> float:
    value = REGISTRY.get_sample_value(METRIC, {"reason": reason.value})
    assert value is not None, f"no {METRIC} series for reason {reason.value!r}"
    return value


def test_every_reason_has_a_series_before_any_failure() -> None:
    exported = {
        sample.labels["reason"]
        for family in REGISTRY.collect()
        if family.name == METRIC.removesuffix("_total")
        for sample in family.samples
        if sample.name == METRIC
    }
    assert exported == {reason.value for reason in VerificationFailure}


def static_validator(signer: Any) -> TokenValidator:
    return TokenValidator(ValidatorSettings(), jwks={"keys": [signer.jwk()]})


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iat": 1, "exp": 2}, VerificationFailure.EXPIRED),
        ({"aud": "x"}, VerificationFailure.AUDIENCE),
        ({"iss": "x"}, VerificationFailure.ISSUER),
        ({"token_type": "refresh"}, VerificationFailure.NOT_ACCESS_TOKEN),
        ({"sub": "not-a-uuid"}, VerificationFailure.CLAIMS),
        ({"kid": None}, VerificationFailure.UNKNOWN_KEY),
    ],
)
async def test_a_refusal_counts_once_under_its_reason(
    signer: Any, claims: dict[str, Any], reason: VerificationFailure
) -> None:
    others = {r: failures(r) for r in VerificationFailure if r is not reason}
    before = failures(reason)
    with pytest.raises(InvalidToken) as refused:
        await static_validator(signer).verify(signer.token(**claims))
    assert refused.value.reason is reason
    assert failures(reason) == before + 1
    assert {r: failures(r) for r in others} == others


async def test_a_forged_signature_counts_as_signature(signer: Any, foreign_signer: Any) -> None:
    before = failures(VerificationFailure.SIGNATURE)
    # The foreign key signs under the known key's id: only the signature gives it away.
    token = foreign_signer.token(kid=signer.kid)
    with pytest.raises(InvalidToken, match="signature"):
        await static_validator(signer).verify(token)
    assert failures(VerificationFailure.SIGNATURE) == before + 1


async def test_a_valid_token_counts_nothing(signer: Any) -> None:
    before = {r: failures(r) for r in VerificationFailure}
    validator = static_validator(signer)
    token = signer.token()
    await validator.verify(token)
    await validator.verify(token)  # the cached path too
    assert {r: failures(r) for r in VerificationFailure} == before


async def test_no_key_at_hand_counts_as_keys_unavailable(signer: Any) -> None:
    server = FakeJwks(signer)
    server.up = False
    before = failures(VerificationFailure.KEYS_UNAVAILABLE)
    with pytest.raises(KeysUnavailable):
        await make_validator(server, FakeClock()).verify(signer.token())
    assert failures(VerificationFailure.KEYS_UNAVAILABLE) == before + 1
