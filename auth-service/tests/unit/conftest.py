"""Unit tests see the settings' defaults, never what the caller's shell happens to export."""

import pytest

from auth_service.config import Settings
from auth_validator import ValidatorSettings


@pytest.fixture(autouse=True)
def _settings_from_defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # The service's own settings, and the validator's it builds to check its tokens.
    for name in {*Settings.model_fields, *ValidatorSettings.model_fields}:
        monkeypatch.delenv(name, raising=False)
