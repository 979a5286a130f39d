"""The web page in headless Chromium (Debian's), two people in two browser contexts."""

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

User = Any
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".state" / "artifacts"
HISTORY = 45  # more than two pages of 20: scrolling up must load older pages


async def log_in_and_open_chat(page: Page, chat_url: str, user: User, other: User) -> None:
    await page.goto(f"{chat_url}/app")
    await page.fill("#username", user.username)
    await page.fill("#password", user.password)
    await page.click("#login")
    await expect(page.locator("#whoami")).to_have_text(user.username)
    await page.fill("#find", other.username[:8])
    await page.press("#find", "Enter")
    await page.click(f'button.open-chat[data-username="{other.username}"]')
    await expect(page.locator("#chat-title")).to_have_text(f"Chat with {other.username}")
    await expect(page.locator("#live")).to_have_text("● live", timeout=20_000)


async def test_two_people_chat_live_in_the_browser(
    browser: Browser,
    http: httpx.AsyncClient,
    urls: Any,
    make_user: Callable[[str], Awaitable[User]],
) -> None:
    alice, bob = await make_user("weba"), await make_user("webb")
    chat = await http.post(f"{urls.chat}/chats", json={"user_id": bob.id}, headers=alice.headers)
    chat_id = chat.json()["id"]
    for i in range(HISTORY):
        sent = await http.post(
            f"{urls.chat}/chat/{chat_id}/messages",
            json={"text": f"earlier {i}"},
            headers=alice.headers if i % 3 else bob.headers,
        )
        assert sent.status_code == 201, sent.text

    alice_context, bob_context = await browser.new_context(), await browser.new_context()
    try:
        alice_page, bob_page = await alice_context.new_page(), await bob_context.new_page()
        await log_in_and_open_chat(alice_page, urls.chat, alice, bob)
        await log_in_and_open_chat(bob_page, urls.chat, bob, alice)

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
        # Bob's own message is shown once too (from the send, then the relay).
        await bob_page.wait_for_timeout(3000)
        await expect(bob_page.locator("#messages .msg .text", has_text=reply)).to_have_count(1)
        await expect(bob_page.locator("#messages .msg.mine").last).to_contain_text(reply)
        await expect(messages).to_have_count(HISTORY + 2)
        assert await bob_page.locator("#error").text_content() == ""

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await bob_page.screenshot(path=str(ARTIFACTS / "e2e-web-chat-bob.png"))
        await alice_page.screenshot(path=str(ARTIFACTS / "e2e-web-chat-alice.png"))
    finally:
        await alice_context.close()
        await bob_context.close()
