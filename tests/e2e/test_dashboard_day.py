"""The issue's "done when": an author (ana) and an approver (ben) run a day of the campaign
from the browser alone, each in a browser of their own, and every action shows up in the CLI's
status and in the audit log. On a SQLite file and on PostgreSQL.

The audit log is read with ``campaign audit --format json``, the state with ``campaign status
--json`` and ``campaign queue list --json``, on the same database. Every step is saved as a
screenshot, desktop and phone (test-artifacts/screenshots/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import write_png
from click.testing import CliRunner
from playwright.sync_api import expect

from e2e.browsing import BrowserLog
from e2e.dashboard import (
    FILE_POSTS,
    WINDOW_START,
    Dashboard,
    MeetOfficer,
    Officer,
    button,
    choose,
    flash,
    pause_banner,
)
from scheduler.cli import main

LANGUAGES = ("en", "fr", "ja")
"""The campaign's languages (Tokyo: ja and en; New York: en; Paris: fr and en)."""
TEXTS = {
    "en": "{embassy} lights up orange tonight: join the vigil against violence.",
    "fr": "{embassy} s'illumine en orange ce soir : rejoignez la veillée.",
    "ja": "{embassy}は今夜オレンジ色に。暴力反対の集いに参加を。",
}
ALTS = {
    "en": "An orange banner with the campaign's name.",
    "fr": "Une bannière orange au nom de la campagne.",
    "ja": "キャンペーン名入りのオレンジ色の横断幕。",
}
TOO_LONG = "{embassy} " + "orange " * 45  # over X's 280 characters
X_TOO_LONG = re.compile(r"\d+ characters on X")
pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

PAUSE_REASON = "Paris: national day of mourning"
CANCEL_REASON = "Replaced by the vigil post"


def test_an_author_and_an_approver_run_a_day_from_the_browser(
    dashboard: Dashboard, officer: MeetOfficer, browser_log: BrowserLog, tmp_path: Path
) -> None:
    ana, ben = officer("ana"), officer("ben")

    browser_log.allow_console(r"status of 400 .*/login\)$")  # the wrong password's answer
    log_in_after_a_wrong_password(ana)
    ben.log_in()
    ben.shot("overview")

    queue_the_vigil(ana, write_png(tmp_path / "vigil.png", size=(1200, 675)))
    see_it_await_approval(ben)
    approve_the_vigil(ana, ben)
    the_two_person_rule_refuses_ben_his_own_post(ben)
    see_the_calendar(ben)
    pause_and_resume(ana, ben, dashboard)
    cancel_bens_post(ana)
    see_the_audit_page(ben)
    for person in (ana, ben):
        log_out(person)

    the_cli_and_the_audit_log_saw_it_all(dashboard)


def log_in_after_a_wrong_password(ana: Officer) -> None:
    ana.log_in("not the password at all")
    expect(ana.page.get_by_role("alert")).to_contain_text("wrong name or password")
    expect(ana.page.locator("[name=name]")).to_have_value("ana")
    ana.shot("login-refused")
    ana.log_in()
    expect(ana.page.get_by_role("heading", name="Overview")).to_be_visible()
    ana.shot("overview")


def queue_the_vigil(ana: Officer, image: Path) -> None:
    page = ana.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue a post").click()
    expect(page).to_have_url(re.compile(r"/queue/new"))
    page.locator("[name=id]").fill("vigil")
    page.locator("[name=text_en]").fill(TOO_LONG)
    page.locator("[name=text_fr]").fill(TEXTS["fr"])
    page.locator("[name=text_ja]").fill(TEXTS["ja"])
    page.locator("[name=image_1]").set_input_files(image)
    for language in LANGUAGES:
        page.locator(f"[name=alt_1_{language}]").fill(ALTS[language])
    live = page.locator(".live-check")
    expect(live).to_contain_text(X_TOO_LONG)  # checked as the file is, while typing
    ana.shot("queue-too-long")
    page.locator("[name=text_en]").fill(TEXTS["en"])
    expect(live).not_to_contain_text(X_TOO_LONG)
    choose(page, "when", "next")
    ana.shot("queue-ready")
    button(page, "Queue post").click()
    expect(flash(page)).to_be_visible()
    expect(page.locator("main")).to_contain_text("vigil")
    ana.shot("queued")


def see_it_await_approval(ben: Officer) -> None:
    page = ben.go("/posts")
    row = page.locator("tr", has_text="vigil")
    expect(row).to_contain_text("awaiting approval")
    ben.shot("posts-awaiting")
    ben.go("/")
    expect(page.locator("main")).to_contain_text("awaiting approval")
    ben.go("/posts")
    row.get_by_role("link", name="vigil").click()
    expect(page).to_have_url(re.compile(r"/posts/vigil$"))
    cards = page.locator("article.card")
    expect(cards).to_have_count(7)  # Tokyo 3 platforms, New York 2, Paris 2
    for platform in ("x", "mastodon", "bluesky"):
        expect(page.locator(f"article.card.p-{platform}").first).to_be_visible()
    for count in cards.locator(".count").all():
        expect(count).to_have_text(re.compile(r"\d+/\d+"))
    expect(page.locator(f'article.card img[alt="{ALTS["en"]}"]').first).to_be_visible()
    ben.shot("post-view")


def approve_the_vigil(ana: Officer, ben: Officer) -> None:
    ana.go("/posts/vigil")
    expect(ana.page.locator("article.card").first).to_be_visible()
    expect(button(ana.page, re.compile("Approve"))).to_have_count(0)  # an author may not
    ana.shot("no-approve-for-author")
    button(ben.page, "Approve version 1").click()
    expect(flash(ben.page)).to_contain_text("vigil")
    expect(ben.page.locator("main")).to_contain_text("scheduled")
    ben.shot("approved")


def the_two_person_rule_refuses_ben_his_own_post(ben: Officer) -> None:
    page = ben.go("/queue/new")
    page.locator("[name=id]").fill("notice")
    page.locator("[name=text_en]").fill("{embassy}: the office closes early on Friday.")
    page.locator("[name=embassy][value=be-paris]").check()
    button(page, "Queue post").click()
    expect(flash(page)).to_be_visible()
    page = ben.go("/posts/notice")
    approve = button(page, re.compile("Approve"))
    if approve.count():  # shown, then refused with the rule's name
        approve.click()
    expect(page.locator("main")).to_contain_text("two-person rule")
    expect(page.locator("main")).to_contain_text("awaiting approval")
    ben.shot("two-person-rule")


def see_the_calendar(ben: Officer) -> None:
    page = ben.go(f"/calendar?start={WINDOW_START}&days=7")
    vigil = page.locator(".calendar-item", has_text="vigil")
    expect(vigil).to_have_count(7)
    expect(vigil.first).to_contain_text("scheduled")
    ben.shot("calendar")
    filters = page.locator(".filters")
    choose(page, "platform", "mastodon", filters)
    filters.locator("button[type=submit], input[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"platform=mastodon"))
    expect(vigil).to_have_count(3)  # one Mastodon account per embassy
    ben.shot("calendar-mastodon")


def pause_and_resume(ana: Officer, ben: Officer, dashboard: Dashboard) -> None:
    page = ana.go("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Kill switch").click()
    form = page.locator("form", has=button(page, "Pause"))
    choose(page, "scope", "embassy", form)
    choose(page, "embassy", "be-paris", form)
    form.locator("[name=reason]").fill(PAUSE_REASON)
    button(page, "Pause").click()
    expect(pause_banner(page)).to_contain_text(PAUSE_REASON)
    ana.shot("paused")
    for path in ("/", "/calendar", "/posts/vigil", "/queue/new", "/problems", "/report"):
        expect(pause_banner(ana.go(path))).to_contain_text("be-paris")
    expect(pause_banner(ben.go("/audit"))).to_contain_text(PAUSE_REASON)
    ben.shot("banner-everywhere")
    assert [p["reason"] for p in cli_json(dashboard, "status", "--json")["pauses"]] == [
        PAUSE_REASON
    ]
    ana.go("/pauses")
    expect(button(ana.page, "Resume")).to_have_count(0)  # resuming takes an approver
    page = ben.go("/pauses")
    page.locator("form", has_text=PAUSE_REASON).or_(
        page.locator("tr", has_text=PAUSE_REASON)
    ).first.get_by_role("button", name="Resume").click()
    expect(flash(page)).to_be_visible()
    expect(pause_banner(page)).to_have_count(0)
    ben.shot("resumed")
    expect(pause_banner(ana.go("/"))).to_have_count(0)


def cancel_bens_post(ana: Officer) -> None:
    page = ana.go("/posts/notice")
    page.locator("[name=reason]").fill(CANCEL_REASON)
    button(page, "Cancel post").click()
    expect(flash(page)).to_be_visible()
    expect(page.locator("main")).to_contain_text("cancelled")
    ana.shot("cancelled")


def see_the_audit_page(ben: Officer) -> None:
    page = ben.go("/audit")
    for actor, action in (("ana", "cancel"), ("ben", "approve"), ("ana", "pause")):
        expect(page.locator("tr", has_text=actor).filter(has_text=action).first).to_be_visible()
    ben.shot("audit")


def log_out(person: Officer) -> None:
    person.page.get_by_role("button", name="Log out").click()
    expect(person.page).to_have_url(re.compile(r"/login"))
    expect(person.page.get_by_text("You are logged out.")).to_be_visible()
    person.shot("logged-out")
    person.go("/calendar")
    expect(person.page).to_have_url(re.compile(r"/login\?next=%2Fcalendar$"))  # session gone


def cli_json(dashboard: Dashboard, *arguments: str) -> Any:
    result = CliRunner().invoke(
        main, list(arguments), env={"CAMPAIGN_DATABASE": dashboard.database_url}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def the_cli_and_the_audit_log_saw_it_all(dashboard: Dashboard) -> None:
    status = cli_json(dashboard, "status", "--json")
    assert status["pauses"] == []
    posts = {row["id"]: row for row in cli_json(dashboard, "queue", "list", "--all", "--json")}
    assert posts["vigil"]["states"] == {"scheduled": 7}
    assert posts["notice"]["states"] == {
        "cancelled": 2
    }  # Paris: Mastodon, Bluesky and posts["notice"]["cancelled"]
    for post_id in FILE_POSTS:
        assert posts[post_id]["states"] == {"awaiting_approval": 7}
    assert status["states"]["awaiting_approval"] == 14
    audit = cli_json(dashboard, "audit", "--format", "json")["entries"]
    done = {(entry["actor"], entry["action"], entry["subject"]) for entry in audit}
    assert {
        ("ana", "log in refused", "ana"),
        ("ana", "log in", "ana"),
        ("ben", "log in", "ben"),
        ("ana", "queue add", "vigil"),
        ("ben", "approve", "vigil"),
        ("ben", "queue add", "notice"),
        ("ana", "cancel", "notice"),
        ("ana", "log out", "ana"),
        ("ben", "log out", "ben"),
    } <= done
    assert {(actor, action) for actor, action, _ in done} >= {("ana", "pause"), ("ben", "resume")}
    assert ("ben", "approve", "notice") not in done
