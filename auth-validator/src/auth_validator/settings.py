"""Settings of the validator, read from the environment (services may compose them)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ValidatorSettings(BaseSettings):
    """Where the verification keys come from and which claims a token must carry."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    AUTH_JWKS_URL: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    # A PEM public key, used instead of the JWKS URL when set (no network at all).
    AUTH_PUBLIC_KEY: str | None = None
    AUTH_ISSUER: str = "chat-auth"
    AUTH_AUDIENCE: str = "chat-backend"
    AUTH_LEEWAY_SECONDS: float = Field(default=30, ge=0, le=300)
    # Least time between two JWKS fetches triggered by an unknown `kid`, so forged kids
    # cannot turn every request into a call to the auth service.
    AUTH_JWKS_REFRESH_INTERVAL_SECONDS: float = Field(default=30, ge=0)
    AUTH_JWKS_TIMEOUT_SECONDS: float = Field(default=3, gt=0)
    # Cached keys are refreshed once older than this, so a key withdrawn from the JWKS
    # (a compromised one) stops being trusted within this long.
    AUTH_JWKS_MAX_AGE_SECONDS: float = Field(default=300, gt=0)
    # Verified access tokens remembered (each until its exp), so a client's repeated token
    # skips the signature check; about 1 KiB each. 0 turns the cache off.
    AUTH_TOKEN_CACHE_SIZE: int = Field(default=10_000, ge=0)
