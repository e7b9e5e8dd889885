"""The rest of the day: a post the approver approved in the browser goes out, sent by the real
daemon (``campaign run`` in its own process, on a stepped clock, to the fake platforms), and
the calendar then shows each copy sent, with its link on the platform."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from daemon_harness import DAEMON, DaemonProcess, Platforms, SteppedTime, states, write_config
from playwright.sync_api import expect
from web_fixtures import WebClock

from e2e.dashboard import WINDOW_START, Dashboard, MeetOfficer, button, flash
from scheduler.store.database import Database


def sent(database: Database, post_id: str) -> Callable[[], dict[str, str] | None]:
    """A check that every copy of ``post_id`` is sent."""

    def check() -> dict[str, str] | None:
        found = {k: s for k, s in states(database).items() if k.split("/")[1] == post_id}
        return found if found and set(found.values()) == {"sent"} else None

    return check


def run_the_daemon_until(
    dashboard: Dashboard, start: dt.datetime, folder: Path, check: Callable[[], object]
) -> dt.datetime:
    """``campaign run`` on the dashboard's database, its campaign time moved from ``start``
    until ``check`` holds; the instant it got to."""
    with Platforms() as platforms:
        time = SteppedTime(folder / "clock", start)
        platforms.follow(time.now)
        platforms.enrol(dashboard.database)
        config = write_config(folder / "daemon.toml", daemon={**DAEMON, "worker_name": "d1"})
        env = {
            **platforms.env,
            "CAMPAIGN_DATABASE": dashboard.database_url,
            "CAMPAIGN_SECRETS_FILE": str(folder / "secrets.toml"),
        }
        arguments = ["--config", str(config), *time.args]
        with DaemonProcess(env, arguments, folder / "daemon.log") as daemon:
            time.until(daemon, check)
            daemon.stop()
        return time.now()


def test_an_approved_post_goes_out_and_the_calendar_links_it(
    dashboard: Dashboard, officer: MeetOfficer, web_clock: WebClock, tmp_path: Path
) -> None:
    ben = officer("ben")
    ben.log_in()
    page = ben.go("/posts/launch")
    button(page, "Approve version 1").click()
    expect(flash(page)).to_contain_text("launch")

    web_clock.instant = run_the_daemon_until(
        dashboard, web_clock.now(), tmp_path, sent(dashboard.database, "launch")
    )

    ben.log_in()  # hours later in campaign time (the dashboard's clock too): a new session
    page = ben.go(f"/calendar?start={WINDOW_START}&days=2")
    copies = page.locator(".calendar-item", has_text="launch")
    expect(copies).to_have_count(7)
    for copy in copies.all():
        expect(copy).to_contain_text("sent")
        expect(copy.locator("a[href^='http']").first).to_have_attribute(
            "href", re.compile(r"^https?://")
        )
    ben.shot("calendar-sent")
    report = ben.go("/report")
    expect(report.locator("main a[href^='http']")).to_have_count(7)
    ben.shot("report-sent")
