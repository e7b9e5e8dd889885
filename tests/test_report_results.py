"""The report's results (what the platforms counted) and `campaign status`'s last collection, on
SQLite and PostgreSQL.

The campaign and its counts: tests/results_world.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import statistics
from pathlib import Path

import pytest
from campaign_builders import write_campaign
from click.testing import CliRunner, Result
from results_world import (
    HOSTILE,
    HOUR,
    LAGGARD,
    NOW,
    RETRACTED,
    collected_campaign,
    counts,
    mark_sent,
)
from sqlalchemy import select

from scheduler.cli import EXIT_USAGE, main
from scheduler.service import reports, sync
from scheduler.store.database import Database
from scheduler.store.documents import AccountNote, CollectionError, RunNotes
from scheduler.store.engagement import COMMAND, RunRecord, start_run
from scheduler.store.schema import Delivery
from scheduler.views.reporting.collection import last_collection
from scheduler.views.reporting.report import report_html, report_results
from scheduler.views.reporting.results import (
    ENGAGEMENT_COLUMNS,
    METRICS,
    Column,
    Results,
    gather,
)
from scheduler.views.reporting.status import render_status


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="campaign")


@pytest.fixture
def collected(tmp_path: Path, database: Database) -> Database:
    return collected_campaign(tmp_path, database)


def results_of(database: Database) -> Results:
    data = reports.report(database, now=NOW)
    return report_results(data, reports.engagement_figures(database))


def _sent_rows(database: Database) -> list[Delivery]:
    with database.snapshot() as session:
        return list(session.scalars(select(Delivery).where(Delivery.state == "sent")))


# --- the figures --------------------------------------------------------------------------------


def test_totals_are_per_platform_and_metric_and_never_mixed(collected: Database) -> None:
    results = results_of(collected)
    rows = _sent_rows(collected)
    expected: dict[Column, int] = {}
    for row in rows:
        for metric, value in counts(row.key, row.platform, row.embassy_id, row.post_id, 2).items():
            column = Column(row.platform, metric)
            expected[column] = expected.get(column, 0) + value
    assert {t.column: t.value for t in results.totals} == expected
    # likes on X and likes on Bluesky are two totals, never one
    likes = [t for t in results.totals if t.column.metric == "likes"]
    assert {t.column.platform for t in likes} == {"x", "bluesky"}
    assert [c.platform for c in results.columns][:3] == ["mastodon"] * 3  # platform order
    assert results.headline("mastodon") == Column("mastodon", "favourites")
    bookmarks = next(t for t in results.totals if t.column == Column("x", "bookmarks"))
    assert bookmarks.posts == sum(r.platform == "x" and r.embassy_id == "be-tokyo" for r in rows)
    assert results.unmeasured == 0 and len(results.measured) == len(rows)
    assert RETRACTED not in {m.row.key for m in results.measured}  # gone: not reported


def test_breakdowns_per_embassy_language_and_local_day(collected: Database) -> None:
    results = results_of(collected)
    embassy, language, day = results.breakdowns
    assert embassy.groups == ["be-newyork", "be-paris", "be-tokyo"]
    favourites = Column("mastodon", "favourites")
    tokyo = 10 * 8 * (1 + 2 + 3)  # base x growth after 7 days x the three posts
    assert embassy.values["be-tokyo", favourites] == tokyo
    assert ("be-paris", Column("x", "likes")) not in embassy.values  # no X account in Paris
    assert set(language.groups) <= {"en", "fr", "ja"} and language.groups == sorted(language.groups)
    assert len(day.groups) >= 3 and day.groups[0].endswith("2026")
    assert sum(v for (g, c), v in day.values.items() if c == favourites) == sum(
        v for (g, c), v in embassy.values.items() if c == favourites
    )


def test_top_posts_and_the_one_that_under_performed(collected: Database) -> None:
    results = results_of(collected)
    top = results.top["mastodon"]
    assert [m.counts["favourites"] for m in top] == sorted(
        (m.counts["favourites"] for m in top), reverse=True
    )
    assert top[0].row.embassy_id == "be-paris" and top[0].row.post_id == "day3"
    assert len(top) == 5
    [laggard] = results.under
    assert laggard.measured.row.key == LAGGARD
    [short] = laggard.shortfalls
    mastodon = [m.counts["favourites"] for m in results.measured if m.row.platform == "mastodon"]
    assert (short.metric, short.value, short.median) == (
        "favourites",
        1,
        statistics.median(mastodon),
    )


def test_a_post_counted_within_a_day_of_going_out_is_not_judged(collected: Database) -> None:
    data = reports.report(collected, now=NOW)
    figures = reports.engagement_figures(collected)
    young = [r for r in figures.readings if r.fetched_at - _due(data, r.delivery) < 2 * HOUR]
    assert gather(data.rows, young).under == []


def _due(data: reports.ReportData, key: str) -> dt.datetime:
    return next(row.due_at for row in data.rows if row.key == key)


def test_curves_give_the_median_post_at_each_collection(collected: Database) -> None:
    curves = dict(results_of(collected).curves["mastodon"])
    assert list(curves) == ["favourites", "reblogs", "replies"]
    hours = [h for h, _ in curves["replies"]]
    assert hours == [1.0, 24.05, 168.1]
    assert [v for _, v in curves["replies"]] == [0, 1, 2]
    x_lines = [metric for metric, _ in results_of(collected).curves["x"]]
    assert "impressions" not in x_lines  # another scale: in the tables, not on the curve


# --- the outputs --------------------------------------------------------------------------------


def test_engagement_csv_has_one_row_per_delivery_and_metric(
    collected: Database, database_url: str
) -> None:
    result = run("report", "--engagement", "-f", "csv", "--database", database_url)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ENGAGEMENT_COLUMNS
    sent = _sent_rows(collected)
    assert len(rows) == sum(
        len(counts(r.key, r.platform, r.embassy_id, r.post_id, 2)) for r in sent
    )
    laggard = [row for row in rows if row["delivery"] == LAGGARD]
    assert [(row["metric"], row["value"]) for row in laggard] == [
        ("favourites", "1"),
        ("reblogs", str(30 * 2 * 8 // 5)),
        ("replies", "2"),
    ]
    first = laggard[0]
    assert first["url"].startswith("https://social.example/mastodon/")
    assert first["sent_at"].endswith("Z") and first["fetched_at"].endswith("Z")
    assert (first["embassy"], first["post"], first["platform"]) == ("be-paris", "day2", "mastodon")
    ny_x = {
        row["metric"] for row in rows if row["embassy"] == "be-newyork" and row["platform"] == "x"
    }
    assert "bookmarks" not in ny_x  # not given: no row, never a 0


def test_engagement_json_and_html_refused(collected: Database, database_url: str) -> None:
    result = run("report", "--engagement", "-f", "json", "--database", database_url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["format", "database", "generated_at", "campaigns", "figures"]
    assert list(document["figures"][0]) == ENGAGEMENT_COLUMNS
    assert isinstance(document["figures"][0]["value"], int)
    refused = run("report", "--engagement", "-f", "html", "--database", database_url)
    assert refused.exit_code == EXIT_USAGE and "--engagement" in refused.output


def test_the_html_report_shows_results_charts_and_each_refusal(collected: Database) -> None:
    data = reports.report(collected, now=NOW)
    page = report_html(data, "db", report_results(data, reports.engagement_figures(collected)))
    assert '<section id="results">' in page
    assert page.index('id="results"') < page.index('id="sent"')
    assert page.count('role="img"') >= 10 and "<script" not in page.lower()
    assert "Mastodon favourites per embassy" in page and "X likes per day" in page
    assert "Posts with figures per platform" in page
    assert "Mastodon: the median post over time" in page
    # the refusals, in words, and X's and Bluesky's figures still there
    assert "out of credits (402)" in page and "Add credits" in page
    assert "asked us to slow down (429) until 2026-12-04 09:15 UTC" in page
    assert "refused the account&#x27;s credentials (401)" in page
    assert "campaign auth bluesky --account be-paris" in page
    assert HOSTILE not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "Bluesky likes per embassy" in page and "X likes per embassy" in page
    assert "X reads estimated at 0.03 USD" in page
    assert re.search(r"\b(src|srcset)=|<link|@import|url\(", page) is None
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith(("#", "https://")) for h in hrefs), hrefs
    ids = re.findall(r'\bid="([^"]*)"', page)
    assert len(ids) == len(set(ids)), "every id once"
    assert "1 favourites" in page and "(median " in page  # the laggard


_SENT_ROW = re.compile(
    r'<tr class="s-sent" data-delivery="([^"]+)">.*?<td class="counts">(.*?)</td>', re.S
)


def _words(html_text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html_text).split())


def test_the_html_report_lists_every_sent_delivery_with_its_latest_counts(
    collected: Database,
) -> None:
    data = reports.report(collected, now=NOW)
    page = report_html(data, "db", report_results(data, reports.engagement_figures(collected)))
    sent = page[page.index('<section id="sent">') : page.index('<section id="retracted">')]
    cells = {key.replace("&#x2F;", "/"): cell for key, cell in _SENT_ROW.findall(sent)}
    rows = _sent_rows(collected)
    assert set(cells) == {row.key for row in rows} and RETRACTED not in cells
    ids = set(re.findall(r'\bid="([^"]*)"', page))
    refused = {("be-newyork", "x"), ("be-tokyo", "x"), ("be-paris", "bluesky")}
    for row in rows:
        latest = counts(row.key, row.platform, row.embassy_id, row.post_id, 2)
        words = _words(cells[row.key])
        figures = re.findall(r"([\d,]+) ([a-z]+)", words.split(" read ")[0])
        shown = {metric: int(value.replace(",", "")) for value, metric in figures}
        assert shown == latest, (row.key, words)
        assert figures[0][1] == METRICS[row.platform][0]  # the headline first
        link = re.search(r'href="#([^"]+)"', cells[row.key])
        if (row.embassy_id, row.platform) in refused:
            assert link is not None and link.group(1) in ids, cells[row.key]
            assert "Not read at the last collection" in words
        else:
            assert link is None, cells[row.key]
    # only the sent part has the column
    assert page.count('<td class="counts">') == len(rows)


def test_the_cli_writes_the_results_into_the_page(
    collected: Database, database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    result = run("report", "-f", "html", "-o", str(target), "--database", database_url)
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert "Last collected" in page and "by the daemon" in page and "<svg" in page


def test_a_report_before_any_collection_says_so(tmp_path: Path, database: Database) -> None:
    sync.sync_file(write_campaign(tmp_path), database, actor="ines", now=NOW)
    mark_sent(database)
    data = reports.report(database, now=NOW)
    results = report_results(data, reports.engagement_figures(database))
    assert results.measured == [] and results.unmeasured == len(data.rows) and results.last is None
    page = report_html(data, "db", results)
    assert "never been collected" in page and "<svg" not in page
    assert f"{len(data.rows)} sent posts have no figure yet" in page
    assert page.count("No figure yet") == page.count('<td class="counts">') == len(data.rows)


# --- status -------------------------------------------------------------------------------------


def test_status_shows_the_last_collection_and_what_to_do(
    collected: Database, database_url: str
) -> None:
    run_record = reports.last_engagement_run(collected)
    assert run_record is not None
    text = render_status(
        reports.status(collected, now=NOW),
        "db",
        last=last_collection(run_record),
        width=100,
        colour=False,
    )
    assert "Engagement: last collected" in text and "by the daemon" in text
    assert "the counts of 3 of 12 posts read; 3 account(s) with problems:" in text
    assert "x @be_newyork (be-newyork): X refused to read more posts" in text
    assert "What to do: Add credits" in text
    result = run("status", "--json", "--database", database_url)
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout)["last_collection"]
    assert (last["trigger"], last["posts_read"], last["posts_asked"]) == ("daemon", 3, 12)
    assert [p["kind"] for p in last["problems"]] == ["402", "429", "401"]
    assert last["problems"][2]["handle"] == HOSTILE and last["problems"][0]["message"]
    terminal = run("status", "--database", database_url)
    assert terminal.exit_code == 0 and "Engagement: last collected" in terminal.output


def test_status_says_when_nothing_was_collected(tmp_path: Path, database: Database) -> None:
    sync.sync_file(write_campaign(tmp_path), database, actor="ines", now=NOW)
    quiet = render_status(reports.status(database, now=NOW), "db", width=100, colour=False)
    assert "Engagement" not in quiet  # nothing sent: nothing to say
    mark_sent(database)
    with database.transaction() as session:
        start_run(session, NOW, trigger=COMMAND)
    record = reports.last_engagement_run(database)
    assert record is not None and record.finished_at is None
    text = render_status(
        reports.status(database, now=NOW), "db", last=last_collection(record), width=100
    )
    assert "by campaign engagement, not finished" in text
    never = render_status(reports.status(database, now=NOW), "db", width=100, colour=False)
    assert "Engagement: never collected" in never


def test_every_kind_of_problem_says_what_to_do() -> None:
    skipped = {
        "over the cap": "X skipped: 40 posts to read would cost $0.20, over the cap of $0.10",
        "credits": "X skipped: X refused another account: out of credits (402)",
        "posting": "the account is posting: left for the next run",
    }
    notes = RunNotes(
        accounts=[
            AccountNote(account_id=1, platform="mastodon", embassy_id="be-paris", handle="@a",
                        error=CollectionError(kind="other", message="Mastodon: 503")),
            *(AccountNote(account_id=2, platform="x", embassy_id="be-tokyo", handle="@b",
                          skipped=reason) for reason in skipped.values()),
        ]
    )  # fmt: skip
    record = RunRecord(1, NOW, NOW + HOUR, COMMAND, None, notes)
    other, cap, credits, posting = last_collection(record).troubles
    assert other.kind == "other" and "Run `campaign engagement` again later" in other.to_do
    assert other.said == "Mastodon: 503"
    assert cap.kind == "skipped" and cap.happened == f"Not read: {skipped['over the cap']}."
    assert "--estimate" in cap.to_do and "x_max_cost" in cap.to_do
    assert credits.to_do.startswith("Add credits")
    assert posting.to_do == "Nothing: the next collection reads it."


def test_the_engagement_columns_are_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    section = doc[doc.index("### Engagement columns") :]
    section = section[: section.index("```sh")]
    assert [c for c in ENGAGEMENT_COLUMNS if f"| `{c}` |" not in section] == []
