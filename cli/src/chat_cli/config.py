"""Settings of the command-line client; the only module that reads the environment."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Field names are the environment variable names; defaults suit `make up`."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    AUTH_URL: str = "http://127.0.0.1:8001"
    CHAT_URL: str = "http://127.0.0.1:8002"
    # Empty means production Firestore with the ambient Google credentials.
    FIRESTORE_EMULATOR_HOST: str = "127.0.0.1:8080"
    FIRESTORE_PROJECT: str = "demo-chat"
    # Where the session (tokens) is kept; empty means ~/.config/chat-cli.
    CHAT_CONFIG_DIR: Path | None = None
    HTTP_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)

    @property
    def config_dir(self) -> Path:
        """The directory holding this user's session file."""
        return self.CHAT_CONFIG_DIR or Path.home() / ".config" / "chat-cli"


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
