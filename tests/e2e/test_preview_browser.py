"""The HTML preview in real Chromium: its cards show, its script fills in images and alt texts
and filters the calendar, from the keyboard too, with no console error or CSP violation; and
the dashboard's front end (web.css, the vendored htmx) works under the dashboard's policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import FloatRect, Locator, Page, expect

from e2e.browsing import DASHBOARD_CSP, Resource, local_site, screenshot
from scheduler.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEB_DOC = ROOT / "docs" / "web.md"
PAGES = Path(__file__).resolve().parent / "pages"


@pytest.fixture(scope="module")
def preview_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``campaign preview campaigns.yaml --format html`` of the real campaign, on 127.0.0.1."""
    out = tmp_path_factory.mktemp("preview") / "preview.html"
    campaign = ROOT / "campaigns.yaml"
    arguments = ["preview", str(campaign), "--format", "html", "-o", str(out)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    with local_site({"/preview.html": Resource(out.read_bytes())}) as site:
        yield f"{site}/preview.html"


def shown(page: Page) -> int:
    text = page.locator("#shown").inner_text()
    match = re.fullmatch(r"(\d+) deliveries shown", text)
    assert match, text
    return int(match.group(1))


def visible_cards(page: Page, selector: str = ".post") -> int:
    return int(
        page.evaluate(
            "s => [...document.querySelectorAll(s)].filter(p => !p.hidden)"
            ".reduce((n, p) => n + p.querySelectorAll('.card').length, 0)",
            selector,
        )
    )


def test_the_preview_shows_its_cards_and_filters_them_from_the_keyboard(
    page: Page, preview_url: str
) -> None:
    page.goto(preview_url)
    cards = page.locator("article.card")
    expect(cards.first).to_be_visible()
    total = shown(page)
    assert total == cards.count() > 0
    image = page.locator("img[data-media]").first
    image.scroll_into_view_if_needed()
    expect(image).to_have_attribute("src", re.compile(r"^data:image/"))
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    alt = image.get_attribute("alt")
    assert alt, "the script gives each image its alt text"
    expect(image.locator("xpath=ancestor::figure//span[@data-alt]")).to_have_text(alt)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "preview-desktop")

    x_cards = visible_cards(page, ".post[data-platform=x]")
    assert 0 < x_cards < total
    x_box = page.locator("input[name=platform][value=x]")
    x_box.focus()
    page.keyboard.press("Space")
    expect(x_box).not_to_be_checked()
    expect(page.locator("#shown")).to_have_text(f"{total - x_cards} deliveries shown")
    assert visible_cards(page, ".post[data-platform=x]") == 0
    page.get_by_role("button", name="None").press("Enter")
    expect(page.locator("#shown")).to_have_text("0 deliveries shown")
    page.get_by_role("button", name="All").click()
    expect(page.locator("#shown")).to_have_text(f"{total - x_cards} deliveries shown")
    page.get_by_label("Grid").check()
    expect(page.locator("#calendar")).to_have_class(re.compile(r"\bgrid\b"))


def test_the_preview_reads_on_a_phone(phone_page: Page, preview_url: str) -> None:
    phone_page.goto(preview_url)
    expect(phone_page.locator("article.card").first).to_be_visible()
    width = phone_page.evaluate("document.documentElement.clientWidth")
    assert width == 390, "the page is laid out for the phone's width, not zoomed out"
    screenshot(phone_page, "preview-phone")


# --- the dashboard's front end ------------------------------------------------------------------

STATIC = ("common.css", "web.css", "htmx.min.js")
STRICT_CSP = DASHBOARD_CSP.replace("style-src 'self' 'unsafe-inline'", "style-src 'self'")


def htmx_meta() -> str:
    """The ``<meta name="htmx-config">`` that docs/web.md tells the layout to carry."""
    match = re.search(r"<meta name=\"htmx-config\" content='[^']*'>", WEB_DOC.read_text("utf-8"))
    assert match, "docs/web.md shows the htmx-config meta tag"
    return match.group(0)


def static_file(name: str) -> Resource:
    kind = "text/css; charset=utf-8" if name.endswith(".css") else "text/javascript"
    return Resource(files("scheduler.views").joinpath("static", name).read_bytes(), kind)


@contextmanager
def front_end(policy: str = DASHBOARD_CSP) -> Iterator[str]:
    """A page drawing every component of web.css with htmx, served under ``policy``."""
    page = (PAGES / "front_end.html").read_text("utf-8")
    resources = {
        "/": Resource(page.replace("<!-- htmx-config -->", htmx_meta()).encode()),
        **{f"/static/{name}": static_file(name) for name in STATIC},
        "/fragment": Resource(b"<p id='fragment'>Loaded from the server</p>"),
    }
    with local_site(resources, {"Content-Security-Policy": policy}) as site:
        yield f"{site}/"


@pytest.mark.parametrize("policy", [DASHBOARD_CSP, STRICT_CSP], ids=["dashboard", "no-inline"])
def test_htmx_swaps_content_under_the_dashboards_policy(page: Page, policy: str) -> None:
    with front_end(policy) as url:
        page.goto(url)
        assert page.evaluate("htmx.version").startswith("2.")
        config = page.evaluate(
            "({eval: htmx.config.allowEval, styles: htmx.config.includeIndicatorStyles})"
        )
        assert config == {"eval": False, "styles": False}, "the meta tag's configuration is read"
        expect(page.locator(".htmx-indicator")).to_be_hidden()
        page.get_by_role("button", name="Load").click()
        expect(page.locator("#result #fragment")).to_have_text("Loaded from the server")
        assert page.locator("style").count() == 0, "htmx added no inline style sheet"
        for field in page.locator("[aria-invalid=true]").all():
            expect(field).to_have_css("border-top-width", "2px")
        if policy == DASHBOARD_CSP:
            screenshot(page, "front-end-desktop", full_page=True)


def test_the_keyboard_finds_the_skip_link_and_sees_where_it_is(page: Page) -> None:
    with front_end() as url:
        page.goto(url)
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        ring = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
        assert ring == "3px"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"


def box(locator: Locator) -> FloatRect:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


def test_the_front_end_fits_a_360_pixel_phone(phone_page: Page) -> None:
    phone_page.set_viewport_size({"width": 360, "height": 800})
    with front_end() as url:
        phone_page.goto(url)
        overflow = phone_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0, "nothing but the calendar scrolls sideways"
        brand, nav = box(phone_page.locator(".brand")), box(phone_page.locator(".site-nav"))
        assert nav["y"] >= brand["y"] + brand["height"], "the nav wraps below the brand"
        day = phone_page.get_by_role("rowheader", name="Wed 25 Nov")
        before = box(day)
        phone_page.locator(".calendar-wrap").evaluate("wrap => wrap.scrollBy(400, 0)")
        phone_page.wait_for_function("document.querySelector('.calendar-wrap').scrollLeft > 0")
        assert box(day) == before, "the day column stays while the grid scrolls"
        screenshot(phone_page, "front-end-phone", full_page=True)
