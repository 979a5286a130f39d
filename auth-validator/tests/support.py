"""Fakes shared by the validator's unit tests: a clock and a JWKS endpoint."""

from typing import Any

import httpx

from auth_validator import TokenValidator, ValidatorSettings

URL = "http://auth.test/.well-known/jwks.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeJwks:
    """Serves whatever keys the test publishes; can be switched off."""

    def __init__(self, *signers: Any) -> None:
        self.signers = list(signers)
        self.requests = 0
        self.up = True

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"keys": [s.jwk() for s in self.signers]})


def make_validator(server: FakeJwks, clock: FakeClock) -> TokenValidator:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
    settings = ValidatorSettings(AUTH_JWKS_URL=URL, AUTH_JWKS_REFRESH_INTERVAL_SECONDS=30)
    return TokenValidator(settings, http, clock=clock)
