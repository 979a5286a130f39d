"""`chat delete-account`, and how history shows edited and deleted messages, against the
real services."""

import re

import httpx
from support import PASSWORD, UUID, Pair, open_chat

from chat_cli.config import Settings


def test_delete_account_needs_the_password_and_leaves_a_deleted_user(pair: Pair) -> None:
    leaver, stayer, l_name = pair.alice, pair.bob, pair.a_name
    chat_id = open_chat(stayer, l_name)
    assert leaver("send", chat_id, "soon gone").code == 0

    wrong = leaver("delete-account", "--password", "not it", "--yes")
    assert wrong.code == 1 and "incorrect password" in wrong.err
    assert leaver("whoami").code == 0  # still logged in, still there

    deleted = leaver("delete-account", "--password", PASSWORD, "--yes")
    assert deleted.code == 0, deleted.err
    assert "account deleted" in deleted.out
    assert leaver("whoami").code == 1  # the session is forgotten here
    assert leaver("login", l_name, "--password", PASSWORD).code == 1
    # The chat stays for the other person, with the sender shown as deleted.
    shown = stayer("history", chat_id)
    assert shown.code == 0, shown.err
    assert "(deleted user)" in shown.out


def test_history_marks_edited_and_deleted_messages(pair: Pair, services: Settings) -> None:
    alice, bob, a_name = pair.alice, pair.bob, pair.a_name
    chat_id = open_chat(alice, pair.b_name)
    ids = [
        re.search(rf"sent ({UUID})", alice("send", chat_id, text).out) for text in ("typo", "oops")
    ]
    assert all(ids)
    first, second = (found.group(1) for found in ids if found)
    # The CLI has no edit command: the sender edits and deletes through the API.
    with httpx.Client(timeout=10) as http:
        login = http.post(
            f"{services.AUTH_URL}/auth/login", json={"username": a_name, "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        url = f"{services.CHAT_URL}/chat/{chat_id}/messages"
        assert http.patch(f"{url}/{first}", json={"text": "fixed"}, headers=headers).is_success
        assert http.delete(f"{url}/{second}", headers=headers).status_code == 204
    shown = bob("history", chat_id)
    assert shown.code == 0, shown.err
    lines = shown.out.strip().splitlines()
    assert "fixed (edited)" in lines[0] and first in lines[0]
    assert "(deleted)" in lines[1] and "oops" not in shown.out


def test_watch_after_a_gap_prints_what_was_missed_oldest_first(pair: Pair) -> None:
    alice, bob = pair.alice, pair.bob
    chat_id = open_chat(alice, pair.b_name)
    seen = re.search(rf"sent ({UUID})", alice("send", chat_id, "seen before the gap").out)
    assert seen
    for i in range(3):
        assert alice("send", chat_id, f"missed {i}").code == 0
    watched = bob("watch", chat_id, "--after", seen.group(1), "--timeout", "0.5", "--no-mark-read")
    assert watched.code == 0, watched.err
    texts = [line.split(": ", 1)[1].rsplit("  ", 1)[0] for line in watched.out.splitlines()]
    assert texts == ["missed 0", "missed 1", "missed 2"]
