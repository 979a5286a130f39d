"""The one exception handler: domain errors to their status, driver errors to 503."""

import httpx
from fastapi import FastAPI, status

from chat_common.errors import RateLimited, ServiceError, install_error_handler


class ThingNotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    detail = "thing not found"


class TokenRefused(ServiceError):
    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "token refused"


class StoreDown(ServiceError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = "store down"


class SendingTooFast(RateLimited):
    detail = "sending too fast"


class DriverTimeout(Exception):
    """Stands in for a database driver's own exception type."""


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handler(app, unavailable=(DriverTimeout,), unavailable_detail="db unreachable")
    errors: dict[str, Exception] = {
        "missing": ThingNotFound(),
        "refused": TokenRefused(),
        "down": StoreDown(),
        "driver": DriverTimeout("read timed out"),
        "limited": SendingTooFast(3),
    }

    @app.get("/{case}")
    async def fail(case: str) -> None:
        raise errors[case]

    return app


async def call(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)


async def test_domain_error_has_its_status_and_message() -> None:
    response = await call("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "thing not found"}


async def test_401_asks_for_a_bearer_token() -> None:
    response = await call("/refused")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_503_says_when_to_retry() -> None:
    response = await call("/down")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


async def test_driver_error_becomes_503_not_500() -> None:
    response = await call("/driver")
    assert response.status_code == 503
    assert response.json() == {"detail": "db unreachable"}
    assert response.headers["retry-after"] == "1"


async def test_a_rate_limit_is_429_with_retry_after() -> None:
    response = await call("/limited")
    assert response.status_code == 429
    assert response.json() == {"detail": "sending too fast"}
    assert response.headers["retry-after"] == "3"
