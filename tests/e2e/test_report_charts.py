"""The report's results in real Chromium: `campaign report --format html` of a campaign whose
counts were collected (tests/results_world.py), on a desktop, a 390 px phone and a 360 px one.
The SVG charts show with their accessible names, inside the screen, their figures a click away
in a table; the refusals read in words; no console error, CSP violation or request past
127.0.0.1 (the page's own policy, in its meta tag and in the header). Screenshots are saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect
from results_world import collected_campaign

from e2e.browsing import Resource, local_site, screenshot
from scheduler.cli import main
from scheduler.store.database import Database

OpenPage = Callable[..., Page]
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@pytest.fixture
def report_url(tmp_path: Path, database: Database, database_url: str) -> str:
    collected_campaign(tmp_path, database)
    out = tmp_path / "report.html"
    arguments = ["report", "-f", "html", "-o", str(out), "--database", database_url]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def _no_sideways_scroll(page: Page) -> None:
    """Nothing is wider than the screen (a phone's browser would widen its layout to fit it,
    so the page is measured against the screen's width, not the window's)."""
    screen = page.viewport_size["width"] if page.viewport_size else 0
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= screen, f"the page is {wide} px wide on a {screen} px screen"


def _charts_show(page: Page) -> None:
    charts = page.locator('#results svg[role="img"]')
    expect(charts.first).to_be_visible()
    assert charts.count() >= 10
    width = page.viewport_size["width"] if page.viewport_size else 0
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert (chart.locator(":scope > title").text_content() or "").strip()
    # the name a screen reader says, from <title>; the figures from <desc> and the table
    bars = page.get_by_role("img", name="Mastodon favourites per embassy")
    expect(bars).to_be_visible()
    biggest = bars.locator("rect").first.bounding_box()
    assert biggest is not None and biggest["width"] > 50
    figure = page.locator("#embassy-mastodon")
    figure.get_by_text("the figures").click()
    expect(figure.locator("table")).to_be_visible()
    expect(figure.locator("tbody th").first).to_have_text("be-newyork")
    expect(page.get_by_role("img", name="Mastodon: the median post over time")).to_be_visible()


@pytest.mark.parametrize("size", ["desktop", "phone", "narrow"])
def test_the_report_charts_render(
    open_page: OpenPage, report_url: str, size: Literal["desktop", "phone", "narrow"]
) -> None:
    headers = {"Content-Security-Policy": REPORT_CSP}
    with local_site({"/report.html": Resource(report_url.encode("utf-8"))}, headers) as site:
        page = open_page("desktop" if size == "desktop" else "phone")
        if size == "narrow":
            page.set_viewport_size({"width": 360, "height": 740})
        page.goto(f"{site}/report.html")
        results = page.locator("#results")
        expect(results.get_by_role("heading", name="Results")).to_be_visible()
        expect(results.get_by_text("out of credits (402)")).to_be_visible()
        expect(results.get_by_text("asked us to slow down (429)")).to_be_visible()
        expect(results.get_by_text("credentials (401)")).to_be_visible()
        _charts_show(page)
        _no_sideways_scroll(page)
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, f"report-charts-{size}", full_page=True)
