"""Why a token was refused, and why no decision could be made."""

from enum import StrEnum


class VerificationFailure(StrEnum):
    """Why a verification failed: the `reason` label of the failure counter (a fixed set,
    so its series can exist before the first failure)."""

    MALFORMED = "malformed"
    ALGORITHM = "algorithm"
    UNKNOWN_KEY = "unknown_key"
    SIGNATURE = "signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    AUDIENCE = "audience"
    ISSUER = "issuer"
    CLAIMS = "claims"
    NOT_ACCESS_TOKEN = "not_access_token"
    # Not a refusal: no key was at hand to decide with (KeysUnavailable).
    KEYS_UNAVAILABLE = "keys_unavailable"


class InvalidToken(Exception):
    """The token is not a valid access token; the message says why (safe to show a client)."""

    def __init__(self, message: str, reason: VerificationFailure) -> None:
        super().__init__(message)
        self.reason = reason


class KeysUnavailable(Exception):
    """No verification key is at hand: the JWKS endpoint is unreachable and nothing is cached."""
