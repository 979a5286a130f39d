"""The sweeper's memory of chats: bounded, and each chat only until its batches expired."""

from datetime import UTC, datetime, timedelta

from aggregator.sweeper import ChatsToSweep

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_a_chat_is_kept_until_a_sweep_after_its_newest_batch_expired() -> None:
    chats = ChatsToSweep(limit=10)
    chats.add("a", NOW + timedelta(seconds=60))
    chats.add("b", NOW + timedelta(seconds=10))
    chats.add("a", NOW + timedelta(seconds=5))  # an older expiry never shortens the wait
    chats.swept(NOW + timedelta(seconds=30))
    assert list(chats) == ["a"]
    chats.swept(NOW + timedelta(seconds=60))
    assert list(chats) == [] and len(chats) == 0


def test_a_chat_is_due_once_its_oldest_batch_may_have_expired() -> None:
    chats = ChatsToSweep(limit=10)
    chats.add("a", NOW + timedelta(seconds=60))
    chats.add("b", NOW + timedelta(seconds=10))
    chats.add("a", NOW + timedelta(seconds=30))  # a shorter life, written later
    assert chats.due(NOW) == []
    assert chats.due(NOW + timedelta(seconds=10)) == ["b"]
    assert chats.due(NOW + timedelta(seconds=30)) == ["b", "a"]
    chats.swept(NOW + timedelta(seconds=30))
    # "a" still holds a batch that expires later: due at every sweep until it is forgotten.
    assert chats.due(NOW + timedelta(seconds=31)) == ["a"]


def test_at_most_limit_chats_least_recently_written_dropped_first() -> None:
    chats = ChatsToSweep(limit=2)
    later = NOW + timedelta(hours=1)
    for chat in ("a", "b", "a", "c"):
        chats.add(chat, later)
    assert list(chats) == ["a", "c"]


def test_limit_zero_remembers_nothing() -> None:
    chats = ChatsToSweep(limit=0)
    chats.add("a", NOW)
    assert len(chats) == 0
