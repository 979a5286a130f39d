"""Every command of `chat`, run as a process against the real services."""

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from support import PASSWORD, UUID, Pair, Run, register


def test_two_people_find_each_other_chat_and_page_through_history(pair: Pair) -> None:
    alice, bob, a_name, b_name = pair.alice, pair.bob, pair.a_name, pair.b_name

    found = alice("users", b_name[:8])
    assert found.code == 0 and b_name in found.out

    opened = alice("chat", b_name)
    assert opened.code == 0, opened.err
    match = re.search(rf"chat with {b_name}: ({UUID})", opened.out)
    assert match, opened.out
    chat_id = match.group(1)
    # Bob opening the chat with Alice gets the same chat.
    assert chat_id in bob("chat", a_name).out

    for i in range(3):
        sent = alice("send", chat_id, f"from alice {i}")
        assert sent.code == 0 and re.search(rf"sent {UUID}", sent.out), sent.err
    assert bob("send", a_name, "from bob").code == 0  # a username works as CHAT too

    first = bob("history", chat_id, "--quantity", "2")
    assert first.code == 0, first.err
    lines = first.out.strip().splitlines()
    assert [line.split(": ", 1)[1].rsplit("  ", 1)[0] for line in lines] == [
        "from alice 2",
        "from bob",
    ]
    assert f"{a_name}: from alice 2" in lines[0]
    older = re.search(rf"--before ({UUID})", first.err)
    assert older, first.err

    second = bob("history", chat_id, "--quantity", "2", "--before", older.group(1))
    assert [line.split(": ", 1)[1].rsplit("  ", 1)[0] for line in second.out.splitlines()] == [
        "from alice 0",
        "from alice 1",
    ]
    third = bob("history", chat_id, "--before", "2000-01-01T00:00:00Z")
    assert third.code == 0 and third.out == "" and "(start of the chat)" in third.err

    listed = alice("chats")
    assert listed.code == 0 and chat_id in listed.out and b_name in listed.out


def test_an_expired_access_token_is_refreshed_through_the_auth_service(
    run_as: Callable[[str], Run], unique: Callable[[str], str], tmp_path: Path
) -> None:
    alice = run_as("alice")
    name = unique("clir")
    register(alice, name)
    session_file = tmp_path / "alice" / "session.json"
    before = json.loads(session_file.read_text())
    before["access_expires_at"] = 0  # as if the token had expired long ago
    session_file.write_text(json.dumps(before))

    result = alice("whoami")
    assert result.code == 0 and name in result.out
    after = json.loads(session_file.read_text())
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert after["access_expires_at"] > 0


def test_logout_ends_the_session_on_the_server(
    run_as: Callable[[str], Run], unique: Callable[[str], str], tmp_path: Path, services: Any
) -> None:
    alice = run_as("alice")
    register(alice, unique("clil"))
    refresh_token = json.loads((tmp_path / "alice" / "session.json").read_text())["refresh_token"]

    result = alice("logout")
    assert result.code == 0 and "logged out" in result.out, result.err
    assert not (tmp_path / "alice" / "session.json").exists()
    # The token is dead on the server too, not just deleted here.
    response = httpx.post(
        f"{services.AUTH_URL}/auth/refresh", json={"refresh_token": refresh_token}, timeout=10
    )
    assert response.status_code == 401
    assert "not logged in" in alice("logout").out


def test_errors_are_one_line_without_a_traceback(
    run_as: Callable[[str], Run], unique: Callable[[str], str]
) -> None:
    alice = run_as("alice")
    name = unique("clie")

    not_logged_in = alice("users")
    assert (not_logged_in.code, not_logged_in.err.strip()) == (
        1,
        "error: not logged in: run `chat login USERNAME` first",
    )

    register(alice, name)
    wrong = alice("login", name, "--password", "not-the-password")
    assert (wrong.code, wrong.err.strip()) == (1, "error: incorrect username or password")
    nobody = alice("login", unique("nobody"), "--password", PASSWORD)
    assert nobody.err.strip() == "error: incorrect username or password"

    unknown = alice("chat", "no-such-user-" + name)
    assert (unknown.code, unknown.err.strip()) == (1, f"error: unknown user: no-such-user-{name}")

    taken = alice("register", name, "--password", PASSWORD)
    assert (taken.code, taken.err.strip()) == (1, f"error: username '{name}' is already taken")

    down = alice("users", AUTH_URL="http://127.0.0.1:9")
    assert down.code == 1
    assert down.err.strip() == (
        "error: auth-service is not reachable at http://127.0.0.1:9 (is it running? try `make up`)"
    )
    chat_down = alice("chats", CHAT_URL="http://127.0.0.1:9")
    assert chat_down.err.strip().startswith("error: chat-service is not reachable")
    for result in (not_logged_in, wrong, unknown, taken, down, chat_down):
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


# A bound on waiting for the inbox consumer, generous for a loaded machine.
UNREAD_WAIT_SECONDS = 30.0


def unread_of(listing: str, name: str) -> int:
    """The unread count on `name`'s row of `chat chats`."""
    match = re.search(rf"^\s*{name}\s+(\d+)\s", listing, re.MULTILINE)
    assert match, listing
    return int(match.group(1))


def listing_with(run: Run, name: str, unread: int, **env: str) -> str:
    """`chat chats` once `name`'s row shows `unread`: counts follow sends through the
    inbox consumer, a moment after the send answered (bounded wait)."""
    deadline = time.monotonic() + UNREAD_WAIT_SECONDS
    while True:
        listed = run("chats", **env)
        assert listed.code == 0, listed.err
        if unread_of(listed.out, name) == unread or time.monotonic() > deadline:
            assert unread_of(listed.out, name) == unread, listed.out
            return listed.out
        time.sleep(0.2)


def test_chats_shows_unread_counts_and_watch_marks_them_read(pair: Pair) -> None:
    alice, bob, a_name, b_name = pair.alice, pair.bob, pair.a_name, pair.b_name
    for text in ("one", "two", "three, the last"):
        assert alice("send", b_name, text).code == 0

    listed = listing_with(bob, a_name, 3, COLUMNS="200")
    assert f"{a_name}: three, the last" in listed
    # In a pipe's 80 columns only the preview is cut: names, counts and ids stay whole.
    narrow = bob("chats").out
    assert unread_of(narrow, a_name) == 3 and re.search(UUID, narrow)
    # Alice's own messages are not unread for her.
    assert unread_of(alice("chats").out, b_name) == 0

    # Watching without marking leaves the count; watching marks what it printed as read
    # (a read mark shows in the list at once).
    quiet = bob("watch", a_name, "--timeout", "0.5", "--no-mark-read")
    assert quiet.code == 0 and "three, the last" in quiet.out, quiet.err
    assert unread_of(bob("chats").out, a_name) == 3
    watched = bob("watch", a_name, "--timeout", "0.5", "--quantity", "2")
    assert watched.code == 0 and "three, the last" in watched.out, watched.err
    assert unread_of(bob("chats").out, a_name) == 0
    assert alice("send", b_name, "four").code == 0
    listing_with(bob, a_name, 1)


def test_block_report_and_unblock(pair: Pair) -> None:
    alice, bob, a_name, b_name = pair.alice, pair.bob, pair.a_name, pair.b_name
    sent = bob("send", a_name, "rude words")
    assert sent.code == 0, sent.err
    message_id = re.search(rf"sent ({UUID})", sent.out)
    assert message_id, sent.out

    reported = alice("report", b_name, message_id.group(1), "rude")
    assert reported.code == 0 and "reported" in reported.out, reported.err

    assert alice("block", b_name).code == 0
    assert alice("blocks").out.split() == [b_name]
    refused = bob("send", a_name, "hello?")
    assert refused.code == 1 and "blocked" in refused.err
    assert alice("send", b_name, "one-way").code == 0

    assert alice("unblock", b_name).code == 0
    assert alice("blocks").out.strip() == ""
    assert bob("send", a_name, "sorry").code == 0
