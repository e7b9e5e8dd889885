"""Every page of the dashboard in real Chromium, with a post queued and a pause in force (so
the banner, the cards and the tables are all drawn):

- accessibility: axe-core (tests/e2e/vendor) finds no serious or critical violation of the
  WCAG 2.0/2.1/2.2 A and AA rules;
- a phone (390 px): nothing needs sideways scrolling but the tables and the calendar, which
  scroll on their own, and the menu can be used;
- the guard: no console error, no CSP violation, no request past 127.0.0.1, the policy sent.

axe is loaded the way the policy allows: a test-only script at the page's own origin
(``/__test__/axe.min.js``, answered by Playwright's router, never by the dashboard), so the
pages are tested under their real Content Security Policy, not with ``bypass_csp``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect
from results_world import count_everything

from e2e.browsing import DASHBOARD_CSP, SCREENSHOTS, BrowserLog, Resource, local_site, screenshot
from e2e.dashboard import PAGES, Dashboard, DashboardPage, MeetOfficer, no_sideways_scroll
from scheduler.service.control import Scope, pause
from scheduler.service.queue import queue_add

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_PATH = "/__test__/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
FINDINGS = SCREENSHOTS.parent / "axe"
META_CSP = "; ".join(d for d in DASHBOARD_CSP.split("; ") if not d.startswith("frame-ancestors"))
"""The policy in the page's meta tag, which cannot carry frame-ancestors."""


@pytest.fixture
def busy(dashboard: Dashboard, web_clock: Any) -> Dashboard:
    """The dashboard with ana's post ``vigil`` (an image with alt text) queued and waiting
    for approval, and a pause on be-paris in force."""
    definition = {
        "id": "vigil",
        "text": {"en": "{embassy} lights up orange tonight.", "fr": "{embassy} en orange."},
        "images": [{"file": "media/card.png", "alt": {"en": "An orange banner."}}],
    }
    queue_add(dashboard.database, definition, actor="ana", folder=dashboard.folder,
              now=web_clock.now())  # fmt: skip
    scope = Scope(embassy_id="be-paris")
    pause(dashboard.database, scope, reason="Mourning", actor="ana", now=web_clock.now())
    return dashboard


def every_page(
    officer: MeetOfficer,
    size: str,
    check: Callable[[Page, DashboardPage, dict[str, str]], list[str]],
) -> dict[str, list[str]]:
    """Logs ada (an admin: every page) in and runs ``check`` on each page; what it found,
    per page."""
    ada = officer("ada", size)
    ada.log_in()
    found: dict[str, list[str]] = {}
    for item in PAGES:
        response = ada.page.goto(ada.dashboard.url(item.path))
        assert response is not None
        assert response.status == 200, f"{item.path}: HTTP {response.status}"
        found[item.path] = check(ada.page, item, response.headers)
    return found


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's results on ``page`` for the WCAG A/AA rules: its violations, then what it
    could not decide (``incomplete``: for a person to look at), each marked with its kind."""
    page.add_script_tag(url=AXE_PATH)
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {**item, "kind": kind} for kind in ("violations", "incomplete") for item in result[kind]
    ]


def serve_axe(page: Page) -> None:
    """``AXE_PATH`` on the page's own origin, answered here (the dashboard has no such file)."""
    body = AXE.read_bytes()

    def answer(route: Route) -> None:
        route.fulfill(status=200, body=body, content_type="text/javascript")

    page.context.route(f"**{AXE_PATH}", answer)


UNLABELLED = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>
</head><body><main><h1>Search</h1><input type="text" name="q"></main></body></html>"""


def test_axe_runs_under_the_policy_and_finds_an_unlabelled_field(page: Page) -> None:
    """The check can fail: axe, loaded as the dashboard's pages load it, sees a field with no
    label on a page under the dashboard's policy."""
    policy = {"Content-Security-Policy": DASHBOARD_CSP}
    with local_site({"/": Resource(UNLABELLED)}, policy) as site:
        serve_axe(page)
        page.goto(f"{site}/")
        violations = run_axe(page)
    found = [v for v in violations if v["kind"] == "violations" and v["id"] == "label"]
    assert found and {v["impact"] for v in found} <= FAILING_IMPACTS


def test_every_page_passes_axe(busy: Dashboard, officer: MeetOfficer) -> None:
    findings: dict[str, list[dict[str, Any]]] = {}

    def check(page: Page, item: DashboardPage, headers: dict[str, str]) -> list[str]:
        if not findings:
            serve_axe(page)
        violations = run_axe(page)
        findings[item.path] = [
            {
                "kind": v["kind"],
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [n["target"] for n in v["nodes"]][:5],
            }
            for v in violations
        ]
        FINDINGS.mkdir(parents=True, exist_ok=True)
        (FINDINGS / "findings.json").write_text(json.dumps(findings, indent=2) + "\n")
        return [
            f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
            if v["kind"] == "violations" and v["impact"] in FAILING_IMPACTS
        ]

    found = every_page(officer, "desktop", check)
    failing = {path: problems for path, problems in found.items() if problems}
    assert not failing, json.dumps(failing, indent=2)


def test_the_report_with_the_platforms_counts_passes_axe_and_fits_a_phone(
    dashboard: Dashboard, officer: MeetOfficer
) -> None:
    """/report once counts were collected (and some accounts refused): the results, each sent
    post's counts, the notes with their links."""
    count_everything(dashboard.database)
    for size in ("desktop", "phone"):
        ada = officer("ada", size)
        ada.log_in()
        ada.page.goto(dashboard.url("/report"))
        page = ada.page
        expect(page.get_by_role("heading", name="Results")).to_be_visible()
        expect(page.get_by_role("table", name="Totals per platform and metric")).to_be_visible()
        expect(page.locator("td.counts ul.counts").first).to_be_visible()
        link = page.get_by_role("link", name="Not read at the last collection: see why").first
        note = page.locator(f"li.trouble{link.get_attribute('href')}")
        link.click()
        expect(note).to_be_in_viewport()
        if size == "desktop":
            serve_axe(page)
            failing = [v for v in run_axe(page) if v["kind"] == "violations"]
            assert not [v["id"] for v in failing if v["impact"] in FAILING_IMPACTS], failing
        else:
            assert no_sideways_scroll(page) == []
        screenshot(page, f"{size}-report-results", full_page=True)


def test_the_login_page_passes_axe(dashboard: Dashboard, page: Page) -> None:
    serve_axe(page)
    page.goto(dashboard.url("/login"))
    violations = run_axe(page)
    failing = [v for v in violations if v["kind"] == "violations"]
    assert not [v["id"] for v in failing if v["impact"] in FAILING_IMPACTS], failing


def test_on_a_phone_only_tables_and_the_calendar_scroll_sideways(
    busy: Dashboard, officer: MeetOfficer
) -> None:
    def check(page: Page, item: DashboardPage, headers: dict[str, str]) -> list[str]:
        name = item.path.strip("/").replace("/", "-") or "overview"
        screenshot(page, f"phone-page-{name}", full_page=True)
        problems = no_sideways_scroll(page)
        nav = page.get_by_role("navigation", name="Main")
        for link in nav.get_by_role("link").all():
            box = link.bounding_box()
            if box is None or box["x"] < 0 or box["x"] + box["width"] > 391:
                problems.append(f"menu link {link.inner_text()!r} is off the screen: {box}")
        return problems

    found = every_page(officer, "phone", check)
    failing = {path: problems for path, problems in found.items() if problems}
    assert not failing, json.dumps(failing, indent=2)


def test_the_menu_works_on_a_phone(busy: Dashboard, officer: MeetOfficer) -> None:
    ben = officer("ben", "phone")
    ben.log_in()
    nav = ben.page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Calendar").tap()
    expect(ben.page).to_have_url(ben.dashboard.url("/calendar"))
    expect(nav.get_by_role("link", name="Calendar")).to_have_attribute("aria-current", "page")
    ben.shot("phone-menu")


def test_no_page_errs_breaks_its_policy_or_leaves_loopback(
    busy: Dashboard, officer: MeetOfficer, browser_log: BrowserLog
) -> None:
    def check(page: Page, item: DashboardPage, headers: dict[str, str]) -> list[str]:
        policy = page.evaluate(
            "() => document.querySelector('meta[http-equiv=Content-Security-Policy]')?.content"
        )
        problems = browser_log.take(page)
        if policy != META_CSP:
            problems.append(f"the meta tag's policy is {policy!r}")
        if headers.get("content-security-policy") != DASHBOARD_CSP:
            problems.append(f"the policy header is {headers.get('content-security-policy')!r}")
        return problems

    found = every_page(officer, "desktop", check)
    failing = {path: problems for path, problems in found.items() if problems}
    assert not failing, json.dumps(failing, indent=2)
