"""Unit tests see the settings' defaults, never what the caller's shell happens to export."""

import pytest

from auth_validator.settings import ValidatorSettings


@pytest.fixture(autouse=True)
def _settings_from_defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ValidatorSettings.model_fields:
        monkeypatch.delenv(name, raising=False)
