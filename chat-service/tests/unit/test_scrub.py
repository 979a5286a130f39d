"""Which texts of a batch document a scrub blanks, and when it writes nothing."""

from chat_service.projections.scrub import blanked


def test_only_the_matching_entries_lose_their_text() -> None:
    data = {
        "messages": [{"id": "a", "text": "secret", "sent_at": 1}, {"id": "b", "text": "kept"}],
        "edits": [{"id": "a", "text": "secret too"}, {"id": "c", "text": "kept too"}],
        "deletes": [{"id": "a"}],
    }
    update = blanked(data, lambda entry: entry.get("id") == "a")
    assert update == {
        "messages": [{"id": "a", "text": "", "sent_at": 1}, {"id": "b", "text": "kept"}],
        "edits": [{"id": "a", "text": ""}, {"id": "c", "text": "kept too"}],
    }


def test_nothing_to_write_when_the_texts_are_already_blank_or_absent() -> None:
    data = {"messages": [{"id": "a", "text": ""}], "edits": []}
    assert blanked(data, lambda entry: entry.get("id") == "a") is None
    assert blanked(data, lambda entry: entry.get("id") == "z") is None
    assert blanked({}, lambda _entry: True) is None
