"""The web page in headless Chromium (Debian's), two people in two browser contexts."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect

User = Any
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".state" / "artifacts"
HISTORY = 45  # more than two pages of 20: scrolling up must load older pages


async def log_in(page: Page, chat_url: str, user: User) -> None:
    await page.goto(f"{chat_url}/app")
    await page.fill("#username", user.username)
    await page.fill("#password", user.password)
    await page.click("#login")
    await expect(page.locator("#whoami")).to_have_text(user.username)


async def log_in_and_open_chat(page: Page, chat_url: str, user: User, other: User) -> None:
    await log_in(page, chat_url, user)
    await page.fill("#find", other.username[:8])
    await page.press("#find", "Enter")
    await page.click(f'button.open-chat[data-username="{other.username}"]')
    await expect(page.locator("#chat-title")).to_have_text(f"Chat with {other.username}")
    await expect(page.locator("#live")).to_have_text("● live", timeout=20_000)


TwoInAChat = tuple[User, User, str]


@pytest.fixture
async def two_in_a_chat(
    make_user: Callable[[str], Awaitable[User]], open_chat: Callable[[Any, Any], Awaitable[str]]
) -> TwoInAChat:
    """Alice and Bob, and the id of their chat."""
    alice, bob = await make_user("weba"), await make_user("webb")
    return alice, bob, await open_chat(alice, bob)


@asynccontextmanager
async def two_pages(browser: Browser) -> AsyncIterator[tuple[Page, Page]]:
    """Two people's pages, each in a browser context of its own (no shared cookies or
    storage); the contexts are closed after."""
    contexts = [await browser.new_context(), await browser.new_context()]
    try:
        yield await contexts[0].new_page(), await contexts[1].new_page()
    finally:
        for context in contexts:
            await context.close()


@asynccontextmanager
async def both_in_the_chat(
    browser: Browser, chat_url: str, alice: User, bob: User
) -> AsyncIterator[tuple[Page, Page]]:
    """Alice's and Bob's pages (`two_pages`), each logged in with their chat open."""
    async with two_pages(browser) as (alice_page, bob_page):
        await log_in_and_open_chat(alice_page, chat_url, alice, bob)
        await log_in_and_open_chat(bob_page, chat_url, bob, alice)
        yield alice_page, bob_page


async def test_two_people_chat_live_in_the_browser(
    browser: Browser, http: httpx.AsyncClient, urls: Any, two_in_a_chat: TwoInAChat
) -> None:
    alice, bob, chat_id = two_in_a_chat
    for i in range(HISTORY):
        sent = await http.post(
            f"{urls.chat}/chat/{chat_id}/messages",
            json={"text": f"earlier {i}"},
            headers=alice.headers if i % 3 else bob.headers,
        )
        assert sent.status_code == 201, sent.text

    async with both_in_the_chat(browser, urls.chat, alice, bob) as (alice_page, bob_page):
        # Bob sees the newest page, and scrolling up loads older pages to the start.
        messages = bob_page.locator("#messages .msg")
        await expect(messages.last).to_contain_text(f"earlier {HISTORY - 1}")
        assert await messages.count() < HISTORY
        for _ in range(10):
            if await bob_page.locator("#history-state").text_content() == "start of the chat":
                break
            await bob_page.eval_on_selector("#messages", "box => { box.scrollTop = 0; }")
            await bob_page.wait_for_timeout(400)
        await expect(bob_page.locator("#history-state")).to_have_text("start of the chat")
        await expect(messages).to_have_count(HISTORY)
        await expect(messages.first).to_contain_text("earlier 0")

        # Alice sends; it appears live on Bob's page, once. Then Bob answers.
        hello = f"hello from the browser {uuid.uuid4().hex[:6]}"
        await alice_page.fill("#text", hello)
        await alice_page.click("#send")
        arrived = bob_page.locator("#messages .msg .text", has_text=hello)
        await expect(arrived).to_have_count(1, timeout=20_000)
        reply = f"got it {uuid.uuid4().hex[:6]}"
        await bob_page.fill("#text", reply)
        await bob_page.press("#text", "Enter")
        await expect(alice_page.locator("#messages .msg .text", has_text=reply)).to_have_count(
            1, timeout=20_000
        )
        # Bob's own message is shown once too: from the send, then (ticked) from the relay.
        delivered = bob_page.locator("#messages .msg.mine.delivered .text", has_text=reply)
        await expect(delivered).to_have_count(1, timeout=20_000)
        await expect(bob_page.locator("#messages .msg .text", has_text=reply)).to_have_count(1)
        await expect(bob_page.locator("#messages .msg.mine").last).to_contain_text(reply)
        await expect(messages).to_have_count(HISTORY + 2)
        assert await bob_page.locator("#error").text_content() == ""

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await bob_page.screenshot(path=str(ARTIFACTS / "e2e-web-chat-bob.png"))
        await alice_page.screenshot(path=str(ARTIFACTS / "e2e-web-chat-alice.png"))


def chat_entry(page: Page, other: User) -> Locator:
    """The other person's entry in the page's chat list."""
    return page.locator(f'#chat-list li.chat-entry[data-username="{other.username}"]')


async def test_chat_list_shows_unread_badges_live_and_read_marks(
    browser: Browser,
    http: httpx.AsyncClient,
    urls: Any,
    make_user: Callable[[str], Awaitable[User]],
    open_chat: Callable[[Any, Any], Awaitable[str]],
) -> None:
    alice, bob, carol = await make_user("inba"), await make_user("inbb"), await make_user("inbc")
    chat_id = await open_chat(alice, bob)
    for text in ("first", "second", "third from alice"):
        sent = await http.post(
            f"{urls.chat}/chat/{chat_id}/messages", json={"text": text}, headers=alice.headers
        )
        assert sent.status_code == 201, sent.text

    async with two_pages(browser) as (alice_page, bob_page):
        # Alice has the chat open before Bob reads it: "read" must appear live.
        await log_in_and_open_chat(alice_page, urls.chat, alice, bob)
        await expect(alice_page.locator(".read-mark")).to_have_count(0)

        # Bob's list: Alice's chat with 3 unread and her last message as the preview.
        await log_in(bob_page, urls.chat, bob)
        entry = chat_entry(bob_page, alice)
        await expect(entry.locator(".badge")).to_have_text("3", timeout=20_000)
        await expect(entry.locator(".preview")).to_have_text("third from alice")
        # Opening the chat reads it: the badge goes, and stays gone once the inbox follows.
        await entry.click()
        await expect(bob_page.locator("#chat-title")).to_have_text(f"Chat with {alice.username}")
        await expect(entry.locator(".badge")).to_be_hidden(timeout=20_000)

        # Alice sees "read" under her last message, through the live inbox.
        mark = alice_page.locator("#messages .msg.mine .read-mark")
        await expect(mark).to_have_count(1, timeout=20_000)
        await expect(mark).to_have_text("read")
        last_mine = alice_page.locator("#messages .msg.mine").last
        await expect(last_mine.locator(".text")).to_have_text("third from alice")
        await expect(last_mine.locator(".read-mark")).to_have_count(1)

        # A chat Carol opens joins Alice's list live before anyone writes in it, on top.
        opened = await open_chat(carol, alice)
        carol_entry = chat_entry(alice_page, carol)
        await expect(carol_entry.locator(".preview")).to_have_text(
            "no messages yet", timeout=20_000
        )
        await expect(carol_entry.locator(".badge")).to_be_hidden()
        await expect(alice_page.locator("#chat-list li.chat-entry").first).to_have_attribute(
            "data-username", carol.username
        )
        # Its first message brings the unread badge and the preview.
        sent = await http.post(
            f"{urls.chat}/chat/{opened}/messages",
            json={"text": "hi alice, it is carol"},
            headers=carol.headers,
        )
        assert sent.status_code == 201, sent.text
        await expect(carol_entry.locator(".badge")).to_have_text("1", timeout=20_000)
        await expect(carol_entry.locator(".preview")).to_have_text("hi alice, it is carol")
        # Newest activity first.
        await expect(alice_page.locator("#chat-list li.chat-entry").first).to_have_attribute(
            "data-username", carol.username
        )
        assert await alice_page.locator("#error").text_content() == ""
        assert await bob_page.locator("#error").text_content() == ""

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await alice_page.screenshot(path=str(ARTIFACTS / "e2e-web-inbox-alice.png"))


async def test_an_edit_and_a_delete_are_seen_live_by_the_other_person(
    browser: Browser, http: httpx.AsyncClient, urls: Any, two_in_a_chat: TwoInAChat
) -> None:
    alice, bob, chat_id = two_in_a_chat
    async with both_in_the_chat(browser, urls.chat, alice, bob) as (alice_page, bob_page):
        tag = uuid.uuid4().hex[:6]
        for text in (f"tpyo {tag}", f"regret {tag}"):
            await alice_page.fill("#text", text)
            await alice_page.click("#send")
            shown = bob_page.locator("#messages .msg .text", has_text=text)
            await expect(shown).to_have_count(1, timeout=20_000)

        # Alice edits the first (the page asks for the new text) and deletes the second.
        alice_page.once("dialog", lambda dialog: dialog.accept(f"typo {tag}"))
        first_id = await alice_page.locator(
            "#messages .msg.mine", has_text=f"tpyo {tag}"
        ).get_attribute("data-id")
        first = alice_page.locator(f'#messages .msg[data-id="{first_id}"]')
        await first.locator("button.edit").click()
        await expect(first.locator(".text")).to_have_text(f"typo {tag} (edited)")
        second = alice_page.locator("#messages .msg.mine", has_text=f"regret {tag}")
        await second.locator("button.delete").click()
        await expect(alice_page.locator("#messages .msg.deleted")).to_have_count(1)

        # Bob sees both live, from the batches: the new text, and the message gone. The
        # bound leaves room for the outbox sweep (SWEEP_LAG 10 s), which announces a change
        # when the fast path could not (a chat-service that just restarted, say).
        edited = bob_page.locator("#messages .msg .text", has_text=f"typo {tag} (edited)")
        await expect(edited).to_have_count(1, timeout=40_000)
        gone = bob_page.locator("#messages .msg.deleted .text")
        await expect(gone).to_have_text(["message deleted"], timeout=40_000)
        await expect(bob_page.locator("#messages .msg .text", has_text="regret")).to_have_count(0)
        # The page applies them without reloading: the history agrees.
        page = await http.get(f"{urls.chat}/chat/{chat_id}", headers=bob.headers)
        items = page.json()["items"]
        assert [(m["text"], m["deleted"]) for m in reversed(items)] == [
            (f"typo {tag}", False),
            (None, True),
        ]
        assert await bob_page.locator("#error").text_content() == ""

        # Alice deletes her account from the page: she is logged out.
        alice_page.once("dialog", lambda dialog: dialog.accept(alice.password))
        await alice_page.click("#delete-account")
        await expect(alice_page.locator("#login-view")).to_be_visible()
        relogin = await http.post(
            f"{urls.auth}/auth/login", json={"username": alice.username, "password": alice.password}
        )
        assert relogin.status_code == 401
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await bob_page.screenshot(path=str(ARTIFACTS / "e2e-web-edit-delete-bob.png"))


async def test_a_block_from_the_chat_refuses_the_other_persons_messages(
    browser: Browser, urls: Any, two_in_a_chat: TwoInAChat
) -> None:
    alice, bob, _ = two_in_a_chat
    async with both_in_the_chat(browser, urls.chat, alice, bob) as (alice_page, bob_page):
        await expect(alice_page.locator("#block")).to_have_text("Block")
        await alice_page.click("#block")
        await expect(alice_page.locator("#block")).to_have_text("Unblock")
        await bob_page.fill("#text", "let me in")
        await bob_page.click("#send")
        await expect(bob_page.locator("#error")).to_have_text("blocked (HTTP 403)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await alice_page.screenshot(path=str(ARTIFACTS / "e2e-web-block-alice.png"))
        await alice_page.click("#block")
        await expect(alice_page.locator("#block")).to_have_text("Block")
        back = f"back {uuid.uuid4().hex[:6]}"
        await bob_page.fill("#text", back)
        await bob_page.click("#send")
        arrived = alice_page.locator("#messages .msg .text", has_text=back)
        await expect(arrived).to_have_count(1, timeout=20_000)
        await expect(
            alice_page.locator("#messages .msg .text", has_text="let me in")
        ).to_have_count(0)
