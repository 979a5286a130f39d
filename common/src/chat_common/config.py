"""The settings base every service's `Settings` extends."""

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIX = "dev-only"


class ServiceSettings(BaseSettings):
    """Fields every service reads; each service adds its own in its `config.py`.

    Field names are the environment variable names, so a setting is found by grep.
    """

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    ENVIRONMENT: Literal["dev", "test", "prod"] = "dev"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Larger request bodies get a 413 before they are read: the biggest legitimate body
    # (a 4,000-character message, JSON-escaped) is far below this.
    MAX_REQUEST_BODY_BYTES: int = Field(default=65_536, ge=1024)
    # /docs, /redoc and /openapi.json; production turns them off (the API is in DESIGN.md).
    API_DOCS_ENABLED: bool = True
    # 0: /metrics is served on the service's own port (a local run). Otherwise on this
    # port only, at OPS_HOST, which the public Service does not expose.
    OPS_PORT: int = Field(default=0, ge=0, le=65_535)
    OPS_HOST: str = "127.0.0.1"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "ServiceSettings":
        # A placeholder secret that reaches production is a breach waiting to happen.
        if self.ENVIRONMENT == "prod":
            for name, value in self:
                if isinstance(value, SecretStr) and value.get_secret_value().startswith(
                    PLACEHOLDER_PREFIX
                ):
                    raise ValueError(f"{name} holds a placeholder secret outside dev")
        return self
