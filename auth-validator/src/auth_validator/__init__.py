"""Local verification of the chat backend's access tokens (no call to the auth service)."""

from auth_validator.errors import InvalidToken, KeysUnavailable, VerificationFailure
from auth_validator.principal import Principal
from auth_validator.settings import ValidatorSettings
from auth_validator.validator import TokenValidator

__all__ = [
    "InvalidToken",
    "KeysUnavailable",
    "Principal",
    "TokenValidator",
    "ValidatorSettings",
    "VerificationFailure",
]
