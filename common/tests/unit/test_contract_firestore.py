"""The client factory points a client at the emulator without touching the environment."""

import os

import pytest

from chat_common.contract.firestore import async_firestore_client, firestore_client


def test_the_emulator_is_set_on_the_client_not_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    before = dict(os.environ)
    sync_client = firestore_client("demo-chat", "127.0.0.1:18080")
    async_client = async_firestore_client("demo-chat", "127.0.0.1:18081")
    assert dict(os.environ) == before
    assert sync_client.project == async_client.project == "demo-chat"
    assert sync_client._target == "127.0.0.1:18080"
    assert async_client._target == "127.0.0.1:18081"


def test_the_setting_wins_over_a_stray_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "elsewhere:1")
    assert firestore_client("demo-chat", "127.0.0.1:18080")._target == "127.0.0.1:18080"
