"""The browser fixtures catch what they promise to: a page that reaches past 127.0.0.1, a
Content Security Policy violation, an uncaught error."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.browsing import DASHBOARD_CSP, BrowserLog, Resource, local_site

REACHES_OUT = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>
</head><body><p>Here</p><img src="http://example.com/pixel.png" alt=""></body></html>"""

BREAKS_THE_POLICY = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<script src="/throws.js"></script></head>
<body><p>Here</p><script>document.title = "inline ran"</script></body></html>"""


def test_a_page_may_reach_nothing_but_loopback(page: Page, browser_log: BrowserLog) -> None:
    with local_site({"/": Resource(REACHES_OUT)}) as site:
        page.goto(f"{site}/")
        expect(page.get_by_text("Here")).to_be_visible()
        problems = browser_log.take(page)
    assert "tried to reach http://example.com/pixel.png (only 127.0.0.1 is allowed)" in problems


def test_policy_violations_and_uncaught_errors_are_reported(
    page: Page, browser_log: BrowserLog
) -> None:
    resources = {"/": Resource(BREAKS_THE_POLICY), "/throws.js": Resource(b"throw Error('boom')")}
    with local_site(resources, {"Content-Security-Policy": DASHBOARD_CSP}) as site:
        page.goto(f"{site}/")
        expect(page.get_by_text("Here")).to_be_visible()
        problems = browser_log.take(page)
    assert any(p.startswith("CSP violation: script-src-elem refused inline") for p in problems)
    assert any(p.startswith("uncaught error:") and "boom" in p for p in problems)
    assert page.title() != "inline ran"
