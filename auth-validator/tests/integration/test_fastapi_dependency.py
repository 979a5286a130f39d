"""A bare FastAPI app using the library, its keys served over real HTTP by a local server."""

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from auth_validator import Principal, TokenValidator, ValidatorSettings
from auth_validator.fastapi import (
    BearerToken,
    StreamPrincipal,
    password_flow_scheme,
    principal_dependency,
)
from auth_validator.testing import whoami_app


class JwksServer:
    """A real HTTP server on 127.0.0.1 (ephemeral port) publishing a mutable JWKS."""

    def __init__(self) -> None:
        self.signers: list[Any] = []
        self.requests = 0
        app = FastAPI()

        @app.get("/.well-known/jwks.json")
        async def jwks() -> JSONResponse:
            self.requests += 1
            return JSONResponse({"keys": [s.jwk() for s in self.signers]})

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/.well-known/jwks.json"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
        self.server = uvicorn.Server(config)


@pytest.fixture(scope="module")
async def jwks_server() -> AsyncIterator[JwksServer]:
    server = JwksServer()
    task = asyncio.create_task(server.server.serve(sockets=[server.sock]))
    for _ in range(100):
        if server.server.started:
            break
        await asyncio.sleep(0.05)
    assert server.server.started, "local JWKS server did not start"
    yield server
    server.server.should_exit = True
    await task


def bare_app(settings: ValidatorSettings) -> FastAPI:
    app = whoami_app(lambda: TokenValidator(settings))

    @app.get("/forward")
    async def forward(token: BearerToken) -> dict[str, int]:
        return {"length": len(token)}

    @app.get("/stream")
    async def stream(principal: StreamPrincipal) -> dict[str, float]:
        return {"expires_at": principal.expires_at}

    @app.get("/login-flow")
    async def login_flow(
        principal: Annotated[
            Principal, Depends(principal_dependency(password_flow_scheme("/auth/login")))
        ],
    ) -> dict[str, str]:
        return {"username": principal.username}

    return app


@asynccontextmanager
async def client_for(settings: ValidatorSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `bare_app(settings)` with its lifespan entered (the manager's app carries
    the lifespan state)."""
    async with LifespanManager(bare_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bare") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_yields_principal_via_jwks(jwks_server: JwksServer, signer: Any) -> None:
    jwks_server.signers[:] = [signer]
    claims = signer.claims(username="carol")
    token = signer.token(sub=claims["sub"], username="carol")
    async with client_for(ValidatorSettings(AUTH_JWKS_URL=jwks_server.url)) as client:
        before = jwks_server.requests
        for _ in range(3):
            response = await client.get("/whoami", headers=bearer(token))
            assert response.status_code == 200
            assert response.json() == {"id": claims["sub"], "username": "carol"}
        assert jwks_server.requests == before + 1  # fetched once, then cached
        forwarded = await client.get("/forward", headers=bearer(token))
        assert forwarded.json() == {"length": len(token)}


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwdw==", "Bearer "])
async def test_missing_token_is_401_with_challenge(
    jwks_server: JwksServer, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    async with client_for(ValidatorSettings(AUTH_JWKS_URL=jwks_server.url)) as client:
        for path in ("/whoami", "/forward", "/stream", "/login-flow"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")


async def test_every_attack_is_401(
    jwks_server: JwksServer,
    signer: Any,
    foreign_signer: Any,
    attacks: Callable[..., dict[str, str]],
) -> None:
    jwks_server.signers[:] = [signer]
    async with client_for(ValidatorSettings(AUTH_JWKS_URL=jwks_server.url)) as client:
        assert (await client.get("/whoami", headers=bearer(signer.token()))).status_code == 200
        for name, token in attacks(signer, foreign_signer).items():
            response = await client.get("/whoami", headers=bearer(token))
            assert response.status_code == 401, name
            assert response.headers["www-authenticate"].startswith("Bearer"), name
            assert response.json()["detail"].startswith("Invalid access token"), name


async def test_key_rotation_over_http(
    jwks_server: JwksServer, signer: Any, foreign_signer: Any
) -> None:
    jwks_server.signers[:] = [signer]
    settings = ValidatorSettings(
        AUTH_JWKS_URL=jwks_server.url, AUTH_JWKS_REFRESH_INTERVAL_SECONDS=0
    )
    async with client_for(settings) as client:
        old_token = signer.token()
        assert (await client.get("/whoami", headers=bearer(old_token))).status_code == 200
        jwks_server.signers[:] = [foreign_signer, signer]  # new key published, old still there
        new_token = foreign_signer.token()
        assert (await client.get("/whoami", headers=bearer(new_token))).status_code == 200
        assert (await client.get("/whoami", headers=bearer(old_token))).status_code == 200


async def test_unreachable_jwks_is_503(signer: Any) -> None:
    closed = ValidatorSettings(AUTH_JWKS_URL="http://127.0.0.1:1/.well-known/jwks.json")
    async with client_for(closed) as client:
        response = await asyncio.wait_for(
            client.get("/whoami", headers=bearer(signer.token())), timeout=5
        )
        assert response.status_code == 503
        assert "unavailable" in response.json()["detail"]


async def test_openapi_declares_bearer_auth(jwks_server: JwksServer) -> None:
    async with client_for(ValidatorSettings(AUTH_JWKS_URL=jwks_server.url)) as client:
        schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Access token from POST /auth/login",
    }
    assert schema["paths"]["/whoami"]["get"]["security"] == [{"HTTPBearer": []}]


async def test_stream_takes_the_query_token_and_carries_its_expiry(
    jwks_server: JwksServer, signer: Any
) -> None:
    jwks_server.signers[:] = [signer]
    expires = signer.claims()["exp"] + 60
    token = signer.token(exp=expires)
    async with client_for(ValidatorSettings(AUTH_JWKS_URL=jwks_server.url)) as client:
        by_query = await client.get("/stream", params={"access_token": token})
        by_header = await client.get("/stream", headers=bearer(token))
        assert by_query.json() == by_header.json() == {"expires_at": float(expires)}
        # Only stream routes read the query: elsewhere it proves nothing.
        assert (await client.get("/whoami", params={"access_token": token})).status_code == 401
        forged = await client.get("/stream", params={"access_token": token[:-4] + "AAAA"})
        assert forged.status_code == 401
        assert forged.json()["detail"].startswith("Invalid access token")


async def test_password_flow_scheme_reads_the_same_header(
    jwks_server: JwksServer, signer: Any
) -> None:
    jwks_server.signers[:] = [signer]
    token = signer.token(username="dave")
    async with client_for(ValidatorSettings(AUTH_JWKS_URL=jwks_server.url)) as client:
        response = await client.get("/login-flow", headers=bearer(token))
        assert response.json() == {"username": "dave"}
        schema = (await client.get("/openapi.json")).json()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/auth/login"
