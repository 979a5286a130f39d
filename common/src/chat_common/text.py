"""The rule for human-written text (messages, display names, usernames): no control
characters but newline and tab, and no bidirectional overrides.

Escape sequences in text clear or rewrite a reader's terminal, and bidi overrides make
text display differently from what it says ("Trojan Source"). The API refuses them with
a 422; clients that print text from elsewhere neutralise them with `printable`.
"""

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

# C0 controls except \t and \n, DEL, C1 controls; bidi embeddings/overrides (U+202A-202E)
# and isolates (U+2066-2069). Bidi *marks* (U+200E, U+200F, U+061C) stay allowed: right-
# to-left writers need them and they cannot reorder other text.
UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def reject_unsafe_characters(value: str) -> str:
    """`value` unchanged, or ValueError (a 422 in a request model) naming the first offender."""
    found = UNSAFE_CHARACTERS.search(value)
    if found:
        raise ValueError(
            f"control or bidi override character U+{ord(found.group()):04X} "
            f"at position {found.start()} is not allowed"
        )
    return value


def printable(value: str) -> str:
    """`value` with each unsafe character shown as a visible `\\xNN`/`\\uNNNN` escape."""
    return UNSAFE_CHARACTERS.sub(lambda m: m.group().encode("unicode_escape").decode(), value)


# The same rule as JSON-schema patterns (ECMA and Python syntax alike), so API documents
# say which text is refused. _WHITESPACE is what `strip_whitespace` trims (Unicode
# White_Space); a stripped value must keep a first and last character that is neither.
_UNSAFE = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_WHITESPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SAFE_TEXT_PATTERN = f"^[^{_UNSAFE}]*$"
SAFE_STRIPPED_TEXT_PATTERN = (
    f"^[{_WHITESPACE}]*[^{_WHITESPACE}{_UNSAFE}](?:[^{_UNSAFE}]*[^{_WHITESPACE}{_UNSAFE}])?"
    f"[{_WHITESPACE}]*$"
)


class _SafeText:
    """Validates with `reject_unsafe_characters` and documents the rule as a pattern
    (unless the string already has a stricter one, as usernames do)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            reject_unsafe_characters, handler(source)
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        inner: Any = schema.get("schema", {})
        if inner.get("type") == "function-before":  # RawMaxLength wraps the str schema
            inner = inner.get("schema", {})
        # Stripped and at least one character long: the pattern says what is left.
        stripped = inner.get("strip_whitespace") and inner.get("min_length", 0) >= 1
        json_schema.setdefault(
            "pattern", SAFE_STRIPPED_TEXT_PATTERN if stripped else SAFE_TEXT_PATTERN
        )
        return json_schema


# Apply after the other constraints (so after stripping): `Annotated[str, ..., SafeText]`.
SafeText = _SafeText()
SafeStr = Annotated[str, SafeText]


class RawMaxLength:
    """At most `limit` characters as sent, checked before `strip_whitespace` trims: the
    API document's `maxLength` describes the text as sent, so a padded text over it is
    refused rather than accepted once trimmed. Put it after the StringConstraints (it
    wraps them, so it runs first)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def _within(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) > self.limit:
            raise ValueError(f"at most {self.limit} characters")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._within, handler(source))
