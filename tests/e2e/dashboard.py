"""The real dashboard in the browser: what the dashboard's browser tests share.

``Dashboard`` is one served on 127.0.0.1 over a real store (the ``dashboard`` fixture in
``conftest.py``): the builders' campaign synced with approval required and the two-person
rule, and the users of ``web_fixtures`` (ana the author, ben the approver, ada the admin).
``Officer`` is one person at the dashboard: a desktop page of their own, logged in through the
real form, and a phone twin sharing the cookies, so every step is saved as a screenshot at
both sizes (``officer.shot("queue-form")``).

Selectors follow the form contract (docs/web.md, the design's names): fields by their
``name``, buttons by their words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect
from web_fixtures import PASSWORD

from e2e.browsing import screenshot
from scheduler.store.database import Database

CAMPAIGN = "orange-2026"
TWO_PERSON = {"approval": {"required": True, "two_person_rule": True}}
"""The campaign's policy: every post waits for an approver who did not write it."""
FILE_POSTS = ("launch", "day2")
"""The posts of the synced campaign file (day 1 and day 2, every embassy and platform)."""
WINDOW_START = "2026-11-25"
ACTION_TIMEOUT = 10_000
"""Milliseconds a click or a fill waits for its element: a missing one fails soon."""

OpenContext = Callable[..., BrowserContext]


@dataclass(frozen=True)
class Dashboard:
    """A dashboard served for the test, over ``database`` (``database_url`` for the CLI)."""

    base_url: str
    database: Database
    database_url: str
    folder: Path
    """The campaign file's folder."""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@dataclass(frozen=True)
class DashboardPage:
    """One page of the dashboard, and the page helper's branch that builds it."""

    path: str
    title: str
    """Words its first heading holds."""
    branch: str


PAGES = (
    DashboardPage("/", "Overview", "w2-views"),
    DashboardPage("/calendar", "Calendar", "w2-views"),
    DashboardPage("/problems", "Problems", "w2-views"),
    DashboardPage("/report", "Report", "w2-views"),
    DashboardPage("/audit", "Audit", "w2-views"),
    DashboardPage("/posts", "Posts", "w2-posts"),
    DashboardPage("/posts/launch", "launch", "w2-posts"),
    DashboardPage("/posts/vigil", "vigil", "w2-posts"),
    DashboardPage("/queue/new", "Queue", "w2-queue"),
    DashboardPage("/posts/vigil/edit", "vigil", "w2-queue"),
    DashboardPage("/pauses", "Kill switch", "w2-control"),
    DashboardPage("/users", "Users", "w2-control"),
)
"""Every page an admin can open (the login page aside); ``vigil`` is a queued post (a file's
post is edited in the file, not on the dashboard)."""


MeetOfficer = Callable[..., "Officer"]
"""The ``officer`` fixture: ``officer("ana")`` is ana at the dashboard (``officer("ana",
"phone")`` on a phone), not yet logged in."""


@dataclass
class Officer:
    """Someone at the dashboard: a desktop page, and a phone twin with the same cookies."""

    name: str
    dashboard: Dashboard
    open_context: OpenContext
    tag: str
    """The screenshots' prefix: the test's."""
    size: str = "desktop"
    page: Page = field(init=False)
    _phone: Page | None = None
    _steps: Iterator[int] = field(init=False)

    def __post_init__(self) -> None:
        self.page = self.open_context(self.size).new_page()
        self.page.set_default_timeout(ACTION_TIMEOUT)
        self._steps = iter(range(1, 1000))

    def go(self, path: str) -> Page:
        self.page.goto(self.dashboard.url(path))
        return self.page

    def log_in(self, password: str = PASSWORD) -> None:
        """Through the login form; lands on the overview."""
        self.go("/login")
        self.page.locator("[name=name]").fill(self.name)
        self.page.locator("[name=password]").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        if password == PASSWORD:
            expect(self.page.get_by_text(f"Logged in as {self.name}")).to_be_visible()

    def shot(self, step: str) -> None:
        """This step as ``<tag>-NN-<name>-<step>-desktop.png`` and ``...-phone.png`` (the
        phone twin opens the same address with the same cookies)."""
        number = next(self._steps)
        name = f"{self.tag}-{number:02d}-{self.name}-{step}"
        screenshot(self.page, f"{name}-desktop", full_page=True)
        phone = self._phone_page()
        phone.context.clear_cookies()
        phone.context.add_cookies(self.page.context.cookies())  # type: ignore[arg-type]
        phone.goto(self.page.url)
        screenshot(phone, f"{name}-phone", full_page=True)

    def _phone_page(self) -> Page:
        if self._phone is None:
            self._phone = self.open_context("phone").new_page()
        return self._phone


def button(page: Page, words: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("button", name=words)


def choose(page: Page, name: str, value: str, scope: Locator | None = None) -> None:
    """Sets the field ``name`` to ``value`` whether it is drawn as a select or radio buttons."""
    where = scope if scope is not None else page.locator("body")
    fields = where.locator(f"[name={name}]")
    if fields.first.evaluate("e => e.tagName") == "SELECT":
        fields.first.select_option(value)
    else:
        where.locator(f"[name={name}][value='{value}']").check()


def flash(page: Page) -> Locator:
    return page.locator(".flash")


def pause_banner(page: Page) -> Locator:
    return page.locator(".pause-banner")


def no_sideways_scroll(page: Page) -> list[str]:
    """What sticks out past the viewport's right edge, outside the parts that scroll on their
    own (``.table-wrap``, ``.calendar-wrap``): empty when the page needs no sideways scroll."""
    found: list[str] = page.evaluate(
        """() => {
          const SCROLL_OWN = ".table-wrap, .calendar-wrap";  // scroll inside, not the page
          const width = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > width + 1) {
            out.push(`the page is ${document.documentElement.scrollWidth}px wide in ${width}px`);
          }
          for (const element of document.body.querySelectorAll("*")) {
            if (element.parentElement?.closest(SCROLL_OWN)) {
              // inside: scrolls with it, unless positioned against something outside it
              const position = getComputedStyle(element).position;
              if (!["absolute", "fixed"].includes(position)) continue;
              const holder = element.offsetParent;
              if (holder && holder.closest(SCROLL_OWN)) continue;
            }
            const box = element.getBoundingClientRect();
            if (box.width === 0 || box.height === 0) continue;
            if (box.right > width + 1) {  // (past the left edge does not scroll)
              const name = element.tagName.toLowerCase()
                + (element.id ? "#" + element.id : "")
                + (element.className && typeof element.className === "string"
                   ? "." + element.className.trim().split(/\\s+/).join(".") : "");
              out.push(`${name} spans ${Math.round(box.left)}..${Math.round(box.right)}px`);
            }
          }
          for (const wrap of document.querySelectorAll(SCROLL_OWN)) {
            const overflow = getComputedStyle(wrap).overflowX;
            if (wrap.scrollWidth > wrap.clientWidth + 1 && !["auto", "scroll"].includes(overflow)) {
              out.push(`.${wrap.className} overflows (overflow-x: ${overflow}), not scrolling`);
            }
          }
          return out.slice(0, 10);
        }"""
    )
    return found


def focus_ring(page: Page) -> dict[str, Any]:
    """The focused element's outline and box shadow (or whether it is a date's picker button,
    which the browser rings itself), and what it is."""
    found: dict[str, Any] = page.evaluate(
        """() => {
          const e = document.activeElement;
          const style = getComputedStyle(e);
          return {
            tag: e.tagName, name: e.getAttribute("name"), text: (e.textContent || "").trim(),
            outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
            // A date's picker button, inside the input: Chromium rings it itself, and the
            // input no longer matches :focus-visible.
            picker: ["date", "time", "datetime-local", "month", "week"].includes(e.type)
              && !e.matches(":focus-visible"),
            shadow: style.boxShadow !== "none",
          };
        }"""
    )
    return found
