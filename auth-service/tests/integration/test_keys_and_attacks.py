"""JWKS, key rotation, and token attacks against the service and a bare auth-validator app."""

from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi import FastAPI
from support import PASSWORD, Login, Register, attack_tokens, bearer, running, valid_token

from auth_service.config import Settings
from auth_service.keygen import generate, public_pem
from auth_service.main import create_app
from auth_validator import TokenValidator, ValidatorSettings
from auth_validator.testing import whoami_app


def validator_app(auth_client: httpx.AsyncClient) -> FastAPI:
    """A third service: only auth-validator, keys fetched from the auth service's JWKS."""
    settings = ValidatorSettings(AUTH_JWKS_URL="http://auth/.well-known/jwks.json")
    return whoami_app(lambda: TokenValidator(settings, auth_client))


async def test_jwks_publishes_the_signing_key(
    client: httpx.AsyncClient, register: Register, login: Login
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and keys[0]["alg"] == "EdDSA"
    assert "d" not in keys[0]  # never the private part
    access = (await login((await register())["username"]))["access_token"]
    assert jwt.get_unverified_header(access)["kid"] == keys[0]["kid"]


async def test_attacks_are_401_at_service_and_at_validator_app(
    client: httpx.AsyncClient, register: Register, login: Login, key_path: Path
) -> None:
    user = await register()
    tokens = await login(user["username"])
    attacks = attack_tokens(key_path, user["id"], user["username"], tokens["refresh_token"])
    control = valid_token(key_path, user["id"], user["username"])
    async with running(validator_app(client), "http://bare") as bare:
        for target, path in ((client, "/users/me"), (bare, "/whoami")):
            assert (await target.get(path, headers=bearer(control))).status_code == 200
            for name, token in attacks.items():
                response = await target.get(path, headers=bearer(token))
                assert response.status_code == 401, (path, name, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer"), (path, name)


async def test_key_rotation_keeps_old_tokens_valid(
    settings: Settings, key_path: Path, tmp_path: Path, register: Register, login: Login
) -> None:
    user = await register()
    old_access = (await login(user["username"]))["access_token"]
    new_key = tmp_path / "new.pem"
    generate(new_key)
    previous = tmp_path / "previous-public.pem"
    previous.write_bytes(public_pem(key_path))
    rotated: dict[str, Any] = {
        **settings.model_dump(),
        "JWT_PRIVATE_KEY_FILE": new_key,
        "JWT_PREVIOUS_PUBLIC_KEY_FILE": previous,
    }
    async with running(create_app(Settings(**rotated))) as new_service:
        jwks = (await new_service.get("/.well-known/jwks.json")).json()["keys"]
        assert len(jwks) == 2
        assert jwt.get_unverified_header(old_access)["kid"] == jwks[1]["kid"]
        # Old token still accepted, by the service and by a validator reading its JWKS.
        assert (await new_service.get("/users/me", headers=bearer(old_access))).status_code == 200
        async with running(validator_app(new_service), "http://bare") as bare:
            assert (await bare.get("/whoami", headers=bearer(old_access))).status_code == 200
            new_access = (
                await new_service.post(
                    "/auth/login", json={"username": user["username"], "password": PASSWORD}
                )
            ).json()["access_token"]
            assert jwt.get_unverified_header(new_access)["kid"] == jwks[0]["kid"]
            assert (await bare.get("/whoami", headers=bearer(new_access))).status_code == 200
    # Once the old key is no longer published, its tokens stop working.
    unpublished = {**rotated, "JWT_PREVIOUS_PUBLIC_KEY_FILE": None}
    async with running(create_app(Settings(**unpublished))) as later:
        assert (await later.get("/users/me", headers=bearer(old_access))).status_code == 401


async def test_metrics_count_side_effects(
    client: httpx.AsyncClient, register: Register, login: Login
) -> None:
    await login((await register())["username"])
    text = (await client.get("/metrics")).text
    assert 'auth_logins_total{outcome="success"}' in text
    assert "auth_users_registered_total" in text
