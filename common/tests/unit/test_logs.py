"""JSON log lines carry the service name and the current request id."""

import json
import logging

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
