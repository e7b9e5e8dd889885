"""The post view in Chromium, under the dashboard's policy: its cards draw without a violation,
it fits a phone, and an approver approves from it."""

from __future__ import annotations

from playwright.sync_api import Page
from test_web_posts import waiting
from web_fixtures import WebServer

from e2e.browsing import screenshot

__all__ = ["waiting"]  # fixtures


def _log_in(page: Page, web: WebServer, name: str, path: str) -> None:
    """Logged in over HTTP, the session cookie handed to the browser (the login form has its
    own browser tests)."""
    client = web.client()
    assert client.login(name).status_code == 303
    page.context.add_cookies(
        [{"name": "campaign_session", "value": client.session or "", "url": web.base_url}]
    )
    page.goto(f"{web.base_url}{path}")


def test_an_approver_reads_the_cards_and_approves(
    page: Page, web: WebServer, web_users: object, waiting: str
) -> None:
    _log_in(page, web, "ben", "/posts/launch")
    cards = page.locator("article.card")
    assert cards.count() == 7
    platform = page.locator("article.card.p-x .plat").first
    assert platform.evaluate("e => getComputedStyle(e).color") != "rgb(255, 255, 255)"
    screenshot(page, "post-view-desktop", full_page=True)
    page.click("button:text('Approve version 1')")
    page.wait_for_url(f"{web.base_url}/posts/launch")
    assert "approved by ben" in page.locator(".flash").inner_text()
    assert "Version 1 is approved (by ben)" in page.locator("#actions").inner_text()


def test_the_post_view_fits_a_phone(
    phone_page: Page, web: WebServer, web_users: object, waiting: str
) -> None:
    phone_page.set_viewport_size({"width": 360, "height": 800})
    _log_in(phone_page, web, "ana", "/posts/launch")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px screen"
    screenshot(phone_page, "post-view-phone", full_page=True)
