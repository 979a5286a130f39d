"""Firebase custom tokens: signed with the configured service-account key, in Firebase's
format, verifiable with the key's public half; the key comes from a file or the JSON."""

import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from firebase_admin import credentials
from firebase_keys import verified_custom_token
from google.auth import iam
from google.auth.credentials import AnonymousCredentials
from prometheus_client import REGISTRY
from pydantic import SecretStr, ValidationError

from auth_service.config import Settings
from auth_service.dev_firebase_key import generate, new_key
from auth_service.firebase_tokens import FirebaseTokenMinter, service_account

SIGNING = {"JWT_PRIVATE_KEY": SecretStr("unused here")}


async def test_a_minted_token_verifies_with_the_public_key() -> None:
    key, public_key = new_key()
    minter = FirebaseTokenMinter.from_key(key)
    user_id = uuid.uuid4()
    before = REGISTRY.get_sample_value("auth_firebase_tokens_minted_total") or 0.0
    try:
        minted = await minter.mint(user_id)
    finally:
        minter.close()
    assert REGISTRY.get_sample_value("auth_firebase_tokens_minted_total") == before + 1
    claims = verified_custom_token(minted.token, public_key, key)
    assert claims["uid"] == str(user_id)
    assert abs(claims["iat"] - time.time()) < 60
    assert minted.expires_in == claims["exp"] - claims["iat"]


async def test_another_keys_public_half_rejects_it() -> None:
    key, _ = new_key()
    _, other_public_key = new_key()
    minter = FirebaseTokenMinter.from_key(key)
    try:
        minted = await minter.mint(uuid.uuid4())
    finally:
        minter.close()
    with pytest.raises(jwt.InvalidSignatureError):
        verified_custom_token(minted.token, other_public_key, key)


def test_the_key_comes_from_a_file_or_the_json(tmp_path: Path) -> None:
    key, _ = new_key()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(key))
    from_file = Settings(**SIGNING, FIREBASE_SERVICE_ACCOUNT_FILE=path)
    from_json = Settings(**SIGNING, FIREBASE_SERVICE_ACCOUNT_JSON=SecretStr(json.dumps(key)))
    assert service_account(from_file) == key
    assert service_account(from_json) == key


@pytest.mark.parametrize("unset", [{}, {"FIREBASE_SERVICE_ACCOUNT_FILE": ""}])
def test_no_key_means_no_minter(unset: dict[str, str]) -> None:
    assert FirebaseTokenMinter.from_settings(Settings(**SIGNING, **unset)) is None


def test_a_key_that_is_not_json_is_refused_without_echoing_it() -> None:
    secret = "-----BEGIN PRIVATE KEY----- not json"
    settings = Settings(**SIGNING, FIREBASE_SERVICE_ACCOUNT_JSON=SecretStr(secret))
    with pytest.raises(ValueError, match="FIREBASE_SERVICE_ACCOUNT_JSON is not JSON") as caught:
        service_account(settings)
    assert "PRIVATE KEY" not in str(caught.value)


def test_a_key_without_the_service_account_type_is_refused() -> None:
    key, _ = new_key()
    settings = Settings(
        **SIGNING, FIREBASE_SERVICE_ACCOUNT_JSON=SecretStr(json.dumps({**key, "type": "user"}))
    )
    with pytest.raises(ValueError, match="service_account"):
        FirebaseTokenMinter.from_settings(settings)


def test_both_ways_at_once_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not several"):
        Settings(
            **SIGNING,
            FIREBASE_SERVICE_ACCOUNT_FILE=tmp_path / "key.json",
            FIREBASE_SERVICE_ACCOUNT_JSON=SecretStr("{}"),
        )


async def test_the_local_key_is_written_once_privately_and_mints(tmp_path: Path) -> None:
    path = tmp_path / "state" / "firebase-service-account.json"
    assert generate(path)
    first = path.read_text()
    assert not generate(path)
    assert path.read_text() == first
    assert path.stat().st_mode & 0o777 == 0o600
    settings = Settings(**SIGNING, FIREBASE_SERVICE_ACCOUNT_FILE=path)
    minter = FirebaseTokenMinter.from_settings(settings)
    assert minter is not None
    try:
        assert (await minter.mint(uuid.uuid4())).token
    finally:
        minter.close()


class WorkloadIdentity(credentials.Base):
    """Stands for the pod's Google identity (no key): what ApplicationDefault finds there."""

    def get_credential(self) -> AnonymousCredentials:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]


SERVICE_ACCOUNT = "firebase-adminsdk@chat-backend-prod.iam.gserviceaccount.com"


async def test_through_iam_the_token_is_signed_by_signblob_as_the_service_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """N6: no private key in the process; IAM signs the token's bytes as the account."""
    signed: list[tuple[str, bytes]] = []

    def sign_blob(signer: iam.Signer, message: bytes) -> bytes:
        signed.append((signer._service_account_email, message))
        return b"signature by IAM"

    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setattr(iam.Signer, "sign", sign_blob)
    minter = FirebaseTokenMinter.through_iam(
        SERVICE_ACCOUNT, "chat-backend-prod", WorkloadIdentity()
    )
    user_id = uuid.uuid4()
    try:
        minted = await minter.mint(user_id)
    finally:
        minter.close()
    header, claims = (
        jwt.get_unverified_header(minted.token),
        jwt.decode(minted.token, options={"verify_signature": False}),
    )
    assert header["alg"] == "RS256"
    assert claims["iss"] == claims["sub"] == SERVICE_ACCOUNT
    assert claims["uid"] == str(user_id)
    # What IAM signed is exactly the token's header and claims.
    assert [email for email, _ in signed] == [SERVICE_ACCOUNT]
    assert signed[0][1] == minted.token.rsplit(".", 1)[0].encode()


def test_the_settings_choose_iam_when_given_a_service_account_id() -> None:
    settings = Settings(
        **SIGNING, FIREBASE_SERVICE_ACCOUNT_ID=SERVICE_ACCOUNT, FIRESTORE_PROJECT="chat-prod"
    )
    minter = FirebaseTokenMinter.from_settings(settings)
    assert minter is not None
    try:
        assert minter.app.options.get("serviceAccountId") == SERVICE_ACCOUNT
        assert minter.app.project_id == "chat-prod"
    finally:
        minter.close()


def test_in_prod_a_key_is_refused_and_iam_is_accepted(tmp_path: Path) -> None:
    key, _ = new_key()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(key))
    prod = {**SIGNING, "ENVIRONMENT": "prod"}
    for given in (
        {"FIREBASE_SERVICE_ACCOUNT_FILE": path},
        {"FIREBASE_SERVICE_ACCOUNT_JSON": SecretStr(json.dumps(key))},
    ):
        with pytest.raises(ValidationError, match="refused with ENVIRONMENT=prod"):
            Settings(**prod, **given)
    assert Settings(**prod, FIREBASE_SERVICE_ACCOUNT_ID=SERVICE_ACCOUNT)
    with pytest.raises(ValidationError, match="not several"):
        Settings(**SIGNING, FIREBASE_SERVICE_ACCOUNT_FILE=path, FIREBASE_SERVICE_ACCOUNT_ID="x")
