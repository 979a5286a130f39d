"""The web page refreshes its tokens single-flight: calls that find the access token near
expiry at the same moment share one refresh, instead of each spending the same refresh
token (the second use would look like a stolen token and end the session)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

# The page's own functions, called in the page: four API calls started together, right
# after the access token was marked as about to expire.
CONCURRENT_CALLS = """async () => {
  state.session.expires = Date.now();
  const me = await Promise.all([1, 2, 3, 4].map(() => api(AUTH_URL, "/users/me")));
  return { ids: me.map((m) => m.id), refresh: state.session.refresh };
}"""

# After a 401 (say, a token refused early), concurrent retries also share one refresh.
CONCURRENT_RETRIES = """async () => {
  state.session.access = "not-a-token";
  const me = await Promise.all([1, 2, 3].map(() => api(AUTH_URL, "/users/me")));
  return { ids: me.map((m) => m.id), refresh: state.session.refresh };
}"""


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context()
    yield context
    await context.close()


@pytest.mark.parametrize("script", [CONCURRENT_CALLS, CONCURRENT_RETRIES], ids=["expiry", "401"])
async def test_concurrent_calls_near_expiry_share_one_refresh(
    context: BrowserContext,
    http: httpx.AsyncClient,
    urls: Any,
    make_user: Callable[[str], Awaitable[Any]],
    script: str,
) -> None:
    user = await make_user("webr")
    page = await context.new_page()
    await page.goto(f"{urls.chat}/app")
    await page.fill("#username", user.username)
    await page.fill("#password", user.password)
    await page.click("#login")
    await expect(page.locator("#whoami")).to_have_text(user.username)
    before = await page.evaluate("state.session.refresh")

    result = await page.evaluate(script)

    assert result["ids"] == [user.id] * len(result["ids"])
    assert result["refresh"] != before  # one rotation happened...
    await expect(page.locator("#whoami")).to_have_text(user.username)  # ...still logged in
    # ...and the family was not revoked: the page's current refresh token still works.
    response = await http.post(
        f"{urls.auth}/auth/refresh", json={"refresh_token": result["refresh"]}
    )
    assert response.status_code == 200, response.text
