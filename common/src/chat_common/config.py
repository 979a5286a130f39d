"""The settings base every service's `Settings` extends."""

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIX = "dev-only"


class ServiceSettings(BaseSettings):
    """Fields every service reads; each service adds its own in its `config.py`.

    Field names are the environment variable names, so a setting is found by grep.
    """

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    ENVIRONMENT: Literal["dev", "test", "prod"] = "dev"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

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
