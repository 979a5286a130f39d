"""Opaque keyset cursors for the user list: the last lowered username of a page."""

import base64
import binascii
import json

from chat_common.contract.usernames import is_username

CURSOR_VERSION = 1


class InvalidCursor(ValueError):
    """The cursor was not produced by this service (or was altered)."""


def encode_cursor(after: str) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> str:
    """The lowered username the next page starts after."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
        raise InvalidCursor("cursor is not valid")
    after = data.get("after")
    # The cursor holds a lowered username: the username rule, in lower case.
    if not isinstance(after, str) or not is_username(after) or after != after.lower():
        raise InvalidCursor("cursor is not valid")
    return after
