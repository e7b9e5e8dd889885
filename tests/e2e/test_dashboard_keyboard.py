"""The dashboard from the keyboard alone: log in, skip to the content, queue a post (Tab to
move, Space to tick, Enter to submit), with every element that takes the focus showing it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from web_fixtures import PASSWORD

from e2e.browsing import screenshot
from e2e.dashboard import Dashboard, MeetOfficer, Officer, flash, focus_ring

MAX_TABS = 80
"""Tab presses to reach a field before the test gives up: more means it is out of reach."""


class Keyboard:
    """Tab from field to field, noting every focused element that shows no focus ring."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.unringed: list[str] = []

    def tab_to(self, selector: str) -> None:
        """Tab until the element ``selector`` (a Playwright selector) has the focus."""
        target = self.page.locator(selector)
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            ring = focus_ring(self.page)
            if not (ring["outline"] or ring["shadow"] or ring["picker"]) and ring["tag"] != "BODY":
                self.unringed.append(f"{ring['tag']} {ring['name'] or ring['text'][:30]!r}")
                screenshot(self.page, f"keyboard-no-ring-{len(self.unringed)}")
            if target.evaluate("e => e === document.activeElement"):
                return
        raise AssertionError(f"{selector} not reached with {MAX_TABS} Tab presses")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.type(text)


def skip_to_main(officer: Officer, keys: Keyboard) -> None:
    """The first Tab reaches the skip link, shown; Enter moves the focus to the content."""
    page = officer.page
    keys.tab_to(".skip-link")
    expect(page.locator(".skip-link")).to_be_in_viewport()
    officer.shot("skip-link")
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_queue_a_post_with_the_keyboard_alone(dashboard: Dashboard, officer: MeetOfficer) -> None:
    ana = officer("ana")
    page = ana.go("/login")
    keys = Keyboard(page)
    skip_to_main(ana, keys)
    keys.type_into("[name=name]", "ana")
    keys.type_into("[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Logged in as ana")).to_be_visible()

    skip_to_main(ana, keys)  # on a page with the menu too
    page.keyboard.press("Shift+Tab")  # back up, into the menu
    keys.tab_to("a[href^='/queue/new']")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/queue/new"))

    keys.type_into("[name=id]", "keyboard")
    keys.type_into("[name=text_en]", "{embassy}: typed without a mouse.")
    keys.tab_to("[name=embassy][value=be-paris]")
    page.keyboard.press("Space")
    expect(page.locator("[name=embassy][value=be-paris]")).to_be_checked()
    ana.shot("keyboard-form")
    keys.tab_to("role=button[name='Queue post']")
    page.keyboard.press("Enter")
    expect(flash(page)).to_be_visible()
    expect(page.locator("main")).to_contain_text("keyboard")
    ana.shot("keyboard-queued")
    assert not keys.unringed, f"focused without a visible focus indicator: {keys.unringed}"
