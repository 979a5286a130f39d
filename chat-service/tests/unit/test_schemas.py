import pytest
from pydantic import ValidationError

from chat_service.api.schemas import MAX_TEXT_LENGTH, MessageCreate


def test_text_is_trimmed() -> None:
    assert MessageCreate(text="  hi \n").text == "hi"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "x" * (MAX_TEXT_LENGTH + 1)])
def test_empty_or_too_long_text_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        MessageCreate(text=text)


def test_limit_holds_for_the_text_as_sent_and_padding_is_trimmed() -> None:
    # The API document's maxLength describes the text as sent (schemathesis checks it).
    with pytest.raises(ValidationError, match=f"at most {MAX_TEXT_LENGTH}"):
        MessageCreate(text=" " + "x" * MAX_TEXT_LENGTH + " ")
    assert MessageCreate(text=" " + "x" * (MAX_TEXT_LENGTH - 2) + " ").text == "x" * (
        MAX_TEXT_LENGTH - 2
    )


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        MessageCreate.model_validate({"text": "hi", "sender_id": "someone"})


@pytest.mark.parametrize("text", ["\x1b[2J clear", "a\x00b", "spoof\u202etxt", "bell\x07"])
def test_control_characters_and_bidi_overrides_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="is not allowed"):
        MessageCreate(text=text)


def test_newlines_and_tabs_inside_text_are_kept() -> None:
    assert MessageCreate(text="line one\n\tline two").text == "line one\n\tline two"
