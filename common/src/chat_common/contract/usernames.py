"""The username rule: 3 to 32 letters, digits, `_`, `.` or `-`; unique case-insensitively."""

import re

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 32
_CHARACTERS = "A-Za-z0-9_.-"

USERNAME_PATTERN = rf"^[{_CHARACTERS}]{{{USERNAME_MIN_LENGTH},{USERNAME_MAX_LENGTH}}}$"
"""A whole username (also the database's check constraint)."""

USERNAME_PREFIX_PATTERN = rf"^[{_CHARACTERS}]{{0,{USERNAME_MAX_LENGTH}}}$"
"""A search prefix: the start of some username, possibly empty."""

_USERNAME = re.compile(USERNAME_PATTERN)


def is_username(value: str) -> bool:
    """True when `value` follows the username rule."""
    return _USERNAME.fullmatch(value) is not None
