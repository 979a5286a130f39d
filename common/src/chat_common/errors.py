"""Domain errors and the one exception handler that maps them to HTTP, for every service."""

import logging
import re
from collections.abc import Mapping

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from chat_common.error_model import document_errors

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1


class ServiceError(Exception):
    """Base of the errors a service answers with: one status and one message per class.

    Services subclass it (`ChatNotFound`, `UsernameTaken`…) and raise from their rules;
    only the handler below knows about HTTP responses.
    """

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    detail: str = "internal error"
    headers: Mapping[str, str] | None = None

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers or {})
        if self.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
            # Clients (and load balancers) back off instead of hammering a store that is down.
            headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        elif self.status_code == status.HTTP_401_UNAUTHORIZED:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return headers


class DependencyUnavailable(ServiceError):
    """A store or service this one needs is down, overloaded or timed out."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = "service temporarily unavailable"


class RateLimited(ServiceError):
    """A per-caller limit was reached; `retry_after` (seconds) says when to try again."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    detail = "too many requests, retry later"

    def __init__(self, retry_after: int | str) -> None:
        super().__init__(self.detail)
        self.headers = {"Retry-After": str(retry_after)}


def _documented_methods(request: Request) -> set[str]:
    """The methods the app's OpenAPI document lists for this request's path."""
    methods: set[str] = set()
    for template, path_item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in path_item}
    return methods


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer to an HTTPException, with a 405's `Allow` naming every documented
    method of the path: Starlette names only those of the first route matching the path."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        allowed = _documented_methods(request)
        if allowed:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(allowed))}
    return await http_exception_handler(request, exc)


def install_error_handler(
    app: FastAPI,
    unavailable: tuple[type[Exception], ...] = (),
    unavailable_detail: str = DependencyUnavailable.detail,
) -> None:
    """Answer every `ServiceError` with its status, and the driver errors in `unavailable`
    (a store that is down) with 503: never a 500 or a hang. Every error answer has the one
    body of `chat_common.error_model`, and the app's OpenAPI document says so."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, ServiceError):
            logger.warning(
                "%s %s: dependency unavailable: %r", request.method, request.url.path, exc
            )
            exc = DependencyUnavailable()
            exc.detail = unavailable_detail
        elif exc.status_code >= 500:
            logger.warning("%s %s: %s", request.method, request.url.path, exc.detail)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.response_headers()
        )

    handled: tuple[type[Exception], ...] = (ServiceError, *unavailable)
    for error in handled:
        app.add_exception_handler(error, handle)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    document_errors(app)
