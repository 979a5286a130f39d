"""Settings: a signing key is required; placeholders refused in prod."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from auth_service.config import DatabaseSettings, Settings


def test_a_signing_key_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_PRIVATE_KEY_FILE", raising=False)
    monkeypatch.delenv("JWT_PRIVATE_KEY", raising=False)
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEY_FILE"):
        Settings()
    assert DatabaseSettings().DATABASE_URL.endswith("/chat")  # migrations need no key


def test_env_vars_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", "/keys/jwt.pem")
    monkeypatch.setenv("ACCESS_TOKEN_TTL_SECONDS", "120")
    settings = Settings()
    assert settings.JWT_PRIVATE_KEY_FILE == Path("/keys/jwt.pem")
    assert settings.ACCESS_TOKEN_TTL_SECONDS == 120
    assert settings.REFRESH_TOKEN_TTL_SECONDS == 2_592_000


def test_placeholder_key_refused_in_prod() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(ENVIRONMENT="prod", JWT_PRIVATE_KEY="dev-only-key")
