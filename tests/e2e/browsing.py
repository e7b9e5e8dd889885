"""What the browser tests share: Debian's Chromium driven by Playwright, kept on loopback, a
log of what went wrong in its pages, screenshots saved as test artefacts, and a tiny site served
on 127.0.0.1 for pages that need no dashboard.

The fixtures built on these live in ``conftest.py`` beside this module.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Route

CHROMIUM = Path(os.environ.get("CAMPAIGN_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("CAMPAIGN_REQUIRE_BROWSER") == "1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LOOPBACK = "127.0.0.1"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The dashboard's policy (docs/web.md): style-src needs 'self' for /static/web.css.
DASHBOARD_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "img-src 'self' data:; form-action 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)

# The page reports each violation of its Content Security Policy to the test at once.
_REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(`${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile || "page"}:${event.lineNumber})`);
});
"""


def launch_arguments() -> list[str]:
    """No proxy, and no name resolves: the browser can reach 127.0.0.1 and nothing else."""
    return ["--no-proxy-server", f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}"]


def sandboxed() -> bool:
    """Chromium's sandbox refuses to run as root; everyone else keeps it."""
    return os.geteuid() != 0


@dataclass
class BrowserLog:
    """What went wrong in a test's pages; a test that expects a console error says so with
    :meth:`allow_console`, anything else left here fails the test at teardown."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    _allowed: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.route("**/*", self._only_loopback)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.expose_binding(
            "__cspViolation", lambda _source, text: self.csp_violations.append(str(text))
        )
        context.add_init_script(_REPORT_CSP)

    def allow_console(self, pattern: str) -> None:
        """Console errors matching ``pattern`` (a regular expression) are expected."""
        self._allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        console = [m for m in self.console_errors if not any(p.search(m) for p in self._allowed)]
        outside = self.outside_requests
        return [
            *(f"tried to reach {url} (only {LOOPBACK} is allowed)" for url in outside),
            *(f"CSP violation: {text}" for text in self.csp_violations),
            *(f"uncaught error: {text}" for text in self.page_errors),
            *(f"console error: {text}" for text in console),
        ]

    def take(self, page: Page) -> list[str]:
        """The problems so far, once every report ``page`` sent has arrived; the log is then
        empty again (for a test that provokes them on purpose)."""
        page.evaluate("0")
        problems = self.problems()
        for entries in (self.console_errors, self.page_errors, self.csp_violations):
            entries.clear()
        self.outside_requests.clear()
        return problems

    def _only_loopback(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            self.outside_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Saves what ``page`` shows as ``test-artifacts/screenshots/<name>.png`` and prints where."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError(f"screenshot name {name!r}: expected letters, digits, '.', '_', '-'")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=full_page, animations="disabled")
    print(f"screenshot: {path}")
    return path


@dataclass(frozen=True)
class Resource:
    """One thing the local site serves."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"


@contextmanager
def local_site(
    resources: Mapping[str, Resource], headers: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Serves ``resources`` (path → resource) on 127.0.0.1 with ``headers`` on every response;
    yields the site's base URL (no trailing slash)."""
    server = ThreadingHTTPServer((LOOPBACK, 0), _handler(resources, headers or {}))
    server.daemon_threads = True
    # A short poll: shutdown() waits for it, at the end of every test.
    serve = partial(server.serve_forever, poll_interval=0.02)
    thread = threading.Thread(target=serve, name="local-site", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _handler(
    resources: Mapping[str, Resource], headers: Mapping[str, str]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            resource = resources.get(urlsplit(self.path).path)
            if resource is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(resource.body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests say what matters."""

    return Handler
