import pytest

from chat_service.config import Settings


def test_defaults_work_locally() -> None:
    settings = Settings()
    assert settings.cassandra_contact_points == ["127.0.0.1"]
    assert settings.CASSANDRA_KEYSPACE == "chat"
    assert settings.KAFKA_TOPIC == "chat-messages"
    assert settings.AUTH_ISSUER == "chat-auth"


def test_hosts_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASSANDRA_HOSTS", "10.0.0.1, 10.0.0.2")
    monkeypatch.setenv("MESSAGE_BUCKET_SECONDS", "60")
    settings = Settings()
    assert settings.cassandra_contact_points == ["10.0.0.1", "10.0.0.2"]
    assert settings.MESSAGE_BUCKET_SECONDS == 60


@pytest.mark.parametrize("seconds", ["0", "-0.001", "1"])
def test_a_switch_interval_out_of_range_is_refused(
    monkeypatch: pytest.MonkeyPatch, seconds: str
) -> None:
    monkeypatch.setenv("GIL_SWITCH_INTERVAL_SECONDS", seconds)
    with pytest.raises(ValueError, match="GIL_SWITCH_INTERVAL_SECONDS"):
        Settings()
