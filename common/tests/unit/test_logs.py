"""JSON log lines carry the service name and the current request id, and no secret: not in
the message, however its name is spelled, and not in a traceback."""

import json
import logging
import sys

import pytest

from chat_common.logs import JsonFormatter, configure_logging, request_id_var


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("chat.test", logging.INFO, __file__, 1, message, args, None)


def test_line_is_json_with_all_fields() -> None:
    token = request_id_var.set("req-1")
    try:
        line = JsonFormatter("chat-service").format(record("stored %s", "m1"))
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["service"] == "chat-service"
    assert entry["request_id"] == "req-1"
    assert entry["message"] == "stored m1"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "chat.test"
    assert entry["timestamp"].endswith("+00:00")


def test_request_id_is_null_outside_a_request() -> None:
    assert json.loads(JsonFormatter("x").format(record("hi")))["request_id"] is None


def test_tokens_in_query_strings_are_redacted() -> None:
    line = JsonFormatter("x").format(
        record('"GET /chat/1/events?access_token=eyJhbGciOi.abc.def&since=5 HTTP/1.1" 200')
    )
    message = json.loads(line)["message"]
    assert "eyJ" not in message
    assert "access_token=[redacted]&since=5" in message


def test_an_access_log_uvicorn_switched_off_stays_off() -> None:
    access = logging.getLogger("uvicorn.access")
    saved = (access.handlers[:], access.propagate)
    try:
        access.handlers[:] = []  # what uvicorn does for --no-access-log
        access.propagate = False
        configure_logging("x")
        assert not access.hasHandlers()
    finally:
        access.handlers[:], access.propagate = saved


@pytest.mark.parametrize(
    ("secret_carrier", "kept"),
    [
        # Percent-encoded names are the same parameter to the server (N12).
        ("GET /chat/1/events?access%5Ftoken=SECRET&since=5", "since=5"),
        ("GET /chat/1/events?access%5ftoken=SECRET", "/chat/1/events?"),
        ("GET /x?%61ccess_token=SECRET", "/x?"),
        ("GET /x?since=1&refresh_token=SECRET", "since=1&"),
        ("POST /auth/login username=alice&password=SECRET", "username=alice&"),
        # Bodies quoted by an error, JSON or a repr.
        ('body: {"refresh_token": "SECRET", "device": "phone"}', '"device": "phone"'),
        ("input {'password': 'SECRET', 'username': 'bob'}", "'username': 'bob'"),
        ("headers: Authorization: Bearer SECRETSECRETSECRET1234", "Authorization: Bearer"),
    ],
)
def test_secrets_are_redacted_however_they_are_spelled(secret_carrier: str, kept: str) -> None:
    message = json.loads(JsonFormatter("x").format(record(secret_carrier)))["message"]
    assert "SECRET" not in message
    assert "[redacted]" in message
    assert kept in message


def test_a_jwt_is_redacted_wherever_it_appears() -> None:
    token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    message = json.loads(JsonFormatter("x").format(record("refused %s", token)))["message"]
    assert message == "refused [redacted]"


def test_tracebacks_are_redacted_too() -> None:
    try:
        raise ValueError("GET /chat/1/events?access%5Ftoken=SECRET failed")
    except ValueError:
        failure = logging.LogRecord(
            "chat.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    entry = json.loads(JsonFormatter("x").format(failure))
    assert "Traceback" in entry["exc_info"]
    assert "SECRET" not in entry["exc_info"]
    assert "access%5Ftoken=[redacted]" in entry["exc_info"]


def test_ordinary_messages_are_left_alone() -> None:
    text = 'Retry(total=2, read=None) WWW-Authenticate: Bearer error="invalid_token" n=5'
    assert json.loads(JsonFormatter("x").format(record(text)))["message"] == text
