"""Caps on open SSE streams, per user and per pod."""

from chat_service.api.stream_slots import StreamSlots


def test_a_user_gets_at_most_per_user_streams() -> None:
    slots = StreamSlots(per_user=2, per_pod=10)
    held = [slots.acquire("a"), slots.acquire("a")]
    assert all(held)
    assert slots.acquire("a") is None
    assert slots.acquire("b") is not None


def test_the_pod_cap_holds_across_users() -> None:
    slots = StreamSlots(per_user=5, per_pod=3)
    assert all(slots.acquire(user) for user in "abc")
    assert slots.acquire("d") is None
    assert slots.open == 3


def test_a_released_slot_can_be_taken_again_and_release_is_idempotent() -> None:
    slots = StreamSlots(per_user=1, per_pod=1)
    slot = slots.acquire("a")
    assert slot is not None
    slot.release()
    slot.release()
    assert slots.open == 0
    assert slots.acquire("b") is not None
    assert slots.acquire("a") is None  # the pod cap, not a negative count
