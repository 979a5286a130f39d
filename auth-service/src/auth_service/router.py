"""HTTP routes: parse input, call the service, return a schema."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from auth_service.dependencies import (
    AuthServiceDep,
    ClientAddress,
    CurrentPrincipal,
    LoginCredentials,
    ValidCursor,
)
from auth_service.schemas import (
    JsonWebKeySet,
    LoginRequest,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPage,
    UserPublic,
    UserSummary,
)
from auth_service.service import IssuedTokens
from chat_common.contract.usernames import USERNAME_PREFIX_PATTERN

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
keys_router = APIRouter(tags=["keys"])

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "Missing or bad token"}}

# The login body is parsed by a dependency (form or JSON), so describe both to OpenAPI here.
_LOGIN_FORM_SCHEMA = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["password"]},
        "username": {"type": "string"},
        "password": {"type": "string", "format": "password"},
        "scope": {"type": "string"},
    },
}
LOGIN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {"schema": _LOGIN_FORM_SCHEMA},
        },
    }
}


def _pair(tokens: IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
    )


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Username taken"}},
)
async def register(body: UserCreate, service: AuthServiceDep, address: ClientAddress) -> UserPublic:
    user = await service.register(body.username, body.password, body.display_name, address)
    return UserPublic.model_validate(user)


@auth_router.post("/login", openapi_extra=LOGIN_OPENAPI, responses=UNAUTHORIZED)
async def login(
    credentials: LoginCredentials, service: AuthServiceDep, address: ClientAddress
) -> TokenPair:
    return _pair(await service.login(credentials.username, credentials.password, address))


@auth_router.post("/refresh", responses=UNAUTHORIZED)
async def refresh(body: RefreshRequest, service: AuthServiceDep) -> TokenPair:
    return _pair(await service.refresh(body.refresh_token))


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=UNAUTHORIZED)
async def logout(body: RefreshRequest, service: AuthServiceDep) -> None:
    await service.logout(body.refresh_token)


@auth_router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses=UNAUTHORIZED)
async def logout_all(principal: CurrentPrincipal, service: AuthServiceDep) -> None:
    await service.logout_all(principal.id)


@users_router.get("", responses=UNAUTHORIZED)
async def search_users(
    _: CurrentPrincipal,
    service: AuthServiceDep,
    cursor: ValidCursor,
    q: Annotated[str, Query(pattern=USERNAME_PREFIX_PATTERN)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> UserPage:
    users, next_cursor = await service.search_users(q, cursor, limit)
    return UserPage(
        items=[UserSummary.model_validate(user) for user in users], next_cursor=next_cursor
    )


@users_router.get("/me", responses=UNAUTHORIZED)
async def read_me(principal: CurrentPrincipal, service: AuthServiceDep) -> UserPublic:
    return UserPublic.model_validate(await service.get_user(principal.id))


@users_router.get("/{user_id}", responses={**UNAUTHORIZED, 404: {"description": "No such user"}})
async def read_user(user_id: uuid.UUID, _: CurrentPrincipal, service: AuthServiceDep) -> UserPublic:
    return UserPublic.model_validate(await service.get_user(user_id))


@keys_router.get("/.well-known/jwks.json")
async def jwks(request: Request, response: Response) -> JsonWebKeySet:
    # Short public caching: validators refetch on an unknown kid anyway.
    response.headers["Cache-Control"] = "public, max-age=60"
    return JsonWebKeySet.model_validate(request.app.state.signer.jwks())
