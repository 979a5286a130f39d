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
from chat_common.error_model import error_responses
from chat_common.openapi_links import link

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
keys_router = APIRouter(tags=["keys"])

UNAUTHORIZED = error_responses((401, "Missing or bad token"))
_DATABASE_DOWN = (503, "PostgreSQL unavailable, or too many passwords being hashed at once")
_TOO_MANY = (429, "Too many attempts from this address (or for this username): see Retry-After")

# OpenAPI links: what a client (and the conformance suite) does next with an answer.
_REGISTERED_LINKS = {
    "login": link(
        "/auth/login",
        "POST",
        request_body={
            "username": "$request.body#/username",
            "password": "$request.body#/password",
        },
    ),
    "user": link("/users/{user_id}", "GET", {"user_id": "$response.body#/id"}),
}
_TOKEN_LINKS = {
    name: link(path, "POST", request_body={"refresh_token": "$response.body#/refresh_token"})
    for name, path in (("refresh", "/auth/refresh"), ("logout", "/auth/logout"))
}

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
    summary="Create an account",
    responses={
        201: {"description": "The new user", "links": _REGISTERED_LINKS},
        **error_responses((409, "Username taken (case-insensitively)"), _TOO_MANY, _DATABASE_DOWN),
    },
)
async def register(body: UserCreate, service: AuthServiceDep, address: ClientAddress) -> UserPublic:
    """Register `username` (3-32 letters, digits, `_.-`) with a password of 8-128
    characters and an optional display name."""
    user = await service.register(body.username, body.password, body.display_name, address)
    return UserPublic.model_validate(user)


@auth_router.post(
    "/login",
    summary="Log in",
    openapi_extra=LOGIN_OPENAPI,
    responses={
        200: {"description": "An access and a refresh token", "links": _TOKEN_LINKS},
        **error_responses(
            (401, "Unknown user or wrong password (one answer for both)"),
            (415, "Neither JSON nor an OAuth2 password form"),
            _TOO_MANY,
            _DATABASE_DOWN,
        ),
    },
)
async def login(
    credentials: LoginCredentials, service: AuthServiceDep, address: ClientAddress
) -> TokenPair:
    """Exchange a username and password, as JSON or as an OAuth2 password form, for an
    access token and a refresh token."""
    return _pair(await service.login(credentials.username, credentials.password, address))


@auth_router.post(
    "/refresh",
    summary="Rotate the refresh token",
    responses={
        200: {"description": "A new token pair", "links": _TOKEN_LINKS},
        **error_responses((401, "Refresh token invalid, expired or revoked"), _DATABASE_DOWN),
    },
)
async def refresh(body: RefreshRequest, service: AuthServiceDep) -> TokenPair:
    """A new token pair for a refresh token, which then stops working (reusing it revokes
    every token of its login)."""
    return _pair(await service.refresh(body.refresh_token))


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out one login",
    responses=error_responses((401, "Refresh token unknown or invalid"), _DATABASE_DOWN),
)
async def logout(body: RefreshRequest, service: AuthServiceDep) -> None:
    """Revoke this refresh token and every token rotated from the same login."""
    await service.logout(body.refresh_token)


@auth_router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out everywhere",
    responses={**UNAUTHORIZED, **error_responses(_DATABASE_DOWN)},
)
async def logout_all(principal: CurrentPrincipal, service: AuthServiceDep) -> None:
    """Revoke every refresh token of the caller."""
    await service.logout_all(principal.id)


@users_router.get(
    "", summary="Find users", responses={**UNAUTHORIZED, **error_responses(_DATABASE_DOWN)}
)
async def search_users(
    _: CurrentPrincipal,
    service: AuthServiceDep,
    cursor: ValidCursor,
    q: Annotated[str, Query(pattern=USERNAME_PREFIX_PATTERN)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> UserPage:
    """Users whose username starts with `q` (case-insensitively), in username order;
    `next_cursor` fetches the next page."""
    users, next_cursor = await service.search_users(q, cursor, limit)
    return UserPage(
        items=[UserSummary.model_validate(user) for user in users], next_cursor=next_cursor
    )


@users_router.get(
    "/me",
    summary="The caller",
    responses={
        **UNAUTHORIZED,
        **error_responses((404, "The caller's account no longer exists"), _DATABASE_DOWN),
    },
)
async def read_me(principal: CurrentPrincipal, service: AuthServiceDep) -> UserPublic:
    """The user the access token belongs to."""
    return UserPublic.model_validate(await service.get_user(principal.id))


@users_router.get(
    "/{user_id}",
    summary="A user",
    responses={**UNAUTHORIZED, **error_responses((404, "No such user"), _DATABASE_DOWN)},
)
async def read_user(user_id: uuid.UUID, _: CurrentPrincipal, service: AuthServiceDep) -> UserPublic:
    """The user with this id."""
    return UserPublic.model_validate(await service.get_user(user_id))


@keys_router.get("/.well-known/jwks.json", summary="Token signing keys")
async def jwks(request: Request, response: Response) -> JsonWebKeySet:
    """The public keys access tokens are signed with (JWKS), for local verification."""
    # Short public caching: validators refetch on an unknown kid anyway.
    response.headers["Cache-Control"] = "public, max-age=60"
    return JsonWebKeySet.model_validate(request.app.state.signer.jwks())
