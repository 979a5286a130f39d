"""Annotated dependency aliases: the service, the caller, login credentials, page cursor."""

import json
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from auth_service.client_address import ClientAddresses
from auth_service.pagination import InvalidCursor, decode_cursor
from auth_service.schemas import LoginRequest
from auth_service.service import AuthService
from auth_validator import Principal
from auth_validator.fastapi import password_flow_scheme, principal_dependency
from chat_common.body_limit import read_body
from chat_common.service_app import request_state, state_dependency

MAX_LOGIN_BODY_BYTES = 8192

# The OAuth2 password scheme (not plain HTTPBearer) so Swagger UI's "Authorize" button logs
# in through /auth/login and then sends the token.
oauth2_scheme = password_flow_scheme("/auth/login")


AuthServiceDep = Annotated[AuthService, Depends(state_dependency("auth_service", AuthService))]


async def get_client_address(request: Request) -> str:
    """The caller's address for rate limits (X-Forwarded-For only from trusted proxies)."""
    addresses = request_state(request, "client_addresses", ClientAddresses)
    return addresses.of(
        request.client.host if request.client else None, request.headers.get("x-forwarded-for")
    )


ClientAddress = Annotated[str, Depends(get_client_address)]
CurrentPrincipal = Annotated[Principal, Depends(principal_dependency(oauth2_scheme))]


def _body_error(message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body",), "msg": message}])


async def login_credentials(request: Request) -> LoginRequest:
    """Username and password from an OAuth2 password form or from a JSON body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # 413 before reading past the limit, whether the size is declared or streamed.
    body = await read_body(request, MAX_LOGIN_BODY_BYTES)
    try:
        if media_type == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if form.get("grant_type", "password") != "password":
                raise _body_error("grant_type must be 'password'")
            data: object = form
        elif media_type == "application/json":
            data = json.loads(body)
        else:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                "Send application/json or application/x-www-form-urlencoded",
            )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _body_error("body is not valid UTF-8 JSON or form data") from exc
    try:
        return LoginRequest.model_validate(data)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


LoginCredentials = Annotated[LoginRequest, Depends(login_credentials)]


async def valid_cursor(
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of a page")
    ] = None,
) -> str | None:
    if cursor is not None:
        try:
            decode_cursor(cursor)
        except InvalidCursor as exc:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("query", "cursor"), "msg": str(exc)}]
            ) from exc
    return cursor


ValidCursor = Annotated[str | None, Depends(valid_cursor)]
