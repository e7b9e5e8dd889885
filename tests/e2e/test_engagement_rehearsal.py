"""Issue 14's "done when": the real campaign rehearsed against the fakes (all 16 days, 867
deliveries, sent by a real daemon on a stepped clock as tests/test_real_campaign_rehearsal.py
does), counts set on the fakes for every post they hold, then `campaign engagement` with one
Mastodon account's token revoked (401), X out of credits (402) after a few accounts were read
(the credits are the app's: the X accounts after it are skipped) and Bluesky slowing one account
down (429), then `campaign report --format html`: the answered posts' counts are in it, each
refusal is a note naming its account, and the charts render in Chromium (screenshots saved)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import test_real_campaign_rehearsal as rehearsal
from click.testing import CliRunner
from daemon_harness import DaemonProcess, Platforms, SteppedTime, write_config
from fakes.server import Request
from playwright.sync_api import Page, expect
from sqlalchemy import select

from e2e.browsing import Resource, local_site, screenshot
from scheduler.cli import main
from scheduler.service.queue import approve_post, list_posts
from scheduler.service.sync import sync_file
from scheduler.store.database import Database, open_database
from scheduler.store.schema import Account, Delivery

pytestmark = pytest.mark.slow
OpenPage = Callable[..., Page]
SLICE = dt.timedelta(days=30)
"""The posts whose first copy is due this long after the rehearsal's start: all of them."""
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'"
X_READS = "^/2/tweets$"
X_ANSWERED = 8
"""X reads answered before X says the app is out of credits."""
Key = tuple[str, str]
"""(embassy, platform): an account, as `campaign engagement` prints it."""


def _rehearse(tmp_path: Path, database: Database, platforms: Platforms) -> Path:
    """Sync the real campaign, approve its posts due within SLICE, let a stepped daemon send
    them."""
    url = str(tmp_path / "campaign.db")
    time = SteppedTime(tmp_path / "clock", rehearsal.START)
    sync_file(rehearsal.REAL_CAMPAIGN, database, actor="ines", now=rehearsal.START)
    approved = {
        row["id"]
        for row in list_posts(database, queued_only=False)
        if dt.datetime.fromisoformat(row["first_due_utc"]) < rehearsal.START + SLICE
    }
    for post_id in approved:
        approve_post(database, post_id, approver="marc", now=rehearsal.START)
    platforms.follow(time.now)
    platforms.enrol(database)
    config = write_config(
        tmp_path / "campaign.toml",
        daemon={"poll": "1m", "lease": "30s", "max_in_flight": 8, "worker_name": "rehearsal"},
    )
    secrets = tmp_path / "secrets" / "secrets.toml"
    platforms.env.update(CAMPAIGN_DATABASE=url, CAMPAIGN_SECRETS_FILE=str(secrets))

    def approved_sent() -> bool:
        with database.snapshot() as session:
            rows = list(session.scalars(select(Delivery).where(Delivery.post_id.in_(approved))))
        return bool(rows) and all(row.state == "sent" for row in rows)

    with DaemonProcess(platforms.env, ["--config", str(config), *time.args],
                       tmp_path / "daemon.log") as daemon:  # fmt: skip
        time.until(daemon, approved_sent)
        assert daemon.stop() == 0, daemon.output()
    return config


def _set_counts(platforms: Platforms) -> dict[str, dict[str, int]]:
    """Counts on every post each fake holds, different per platform, some left out; what the
    report must show, by remote id, under our metric names."""
    expected: dict[str, dict[str, int]] = {}
    for index, status in enumerate(platforms.mastodon.posted):
        platforms.mastodon.set_counts(
            status.id, favourites_count=index + 3, reblogs_count=index % 4
        )
        expected[status.id] = {"favourites": index + 3, "reblogs": index % 4, "replies": 0}
    for index, record in enumerate(platforms.bluesky.posted):
        platforms.bluesky.set_counts(record.uri, likeCount=2 * index + 1, quoteCount=None)
        expected[record.uri] = {"likes": 2 * index + 1, "reposts": 0, "replies": 0, "bookmarks": 0}
    for index, tweet in enumerate(platforms.x.posted):
        # every other post from before X counted impressions: absent, never 0
        impressions = None if index % 2 else 100 * (index + 1)
        platforms.x.set_counts(tweet.id, like_count=index + 7, impression_count=impressions)
        found = {"likes": index + 7, "retweets": 0, "replies": 0, "quotes": 0, "bookmarks": 0}
        expected[tweet.id] = found if impressions is None else {**found, "impressions": impressions}
    return expected


def _refuse(platforms: Platforms, database: Database) -> str:
    """Mastodon: one account's token revoked (401); X: out of credits (402) after answering
    ``X_ANSWERED`` reads; Bluesky: the first read rate-limited (429). The revoked account's
    handle."""
    with database.snapshot() as session:
        handles = sorted(
            session.scalars(select(Account.handle).where(Account.platform == "mastodon"))
        )
    revoked = handles[0]
    platforms.mastodon.revoke(platforms.mastodon.token_of(revoked.lstrip("@")))
    answered = 0

    def credits_run_out(request: Request) -> None:
        nonlocal answered
        if request.method == "GET" and re.search(X_READS, request.path):
            answered += 1
            if answered == X_ANSWERED + 1:  # hooks run before the faults are taken
                platforms.x.fail(402, method="GET", path=X_READS)

    platforms.x.hooks.append(credits_run_out)
    reset = platforms.bluesky.clock() + dt.timedelta(minutes=15)
    platforms.bluesky.rate_limit(reset, method="GET", path="getPosts$")
    return revoked


def _cli(platforms: Platforms, *arguments: str) -> Any:
    return CliRunner().invoke(main, list(arguments), env=platforms.env)


def _refused(output: str) -> dict[Key, str]:
    """The accounts `campaign engagement` says it stopped at or skipped, with their line."""
    found: dict[Key, str] = {}
    for line in output.splitlines():
        match = re.match(r"\s+(\S+) (x|mastodon|bluesky) (\S+): (.*stopped \(\d+|skipped: )", line)
        if match:
            found[match[1], match[2]] = line
    return found


def _readings(platforms: Platforms) -> dict[str, dict[str, int]]:
    """`campaign report --engagement -f json`: the latest counts by delivery key."""
    result = _cli(platforms, "report", "--engagement", "-f", "json")
    assert result.exit_code == 0, result.output
    readings: dict[str, dict[str, int]] = {}
    for figure in json.loads(result.output)["figures"]:
        readings.setdefault(figure["delivery"], {})[figure["metric"]] = figure["value"]
    return readings


def test_a_rehearsed_campaign_reports_its_counts_and_refusals(
    tmp_path: Path, open_page: OpenPage
) -> None:
    database = open_database(str(tmp_path / "campaign.db"))
    with Platforms() as platforms:
        config = _rehearse(tmp_path, database, platforms)
        expected = _set_counts(platforms)
        revoked = _refuse(platforms, database)
        with database.snapshot() as session:
            sent = [
                (row, account)
                for row, account in session.execute(
                    select(Delivery, Account).join(Account, Delivery.account_id == Account.id)
                )
                if row.state == "sent"
            ]
        assert len(sent) == len(expected) == 867, (len(sent), len(expected))

        result = _cli(platforms, "engagement", "--max-cost", "5", "--config", str(config))
        assert result.exit_code == 1, result.output
        refused = _refused(result.output)
        lines = {platform: [line for (_, p), line in refused.items() if p == platform]
                 for platform in ("x", "mastodon", "bluesky")}  # fmt: skip
        assert [len(lines["mastodon"]), len(lines["bluesky"])] == [1, 1], result.output
        assert revoked in lines["mastodon"][0] and "stopped (401" in lines["mastodon"][0]
        assert "stopped (429 until" in lines["bluesky"][0]
        # X's credits are the app's, not an account's: after one 402 every X account waits
        assert 0 < len(lines["x"]) < 16, lines["x"]  # some X accounts were read before
        assert sum("stopped (402" in line for line in lines["x"]) == 1, lines["x"]
        assert all("credits" in line for line in lines["x"]), lines["x"]
        assert f"{len(refused)} accounts not collected (see above)" in result.output
        assert (
            "289 posts to read at $0.005 each: $1.45 at most, cap $5.00 (within the cap)"
            in result.output
        ), result.output

        readings = _readings(platforms)
        answered = [
            (row, acc) for row, acc in sent if (acc.embassy_id, acc.platform) not in refused
        ]
        assert {row.key: readings.get(row.key) for row, _ in answered} == {
            row.key: expected[row.remote_id or ""] for row, _ in answered
        }
        assert not {
            row.key for row, acc in sent if (acc.embassy_id, acc.platform) in refused
        } & set(readings)

        out = tmp_path / "report.html"
        result = _cli(platforms, "report", "--format", "html", "-o", str(out))
        assert result.exit_code == 0, result.output
    database.close()
    html = out.read_text(encoding="utf-8")
    print(
        f"\nengagement rehearsal: {len(sent)} sent, {len(answered)} counted, "
        f"{len(refused)} accounts refused or skipped"
    )
    _check_page(open_page, html, answered, expected, refused)


def _check_page(
    open_page: OpenPage,
    html: str,
    answered: list[tuple[Delivery, Account]],
    expected: dict[str, dict[str, int]],
    refused: dict[Key, str],
) -> None:
    """The totals per platform and metric are the fakes' answered counts; each refusal reads
    in words with its account; the charts show with their names. Screenshots saved."""
    totals: dict[tuple[str, str], int] = {}
    for row, account in answered:
        for metric, value in expected[row.remote_id or ""].items():
            totals[account.platform, metric] = totals.get((account.platform, metric), 0) + value
    with local_site({"/report.html": Resource(html.encode("utf-8"))},
                    {"Content-Security-Policy": REPORT_CSP}) as site:  # fmt: skip
        for size in ("desktop", "phone"):
            page = open_page(size)
            page.goto(f"{site}/report.html")
            results = page.locator("#results")
            expect(results.get_by_role("heading", name="Results")).to_be_visible()
            shown = {
                (cells[0], cells[1]): int(cells[2].replace(",", ""))
                for cells in (
                    [cell.strip() for cell in row.split("\t")]
                    for row in results.locator("table").first.locator("tbody tr").all_inner_texts()
                )
            }
            assert shown == totals
            _check_each_delivery(page, answered, expected)
            for embassy, platform in refused:
                note = results.locator(f"li.trouble:has(.p-{platform})", has_text=f"({embassy})")
                expect(note).to_have_count(1)
                expect(note).to_contain_text("What to do")
            expect(results.get_by_text("credentials (401)")).to_be_visible()
            expect(results.get_by_text("out of credits (402)")).to_be_visible()
            expect(results.get_by_text("asked us to slow down (429)")).to_be_visible()
            charts = page.locator('#results svg[role="img"]')
            expect(charts.first).to_be_visible()
            for index in range(charts.count()):
                chart = charts.nth(index)
                chart.scroll_into_view_if_needed()
                expect(chart).to_be_visible()
                assert (chart.locator(":scope > title").text_content() or "").strip()
            for name in ("Mastodon favourites per embassy", "Bluesky likes per embassy",
                         "X likes per embassy"):  # fmt: skip
                expect(page.get_by_role("img", name=name)).to_be_visible()
            # the whole page of 867 posts is too tall to shoot: the first charts, on screen
            bars = page.get_by_role("img", name="Mastodon favourites per embassy")
            bars.evaluate("chart => chart.scrollIntoView()")
            screenshot(page, f"engagement-rehearsal-{size}")


def _check_each_delivery(
    page: Page, answered: list[tuple[Delivery, Account]], expected: dict[str, dict[str, int]]
) -> None:
    """The list of what went out shows every sent delivery's own counts, as the fakes hold them;
    the ones whose account refused say so and link to the note."""
    cells: dict[str, str] = dict(
        page.locator("#sent tbody tr").evaluate_all(
            "rows => rows.map(row =>"
            " [row.dataset.delivery, row.querySelector('td.counts').innerText])"
        )
    )
    assert len(cells) == 867
    counted = {row.key: expected[row.remote_id or ""] for row, _ in answered}
    for key, text in cells.items():
        figures = re.findall(r"([\d,]+) ([a-z_ ]+?)\n", text.split("read ")[0] + "\n")
        shown = {metric.replace(" ", "_"): int(value.replace(",", "")) for value, metric in figures}
        if key in counted:
            assert shown == counted[key], (key, text)
        else:
            assert shown == {} and "No figure yet" in text, (key, text)
            assert "Not read at the last collection" in text, (key, text)
    unread = page.locator("#sent td.counts a").first
    target = unread.get_attribute("href") or ""
    expect(page.locator(f"#results li.trouble{target}")).to_have_count(1)
