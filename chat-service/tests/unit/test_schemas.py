import pytest
from pydantic import ValidationError

from chat_service.schemas import MAX_TEXT_LENGTH, MessageCreate


def test_text_is_trimmed() -> None:
    assert MessageCreate(text="  hi \n").text == "hi"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "x" * (MAX_TEXT_LENGTH + 1)])
def test_empty_or_too_long_text_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        MessageCreate(text=text)


def test_limit_counts_what_is_kept_after_trimming() -> None:
    assert len(MessageCreate(text=" " + "x" * MAX_TEXT_LENGTH + " ").text) == MAX_TEXT_LENGTH


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        MessageCreate.model_validate({"text": "hi", "sender_id": "someone"})
