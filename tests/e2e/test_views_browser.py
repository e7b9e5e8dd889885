"""The read-only pages in real Chromium, under the dashboard's policy: the calendar's filters
swap the grid alone (htmx) and keep the filters in the address bar, Back and a reload show the
same; its first column stays in place when the grid scrolls; the overview on a phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from web_fixtures import Login, WebServer

from e2e.browsing import screenshot


def _log_in(page: Page, web_login: Login, path: str) -> None:
    """The author's session, made through the real form by ``web_login``, handed to the
    browser (logging in from the browser itself is the end-to-end tests' own subject)."""
    client = web_login("author")
    assert client.session is not None
    base = client.base_url
    page.context.add_cookies([{"name": "campaign_session", "value": client.session, "url": base}])
    page.goto(f"{base}{path}")


def test_the_calendar_filters_swap_the_grid(
    page: Page, web_login: Login, synced_campaign: str
) -> None:
    _log_in(page, web_login, "/calendar?start=2026-11-25&days=3")
    grid = page.locator("table.calendar-grid")
    expect(grid.locator("caption")).to_contain_text("25 Nov to 27 Nov 2026")
    every = page.locator(".calendar-item").count()
    assert every > 0
    marker = page.evaluate("window.stayed = 'yes'")
    assert marker == "yes"
    page.get_by_label("Platform").select_option("x")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**platform=x**")
    expect(page.locator(".calendar-item .plat.p-mastodon")).to_have_count(0)
    assert 0 < page.locator(".calendar-item").count() < every
    assert page.evaluate("window.stayed") == "yes"  # the grid was swapped, not the page
    screenshot(page, "views-calendar-desktop", full_page=True)
    page.reload()
    expect(page.get_by_label("Platform")).to_have_value("x")
    page.go_back()
    page.wait_for_url("**days=3")
    expect(page.locator(".calendar-item")).to_have_count(every)


def test_the_calendar_keeps_its_day_column_on_a_phone(
    phone_page: Page, web: WebServer, web_login: Login, synced_campaign: str
) -> None:
    _log_in(phone_page, web_login, "/calendar?start=2026-11-25&days=3")
    day = phone_page.locator('table.calendar-grid tbody th[scope="row"]').first
    before = day.bounding_box()
    phone_page.locator(".calendar-wrap").evaluate("wrap => { wrap.scrollLeft = 400; }")
    after = day.bounding_box()
    assert before is not None and after is not None and after["x"] == before["x"]
    screenshot(phone_page, "views-calendar-phone")
    phone_page.goto(f"{web.base_url}/")
    expect(phone_page.locator(".all-well")).to_contain_text("All is well")
    screenshot(phone_page, "views-overview-phone", full_page=True)
