"""The dashboard's read-only pages over real HTTP, on SQLite and PostgreSQL: the overview
(problems first), the problems, the calendar, the report and its downloads, the audit log (and
`campaign audit`), the images. Every route for every role and for nobody logged in; the content
from a campaign run through the real paths (tests/test_dashboard_data.py's story: approvals,
the dispatcher against the fakes, the housekeeper, a claim, a retraction, a cancel)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from test_dashboard_data import DAY1, Story, clock, fakes, story, world
from web_fixtures import PASSWORD, USER_NAMES, Login, WebClient, WebServer

from scheduler.cli import main
from scheduler.service import control, dashboard, users
from scheduler.service.control import Scope
from scheduler.service.engagement import collect
from scheduler.service.queue import cancel_post
from scheduler.service.users import Role
from scheduler.store.database import Database

__all__ = ["clock", "fakes", "story", "world"]  # fixtures

CAMPAIGN = "orange-2026"
PAGES = ("/", "/problems", "/calendar", "/report", "/audit")
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
HOSTILE = "<script>alert('x')</script>"
ROLES = ("author", "approver", "admin")


def _at_story_time(web: WebServer, story: Story) -> None:
    """The dashboard's clocks at the story's instant (before anyone logs in: a session made
    earlier would have outlived its twelve hours)."""
    web.clock.instant = story.world.clock.now()


def _image(database: Database) -> str:
    detail = dashboard.post_detail(database, "d1-paris")
    return detail.deliveries[0].media[0].sha256


def _text_between(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


# --- every route, every role --------------------------------------------------------------------


def _routes(database: Database) -> list[str]:
    every = [*PAGES, *(f"/report.{ext}" for ext in DOWNLOADS), f"/media/{_image(database)}"]
    return [*every, *(f"{path}?campaign={CAMPAIGN}" for path in every)]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_every_role(web: WebServer, web_login: Login, story: Story,
                                       role: str) -> None:  # fmt: skip
    _at_story_time(web, story)
    client = web_login(role)
    for path in _routes(web.database):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        if "html" in response.headers["content-type"] and "." not in path:
            assert f"<strong>{USER_NAMES[Role(role)]}</strong>" in response.text, path


def test_nobody_logged_in_goes_to_the_login_form(web: WebServer, story: Story) -> None:
    visitor = web.client()
    for path in _routes(web.database):
        response = visitor.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
        if path != "/":
            assert response.headers["location"].startswith("/login?next=%2F"), path
        assert response.content[:4] != b"\x89PNG" and "orange" not in response.text.lower()


# --- the overview and the problems ------------------------------------------------------------


def test_the_overview_puts_problems_first(web: WebServer, web_login: Login, story: Story) -> None:
    _at_story_time(web, story)
    page = web_login("author").get("/").text
    problems, pauses, counts = (page.index(f'id="{name}-title"') for name in
                                ("problems", "pauses", "counts"))  # fmt: skip
    assert problems < pauses < counts
    listed = _text_between(page, 'id="problems-title"', 'id="pauses-title"')
    assert 'Problems <span class="count">(3)</span>' in listed
    assert listed.index("Failed") < listed.index("Unknown outcome") < listed.index("Missed")
    assert 'post <a href="/posts/d1-paris?campaign=orange-2026">d1-paris</a>' in listed
    assert "campaign settle orange-2026/d1-paris/be-paris/mastodon/1 --retry" in listed
    assert "Next: read the reason; fix the post or the account" in listed
    assert "Why: " in listed and "grace" in listed  # the missed one's reason
    assert "4 deliveries awaiting approval" in listed
    assert 'href="/calendar?state=awaiting_approval"' in listed
    assert "Nothing is paused." in page
    control.pause(web.database, Scope(platform="x"), reason="outage", actor="ben")
    paused = web_login("author").get("/").text
    assert "1 pause in force" in _text_between(paused, 'id="pauses-title"', 'id="counts-title"')


def test_an_overview_without_problems_says_all_is_well(
    web: WebServer, web_login: Login, synced_campaign: str
) -> None:
    page = web_login("approver").get("/").text
    assert "All is well: nothing has failed" in page
    assert web_login("author").get("/problems").text.count("All is well") == 1


def test_a_suspended_account_is_a_problem_with_its_next_action(
    web: WebServer, web_login: Login, story: Story
) -> None:
    world = story.world
    world.platforms.mastodon.revoke(world.platforms.mastodon.token_of("be_paris"))
    world.dispatcher.housekeeping.check_tokens()
    _at_story_time(web, story)
    page = web_login("author").get(f"/problems?campaign={CAMPAIGN}").text
    headings = re.findall(r'<h2 id="kind-\d+">([^<]+) <span', page)
    assert headings == ["Failed", "Unknown outcome", "Missed", "Account suspended"]
    suspended = page[page.index("Account suspended <span") :]
    assert "renew the account&#x27;s token" in suspended
    assert f'<a href="/pauses?campaign={CAMPAIGN}">open the kill switch</a>' in suspended
    assert "campaign resume --embassy be-paris --platform mastodon" in suspended
    assert web_login("author").get("/problems?campaign=nope").status_code == 400


# --- the calendar -------------------------------------------------------------------------------


def _calendar(client: WebClient, query: str, **options: object) -> httpx.Response:
    return client.get(f"/calendar?start=2026-11-25&days=2&{query}", **options)  # type: ignore[arg-type]


def test_the_calendar_shows_each_delivery(web: WebServer, web_login: Login, story: Story) -> None:
    _at_story_time(web, story)
    author = web_login("author")
    page = _calendar(author, "").text
    assert "<caption" in page and '<th scope="col">be-paris</th>' in page
    assert '<th scope="row"><time datetime="2026-11-25">Wed 25 Nov</time> <small>(today)' in page
    rome = next(e for e in dashboard.calendar(web.database, start=DAY1, days=1).entries
                if (e.post_id, e.platform) == ("d1-rome", "mastodon"))  # fmt: skip
    assert rome.url is not None
    sent = re.findall(r'<div class="calendar-item">((?:(?!</div>).)*)</div>', page)
    rome_sent = next(text for text in sent if "@be_rome@mastodon.example" in text
                     and "d1-rome" in text)  # fmt: skip
    assert (
        '<time datetime="2026-11-25T08:30:00+00:00"' in rome_sent and ">09:30</time>" in rome_sent
    )
    assert '<span class="badge state-sent">sent</span>' in rome_sent
    assert '<a href="/posts/d1-rome?campaign=orange-2026">d1-rome</a>' in rome_sent
    assert f'<a href="{rome.url}" rel="noopener noreferrer">the post on mastodon' in rome_sent
    failed = next(text for text in sent if "state-failed" in text)
    assert "d1-paris" in failed and "ContentRejected" in failed
    words = {"awaiting approval": "awaiting_approval", "unknown outcome": "unknown",
             "missed": "missed", "sending": "claimed", "retracted": "retracted",
             "cancelled": "cancelled", "scheduled": "scheduled"}  # fmt: skip
    for word, style in words.items():
        assert f'<span class="badge state-{style}">{word}</span>' in page, word
    assert "outside the campaign" not in page


def test_the_calendar_filters_and_periods(web: WebServer, web_login: Login, story: Story) -> None:
    _at_story_time(web, story)
    author = web_login("author")
    x_only = _calendar(author, "platform=x").text
    assert "@be_rome@mastodon.example" not in x_only
    assert '<span class="account">@be_rome</span>' in x_only
    assert '<option value="x" selected>x</option>' in x_only
    failed = _calendar(author, "state=failed").text
    assert failed.count('<div class="calendar-item">') == 1
    assert '<option value="failed" selected>failed</option>' in failed
    waiting = _calendar(author, "state=awaiting+approval&embassy=be-rome").text
    assert waiting.count('<div class="calendar-item">') == 2
    assert '<th scope="col">be-paris</th>' not in waiting
    for label in ("From (date)", "Days", "Platform", "Language", "State", "Embassy"):
        assert f">{label}</label>" in failed
    assert 'href="/calendar?start=2026-11-23&amp;days=2&amp;state=failed" rel="prev"' in failed
    assert 'href="/calendar?start=2026-11-27&amp;days=2&amp;state=failed" rel="next"' in failed
    earlier = author.get("/calendar?start=2026-11-23&days=2").text
    assert earlier.count("(outside the campaign)") == 2 and "outside-window" in earlier
    kept = author.get(f"/calendar?campaign={CAMPAIGN}&start=2026-11-25&days=1").text
    assert f'href="/calendar?campaign={CAMPAIGN}&amp;start=2026-11-26&amp;days=1"' in kept
    assert f'<input type="hidden" name="campaign" value="{CAMPAIGN}">' in kept


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=40", "days: 40 is not between 1 and 31"),
        ("days=many", "days: &#x27;many&#x27; is not a whole number"),
        ("start=25/11/2026", "start: &#x27;25/11/2026&#x27; is not a date; expected YYYY-MM-DD"),
        ("platform=myspace", "platform: no platform &#x27;myspace&#x27;"),
        ("state=lost", "state: &#x27;lost&#x27; is not a state"),
    ],
)
def test_a_bad_filter_is_refused_by_name(
    web: WebServer, web_login: Login, synced_campaign: str, query: str, message: str
) -> None:
    author = web_login("author")
    page = author.get(f"/calendar?{query}")
    assert page.status_code == 400 and message in page.text
    swapped = author.get(f"/calendar?{query}", headers={"HX-Request": "true"})
    assert swapped.status_code == 200  # htmx swaps only a 2xx answer
    assert 'role="alert"' in swapped.text and message in swapped.text


def test_htmx_gets_only_the_grid(web: WebServer, web_login: Login, synced_campaign: str) -> None:
    author = web_login("author")
    whole = author.get("/calendar").text
    assert 'hx-get="/calendar" hx-target="#calendar-results"' in whole
    assert 'action="/calendar"' in whole and 'method="get"' in whole  # works without JS
    part = author.get("/calendar", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<div id="calendar-results">')
    assert "<html" not in part.text
    assert '<table class="calendar-grid">' in part.text


def test_hostile_text_stays_inert(web: WebServer, web_login: Login, story: Story) -> None:
    database = story.world.database
    reason = f"{HOSTILE} & more"
    cancel_post(database, "d2-go", actor="ines", reason=reason, now=story.world.clock.now())
    control.pause(database, Scope(embassy_id="be-rome"), reason=HOSTILE, actor="ben")
    _at_story_time(web, story)
    author = web_login("author")
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    for path in ("/", "/calendar?start=2026-11-26&days=1", "/audit", "/report"):
        page = author.get(path).text
        assert "<script>alert" not in page, path
    assert escaped in author.get("/calendar?start=2026-11-26&days=1").text
    assert f"{escaped} &amp; more" in author.get("/audit").text
    html = author.get("/report.html").text
    assert "<script>alert" not in html and "&lt;script&gt;" in html


# --- the report ---------------------------------------------------------------------------------


def test_the_report_page_lists_sent_posts_with_their_links(
    web: WebServer, web_login: Login, story: Story
) -> None:
    _at_story_time(web, story)
    page = web_login("approver").get("/report").text
    sent = [e for e in dashboard.calendar(web.database, start=DAY1, days=1).entries
            if e.state == "sent"]  # fmt: skip
    assert len(sent) == 1 and sent[0].url
    section = page[page.index('id="sent-title"') :]
    assert 'Sent <span class="count">(1)</span>' in section
    assert f'<a href="{sent[0].url}" rel="noopener noreferrer">{sent[0].url}</a>' in section
    assert '<a href="/posts/d1-rome?campaign=orange-2026">d1-rome</a>' in section
    counts = _text_between(page, 'id="counts-title"', 'id="sent-title"')
    for title, count in (("Sent", 1), ("Retracted", 1), ("Failed", 1), ("Outcome unknown", 1),
                         ("Missed", 1), ("Cancelled", 4), ("Awaiting approval", 4)):  # fmt: skip
        assert f'<th scope="row">{title}</th><td>{count}</td>' in counts, title
    for ext in DOWNLOADS:
        assert f'href="/report.{ext}" download' in page


def test_the_report_page_shows_what_the_platforms_counted(
    web: WebServer, web_login: Login, story: Story
) -> None:
    world = story.world
    (sent,) = [row for row in world.rows() if row.state == "sent"]
    assert sent.platform == "mastodon" and sent.remote_id
    _at_story_time(web, story)
    before = web_login("author").get("/report").text
    assert "The figures have never been collected" in before
    assert "No figure yet" in _text_between(before, 'id="sent-title"', "</table>")

    world.platforms.mastodon.set_counts(sent.remote_id, favourites_count=1234, reblogs_count=5)
    first = collect(world.database, story.settings, now=world.clock.now() + dt.timedelta(hours=1))
    assert first.complete and first.fetched == 1
    world.platforms.mastodon.fail(401, method="GET", path="^/api/v1/statuses")
    world.platforms.mastodon.set_counts(sent.remote_id, favourites_count=9999)
    second = collect(world.database, story.settings, now=world.clock.now() + dt.timedelta(days=1))
    assert not second.complete

    page = web_login("author").get("/report").text
    results = _text_between(page, 'id="results-title"', 'id="sent-title"')
    assert "refused the account&#x27;s credentials (401)" in results
    anchor = re.search(r'<li class="trouble k-401" id="([^"]+)">', results)
    assert anchor is not None and "be-rome" in anchor.group(1)
    totals = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", results))
    assert "mastodon favourites 1,234 1" in totals and "mastodon reblogs 5 1" in totals
    assert "mastodon replies 0 1" in totals
    row = _text_between(page, f'<tr data-delivery="{sent.key}">', "</tr>")
    assert "<b>1,234</b> favourites" in row and "<b>5</b> reblogs" in row and "9,999" not in row
    assert f'<a href="#{anchor.group(1)}">Not read at the last collection' in row


@pytest.mark.parametrize("ext", list(DOWNLOADS))
def test_the_downloads_are_the_cli_reports_bytes(
    web: WebServer, web_login: Login, story: Story, database_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, ext: str,
) -> None:  # fmt: skip
    _at_story_time(web, story)
    clock_file = tmp_path / "clock"
    clock_file.write_text(web.clock.now().isoformat() + "\n", encoding="utf-8")
    monkeypatch.setenv("CAMPAIGN_CLOCK_FILE", str(clock_file))
    written = tmp_path / f"cli.{ext}"
    result = CliRunner().invoke(
        main, ["report", "-f", ext, "-o", str(written), "--database", database_url]
    )
    assert result.exit_code == 0, result.output
    for query, name in (("", CAMPAIGN), (f"?campaign={CAMPAIGN}", CAMPAIGN)):
        response = web_login("author").get(f"/report.{ext}{query}")
        assert response.status_code == 200
        assert response.content == written.read_bytes()
        assert response.headers["content-type"] == DOWNLOADS[ext]
        assert response.headers["content-disposition"] == (
            f'attachment; filename="report-{name}-2026-11-25.{ext}"'
        )
    assert b"d1-rome" in written.read_bytes()
    assert ext != "html" or b'<section id="results">' in written.read_bytes()  # results first


# --- the audit log ------------------------------------------------------------------------------


def _audit_cli(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["audit", "--database", database_url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_dashboard_action_shows_in_the_audit_page_and_the_cli(
    web: WebServer, web_login: Login, synced_campaign: str, database_url: str
) -> None:
    author = web_login("author")  # logging in is an action, under the user's name
    users.set_password(web.database, "ben", "another long password", actor="ada")
    page = author.get("/audit").text
    row = re.search(r"<tr id=\"entry-\d+\">(?:(?!</tr>).)*<td>ana</td><td>log in</td>"
                    r"(?:(?!</tr>).)*</tr>", page)  # fmt: skip
    assert row, page
    assert page.index("<td>ada</td><td>user password</td>") < row.start()  # newest first
    assert PASSWORD not in page and "another long password" not in page
    assert "<td>ines</td><td>sync</td><td>orange-2026</td>" in page
    assert '<li><strong>changes</strong>: {"' in page  # JSON, not a Python repr
    assert author.session is not None and author.session not in page
    mine = author.get("/audit?user=ana&action=log+in").text
    assert mine.count('<tr id="entry-') == 1 and '<option value="ana" selected>' in mine
    assert author.get(f"/audit?campaign={CAMPAIGN}&user=ada").text.count('<tr id="entry-') == 1
    table = _audit_cli(database_url, "--user", "ana")
    header, line = table.splitlines()
    assert header.split()[:4] == ["id", "at", "(UTC)", "who"]
    assert re.fullmatch(r"\d+\s+2026-11-24 09:00:00\s+ana\s+log in\s+-\s+ana\s*.*", line), line
    entries = json.loads(_audit_cli(database_url, "--format", "json", "--action", "log in"))
    assert entries["format"] == 1
    assert [(e["actor"], e["action"], e["at"]) for e in entries["entries"]] == [
        ("ana", "log in", "2026-11-24T09:00:00Z")
    ]
    everything = _audit_cli(database_url, "--limit", "1000")
    assert PASSWORD not in everything and "another long password" not in everything
    assert author.session not in everything


def test_the_audit_log_pages_back(web: WebServer, web_login: Login, synced_campaign: str,
                                  database_url: str) -> None:  # fmt: skip
    for number in range(30):
        control.pause(web.database, Scope(embassy_id="be-paris"), reason=f"p{number}", actor="ben")
        control.resume(web.database, Scope(embassy_id="be-paris"), actor="ben")
    author = web_login("author")
    first = author.get("/audit?user=ben").text
    assert first.count('<tr id="entry-') == 50
    older = re.search(r'href="(/audit\?user=ben&amp;before=\d+)" rel="next">Older', first)
    assert older, first
    second = author.get(older[1].replace("&amp;", "&")).text
    assert second.count('<tr id="entry-') == 10 and "Older entries" not in second
    assert 'href="/audit?user=ben">Newest</a>' in second
    assert "p0" in second and "p29" in first
    assert len(_audit_cli(database_url, "--user", "ben", "--limit", "7").splitlines()) == 8
    assert author.get("/audit?before=x").status_code == 400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "--limit"),
        (["--campaign", "nope"], "--campaign nope: no such campaign"),
        (["--format", "xml"], "--format"),
    ],
)
def test_campaign_audit_refuses_bad_options(
    database_url: str, database: Database, synced_campaign: str, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["audit", "--database", database_url, *args])
    assert result.exit_code == 2 and message in result.output


# --- images -------------------------------------------------------------------------------------


def test_an_image_is_served_by_its_hash(web: WebServer, web_login: Login, story: Story) -> None:
    _at_story_time(web, story)
    author = web_login("author")
    sha = _image(web.database)
    image = author.get(f"/media/{sha}")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["cache-control"] == "private, max-age=3600"
    for path in (f"/media/{'0' * 64}", "/media/xyz", f"/media/{sha.upper()}", f"/media/{sha}.png"):
        missing = author.get(path)
        assert missing.status_code == 404, path
        assert "image/png" not in missing.headers["content-type"]
