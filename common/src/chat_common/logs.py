"""JSON-lines logging to stdout with the current request id."""

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import unquote_plus

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Browsers' EventSource cannot send headers, so one route takes the token in the query
# string; no log line may carry it, nor any other secret that reaches a message or a
# traceback (an exception's text often quotes a URL, a body or a header).
SECRET_NAMES = frozenset(
    {"access_token", "refresh_token", "id_token", "token", "password", "client_secret"}
)
REDACTED = "[redacted]"

# name=value as in a query string or form. Servers percent-decode names (and `+`), so
# `access%5Ftoken=` is the same parameter: names are compared decoded.
_PARAMETER = re.compile(r"(?<![\w%.~+-])([\w%.~+-]+)=([^&\s\"'<>]*)")
# "name": "value" in JSON, 'name': 'value' in a repr.
_QUOTED = re.compile(r"""(["'])([\w%.~+-]+)\1(\s*:\s*)(["'])(.*?)(?<!\\)\4""")
# A bearer credential in a header, and anything shaped like a JWT, wherever it is.
_BEARER = re.compile(r"(?i)\b(bearer\s+)[\w.~+/-]{16,}=*")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")


def _secret(name: str) -> bool:
    return unquote_plus(name).lower() in SECRET_NAMES


def redact(message: str) -> str:
    """The message with every secret it carries replaced: parameters and quoted fields
    with a secret's name (percent-encoded or not), bearer credentials, JWTs."""
    message = _PARAMETER.sub(
        lambda m: f"{m[1]}={REDACTED}" if _secret(m[1]) and m[2] else m[0], message
    )
    message = _QUOTED.sub(
        lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{REDACTED}{m[4]}" if _secret(m[2]) else m[0],
        message,
    )
    message = _BEARER.sub(rf"\1{REDACTED}", message)
    return _JWT.sub(REDACTED, message)


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
        # A traceback quotes exception messages (URLs, bodies, headers): redacted too.
        if record.exc_info:
            entry["exc_info"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack_info"] = redact(self.formatStack(record.stack_info))
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
