"""The settings base refuses placeholder secrets outside development."""

import pytest
from pydantic import SecretStr, ValidationError

from chat_common.config import ServiceSettings


class Settings(ServiceSettings):
    SIGNING_KEY: SecretStr = SecretStr("dev-only-signing-key")


def test_placeholder_secret_is_fine_in_dev() -> None:
    assert Settings(ENVIRONMENT="dev").SIGNING_KEY.get_secret_value().startswith("dev-only")


def test_placeholder_secret_is_refused_in_prod() -> None:
    with pytest.raises(ValidationError, match="SIGNING_KEY holds a placeholder"):
        Settings(ENVIRONMENT="prod")


def test_real_secret_is_accepted_in_prod() -> None:
    assert Settings(ENVIRONMENT="prod", SIGNING_KEY=SecretStr("s3cret")).ENVIRONMENT == "prod"


def test_fields_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert Settings().LOG_LEVEL == "DEBUG"
