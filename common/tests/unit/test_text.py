"""The rule for human-written text: no controls but newline and tab, no bidi overrides."""

import pytest
from pydantic import BaseModel, ValidationError

from chat_common.text import SafeStr, printable


class Body(BaseModel):
    text: SafeStr


@pytest.mark.parametrize(
    "text",
    ["hello", "two\nlines", "tab\there", "שלום \u200f marks", "emoji 👩\u200d👩\u200d👧", "é"],
)
def test_ordinary_text_passes(text: str) -> None:
    assert Body(text=text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "\x1b[2J",
        "bell\x07",
        "nul\x00",
        "cr\rover",
        "del\x7f",
        "c1\x85",
        "csi\x9b2J",
        "rlo\u202e",
        "iso\u2066",
    ],
)
def test_controls_and_bidi_overrides_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="is not allowed"):
        Body(text=text)


def test_printable_shows_unsafe_characters_as_escapes() -> None:
    assert printable("a\x1b[2Jb\u202ec\n\t") == "a\\x1b[2Jb\\u202ec\n\t"
