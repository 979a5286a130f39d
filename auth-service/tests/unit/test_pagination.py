"""Opaque cursors: round trip, and every altered form refused."""

import base64

import pytest

from auth_service.pagination import InvalidCursor, decode_cursor, encode_cursor


def test_round_trip() -> None:
    cursor = encode_cursor("alice_01")
    assert "alice" not in cursor  # opaque to clients
    assert decode_cursor(cursor) == "alice_01"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        _b64(b"not json"),
        _b64(b"[1, 2]"),
        _b64(b'{"v": 2, "after": "alice"}'),
        _b64(b'{"v": 1}'),
        _b64(b'{"v": 1, "after": "Alice"}'),  # cursors carry lowered names only
        _b64(b'{"v": 1, "after": "a\' OR 1=1 --"}'),
    ],
)
def test_invalid_cursors(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)
