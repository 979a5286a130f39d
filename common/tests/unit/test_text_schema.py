"""The text rule's JSON-schema pattern says exactly what the validator accepts."""

import re
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from chat_common.text import RawMaxLength, SafeText

Stripped = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), SafeText]
Plain = Annotated[str, SafeText]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z]+$"), SafeText]

SAMPLES = [
    "hi", " hi ", "a b", "\t a\tb \n", "\xa0hi\u3000", "\u200ea", "\x85a", " \x0bhi",
    "", "   ", "\x1fhi", "hi\x1f", "h\x0bi", "a\u202eb", "a\x00", "\x7f", "é\u2067",
]  # fmt: skip


def _accepts(annotation: Any, value: str) -> bool:
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("annotation", [Stripped, Plain], ids=["stripped", "plain"])
@pytest.mark.parametrize("value", SAMPLES)
def test_pattern_agrees_with_the_validator(annotation: Any, value: str) -> None:
    pattern = TypeAdapter(annotation).json_schema()["pattern"]
    assert bool(re.fullmatch(pattern, value)) == _accepts(annotation, value)


def test_a_stricter_pattern_is_kept() -> None:
    class Body(BaseModel):
        username: Username

    assert Body.model_json_schema()["properties"]["username"]["pattern"] == "^[a-z]+$"


Padded = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5),
    RawMaxLength(5),
    SafeText,
]


@pytest.mark.parametrize(
    "value", ["abcde", " abc ", "   ", "\x85" * 5 + "a", "a" + " " * 5, "abcdef"]
)
def test_max_length_holds_for_the_text_as_sent(value: str) -> None:
    """The documented maxLength describes the text as sent: a padded text over it is
    refused, not accepted once trimmed (schemathesis found `"\\x85" * 64 + "0"` accepted)."""
    schema = TypeAdapter(Padded).json_schema()
    documented = len(value) <= schema["maxLength"] and re.fullmatch(schema["pattern"], value)
    assert bool(documented) == _accepts(Padded, value)
