"""Domain errors and the one exception handler that maps them to HTTP, for every service."""

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

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
    document_errors(app)
