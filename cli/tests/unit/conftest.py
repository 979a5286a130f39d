"""Unit tests see the settings' defaults, never what the caller's shell happens to export."""

import pytest

from chat_cli.config import Settings


@pytest.fixture(autouse=True)
def _settings_from_defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
