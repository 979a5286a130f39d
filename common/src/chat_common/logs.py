"""JSON-lines logging to stdout with the current request id."""

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Browsers' EventSource cannot send headers, so one route takes the token in the query
# string; an access-log line must never carry it.
_TOKEN_IN_QUERY = re.compile(r"((?:access|refresh)_token=)[^&\s\"']+")


def redact(message: str) -> str:
    """The message with any token passed as a query parameter replaced."""
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", message)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, service, request_id, message."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "service": self.service,
            "request_id": request_id_var.get(),
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every logger's records to stdout as JSON lines (idempotent)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn installs its own handlers; route them through ours instead. A logger uvicorn
    # switched off (`--no-access-log` leaves it without handlers, not propagating) stays off.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        if uvicorn_logger.handlers:
            uvicorn_logger.handlers[:] = []
            uvicorn_logger.propagate = True
