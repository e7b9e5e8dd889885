"""`campaign status` and `campaign report`, on SQLite and PostgreSQL.

A real campaign is synced, then deliveries are put into the states a daemon would leave them in
with direct SQL (there is no daemon yet): sent with a URL, failed with an error, unknown, needing
review, missed, cancelled, awaiting approval.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import campaign_data, post, write_campaign, write_yaml
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from scheduler.cli import EXIT_USAGE, main
from scheduler.service import reports, sync
from scheduler.store.database import Database, open_database
from scheduler.store.queries import STATE_ORDER
from scheduler.store.schema import Account, Delivery, Pause
from scheduler.store.states import ATTENTION, DeliveryState
from scheduler.views.reporting.report import CSV_COLUMNS, report_html
from scheduler.views.reporting.status import render_status

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
CAMPAIGN = "orange-2026"
SCRIPT = "<script>alert('x')</script>"
XSS_TEXT = {lang: f"{SCRIPT} & {{embassy}} ({lang})" for lang in ("en", "fr", "ja")}
ROOT = Path(__file__).resolve().parent.parent

# key (without the campaign) -> the columns a daemon would have written
OUTCOMES: dict[str, dict[str, Any]] = {
    "launch/be-tokyo/x/1": {
        "state": DeliveryState.SENT,
        "remote_id": "1861234567890",
        "remote_url": "https://x.com/be_tokyo/status/1861234567890",
        "sent_at": dt.datetime(2026, 11, 24, 23, 0, 4, tzinfo=dt.UTC),
        "attempt_count": 1,
    },
    "launch/be-tokyo/mastodon/1": {
        "state": DeliveryState.FAILED,
        "error_class": "ContentRejected",
        "error_message": "Validation failed: Text character limit of 500 exceeded",
        "attempt_count": 2,
    },
    "launch/be-newyork/x/1": {
        "state": DeliveryState.MISSED,
        "error_message": "too late: due 08:00 America/New_York, grace 1h",
    },
    "day2/be-tokyo/bluesky/1": {
        "state": DeliveryState.UNKNOWN,
        "error_class": "OutcomeUnknown",
        "error_message": "connection dropped after the request was sent",
        "attempt_count": 1,
    },
    "day2/be-paris/mastodon/1": {"state": DeliveryState.AWAITING_APPROVAL},
    "day2/be-newyork/mastodon/1": {
        "state": DeliveryState.CANCELLED,
        "error_message": "cancelled by ines: wrong date",
    },
    "xss/be-paris/bluesky/1": {
        "state": DeliveryState.SENT,
        "remote_url": "javascript:alert(1)",
        "sent_at": dt.datetime(2026, 11, 27, 8, 0, 2, tzinfo=dt.UTC),
        "attempt_count": 1,
    },
    "xss/be-tokyo/x/1": {
        "state": DeliveryState.NEEDS_REVIEW,
        "error_message": "reconciliation found no post and no proof of absence",
        "attempt_count": 1,
    },
}
DELIVERIES = 21  # three posts on the builders' seven accounts


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="campaign")


def _campaign(tmp_path: Path) -> Path:
    return write_campaign(
        tmp_path,
        posts=[
            # 08:00 in Tokyo is 23:00 UTC the day before: counts must use the local date.
            post("launch", time="08:00"),
            post("day2", day=2),
            post("xss", day=3, text=XSS_TEXT),
        ],
    )


def _apply_outcomes(database: Database) -> None:
    with database.transaction() as session:
        for key, values in OUTCOMES.items():
            values = {**values, "state": str(values["state"])}
            moved = session.execute(
                update(Delivery).where(Delivery.key == f"{CAMPAIGN}/{key}").values(**values)
            )
            assert moved.rowcount == 1, key  # type: ignore[attr-defined]


@pytest.fixture
def synced(tmp_path: Path, database: Database) -> Database:
    sync.sync_file(_campaign(tmp_path), database, actor="ines", now=NOW)
    _apply_outcomes(database)
    return database


def _add_brakes(database: Database) -> None:
    with database.transaction() as session:
        session.add_all(
            [
                Pause(
                    embassy_id="be-tokyo",
                    platform="x",
                    reason="ambassador's account compromised",
                    author="marc",
                    created_at=NOW,
                ),
                Pause(
                    campaign_id=CAMPAIGN,
                    reason="lifted already",
                    author="marc",
                    created_at=NOW,
                    lifted_at=LATER,
                    lifted_by="ines",
                ),
                Pause(
                    campaign_id="another-campaign", reason="not ours", author="x", created_at=NOW
                ),
            ]
        )
        accounts = {
            (a.embassy_id, a.platform): a
            for a in session.scalars(select(Account).where(Account.campaign_id == CAMPAIGN))
        }
        accounts["be-paris", "mastodon"].suspended_at = NOW
        accounts["be-paris", "mastodon"].suspended_reason = "instance moderators suspended it"
        accounts["be-tokyo", "bluesky"].rate_limited_until = LATER + dt.timedelta(hours=1)
        accounts["be-newyork", "x"].rate_limited_until = LATER - dt.timedelta(hours=1)  # over


# --- status: the data ---------------------------------------------------------------------------


def test_counts_are_per_local_day_embassy_and_platform(synced: Database) -> None:
    data = reports.status(synced, now=LATER)
    assert data.states.total == DELIVERIES
    # launch at 08:00 in Tokyo is due on 24 November in UTC, but it is counted on the 25th.
    tokyo_x = OUTCOMES["launch/be-tokyo/x/1"]["sent_at"]
    assert tokyo_x.date() == dt.date(2026, 11, 24)
    assert list(data.per_day) == [
        dt.date(2026, 11, 25),
        dt.date(2026, 11, 26),
        dt.date(2026, 11, 27),
    ]
    day1 = data.per_day[dt.date(2026, 11, 25)].counts
    assert {str(s): n for s, n in day1.items() if n} == {
        "sent": 1,
        "failed": 1,
        "missed": 1,
        "scheduled": 4,
    }
    assert {e: c.total for e, c in data.per_embassy.items()} == {
        "be-newyork": 6,
        "be-paris": 6,
        "be-tokyo": 9,
    }
    assert {p: c.total for p, c in data.per_platform.items()} == {
        "bluesky": 6,
        "mastodon": 9,
        "x": 6,
    }
    assert data.per_platform["x"].counts[DeliveryState.SENT] == 1
    assert data.per_platform["mastodon"].counts[DeliveryState.CANCELLED] == 1
    assert data.per_embassy["be-tokyo"].counts[DeliveryState.NEEDS_REVIEW] == 1


def test_attention_lists_the_most_urgent_first(synced: Database) -> None:
    data = reports.status(synced, now=LATER)
    assert [item.state for item in data.attention] == list(ATTENTION)
    assert [item.key.removeprefix(f"{CAMPAIGN}/") for item in data.attention] == [
        "launch/be-tokyo/mastodon/1",
        "day2/be-tokyo/bluesky/1",
        "xss/be-tokyo/x/1",
        "launch/be-newyork/x/1",
        "day2/be-paris/mastodon/1",
    ]
    failed = data.attention[0]
    assert (failed.local_time, failed.timezone) == ("2026-11-25T08:00", "Asia/Tokyo")
    assert (failed.error_class, failed.attempts) == ("ContentRejected", 2)
    assert data.attention_total == 5 and data.attention_more == 0


def test_attention_is_limited_and_counts_the_rest(synced: Database) -> None:
    data = reports.status(synced, attention_limit=2, now=LATER)
    assert [item.state for item in data.attention] == [DeliveryState.FAILED, DeliveryState.UNKNOWN]
    assert (data.attention_total, data.attention_more) == (5, 3)


def test_active_pauses_and_blocked_accounts(synced: Database) -> None:
    _add_brakes(synced)
    data = reports.status(synced, CAMPAIGN, now=LATER)
    assert [(p.reason, p.author, p.scope) for p in data.pauses] == [
        (
            "ambassador's account compromised",
            "marc",
            {"campaign": None, "embassy": "be-tokyo", "platform": "x", "post": None},
        )
    ]
    assert [(a.embassy_id, a.platform, a.handle) for a in data.accounts] == [
        ("be-paris", "mastodon", "@be_paris@mastodon.example"),
        ("be-tokyo", "bluesky", "be-tokyo.bsky.social"),
    ]
    suspended, limited = data.accounts
    assert suspended.suspended_reason == "instance moderators suspended it"
    assert suspended.rate_limited_until is None
    assert limited.rate_limited_until == LATER + dt.timedelta(hours=1)
    # Without --campaign, every campaign's pauses count.
    assert len(reports.status(synced, now=LATER).pauses) == 2


def test_campaign_option_selects_one_campaign(tmp_path: Path, synced: Database) -> None:
    other = campaign_data(posts=[post("launch")], id="other-2026", name="Other")
    sync.sync_file(write_yaml(tmp_path / "other.yaml", other), synced, actor="ines", now=NOW)
    assert reports.status(synced, now=LATER).states.total == DELIVERIES + 7
    only = reports.status(synced, CAMPAIGN, now=LATER)
    assert [c.id for c in only.campaigns] == [CAMPAIGN]
    assert only.states.total == DELIVERIES
    assert reports.report(synced, "other-2026", now=LATER).rows == []


def test_an_empty_database_has_nothing_to_show(database: Database) -> None:
    data = reports.status(database, now=LATER)
    assert data.campaigns == [] and data.states.total == 0 and data.attention == []
    assert "nothing synced yet" in render_status(data, "campaign.db", width=100, colour=False)


# --- status: the terminal and JSON -----------------------------------------------------------


def test_the_table_puts_attention_first_and_fits_100_columns(synced: Database) -> None:
    _add_brakes(synced)
    text = render_status(reports.status(synced, now=LATER), "db", width=100, colour=False)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert (
        "Needs attention: 1 failed, 1 unknown, 1 needs review, 1 missed, 1 awaiting approval"
        in text
    )
    order = [
        "Failed: 1",
        "Unknown: 1",
        "Needs review: 1",
        "Missed: 1",
        "Awaiting approval: 1",
        "Paused",
        "Accounts that cannot post",
        "Per local day",
        "Per embassy",
        "Per platform",
    ]
    positions = [text.index(title) for title in order]
    assert positions == sorted(positions)
    assert "launch/be-tokyo/mastodon/1" in text and f"{CAMPAIGN}/launch" not in text
    assert "ContentRejected: Validation" in text and "(2 attempts)" in text
    assert "│ 2026-11-25 08:00 │" in text and "│ Asia/Tokyo       │" in text  # zone below
    assert "ambassador's account compromised" in text and "embassy be-tokyo," in text
    assert "suspended since 2026-11-20 12:00 UTC: instance" in text
    header = next(line for line in text.splitlines() if line.lstrip().startswith("failed"))
    assert header.split() == [
        "failed", "unknown", "review", "missed", "approval", "scheduled", "sent", "cancelled",
        "total",
    ]  # fmt: skip
    day1 = next(line for line in text.splitlines() if line.startswith("Wed 25 Nov · day 1"))
    # failed, missed, scheduled, sent and the total: the only non-empty cells of day 1
    assert day1.removeprefix("Wed 25 Nov · day 1").split() == ["1", "1", "4", "1", "7"]
    assert day1.index("4") > header.index("scheduled") - 1


def test_every_state_at_once_still_fits_100_columns(synced: Database) -> None:
    in_progress = {
        "day2/be-tokyo/x/1": DeliveryState.CLAIMED,
        "day2/be-paris/bluesky/1": DeliveryState.SENDING,
    }
    in_progress["xss/be-newyork/x/1"] = DeliveryState.RETRY_WAITING
    in_progress["xss/be-newyork/mastodon/1"] = DeliveryState.RETRACTED
    with synced.transaction() as session:
        for key, state in in_progress.items():
            session.execute(
                update(Delivery)
                .where(Delivery.key == f"{CAMPAIGN}/{key}")
                .values(state=str(state), state_since=LATER)
            )
    data = reports.status(synced, now=LATER)
    assert all(data.states.counts[state] for state in STATE_ORDER)
    text = render_status(data, "db", width=100, colour=False)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "…" not in text  # nothing cut short
    header = next(line for line in text.splitlines() if line.lstrip().startswith("failed"))
    assert header.split()[-6:] == [
        "scheduled", "progress", "sent", "retracted", "cancelled", "total",
    ]  # fmt: skip
    platform_x = next(line for line in text.splitlines() if line.startswith("x "))
    # x: needs review, missed, scheduled, in progress 2 (claimed, retry waiting), sent, total
    assert platform_x.split() == ["x", "1", "1", "1", "2", "1", "6"]


def test_status_cli_limit_says_how_many_more(synced: Database, database_url: str) -> None:
    result = run("status", "--database", database_url, "--limit", "1")
    assert result.exit_code == 0, result.output
    assert "... and 4 more: --limit 0 lists them all" in result.output
    everything = run("status", "--database", database_url, "--limit", "0")
    assert "more:" not in everything.output and "Awaiting approval: 1" in everything.output


def test_status_json_has_the_documented_shape(synced: Database, database_url: str) -> None:
    _add_brakes(synced)
    result = run("status", "--json", "--database", database_url, "--campaign", CAMPAIGN)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert list(document) == [
        "format",
        "database",
        "generated_at",
        "campaigns",
        "total",
        "states",
        "attention",
        "per_day",
        "per_embassy",
        "per_platform",
        "pauses",
        "accounts",
        "retractions",
        "last_collection",
    ]
    assert document["last_collection"] is None  # the counts were never collected
    assert document["format"] == 1 and document["total"] == DELIVERIES
    assert list(document["states"]) == [str(state) for state in STATE_ORDER]
    assert document["states"]["sent"] == 2 and document["states"]["scheduled"] == 13
    assert [c["id"] for c in document["campaigns"]] == [CAMPAIGN]
    attention = document["attention"]
    assert (attention["total"], attention["listed"], attention["more"]) == (5, 5, 0)
    first = attention["deliveries"][0]
    assert first == {
        "delivery": f"{CAMPAIGN}/launch/be-tokyo/mastodon/1",
        "state": "failed",
        "campaign": CAMPAIGN,
        "post": "launch",
        "embassy": "be-tokyo",
        "platform": "mastodon",
        "part": 1,
        "parts": 1,
        "due_utc": "2026-11-24T23:00:00Z",
        "local_time": "2026-11-25T08:00",
        "timezone": "Asia/Tokyo",
        "since": "2026-11-20T12:00:00Z",
        "error_class": "ContentRejected",
        "error_message": "Validation failed: Text character limit of 500 exceeded",
        "attempts": 2,
    }
    assert [d["date"] for d in document["per_day"]] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert document["per_embassy"][0] == {
        "embassy": "be-newyork",
        "total": 6,
        "states": {
            **dict.fromkeys(document["states"], 0),
            "missed": 1,
            "cancelled": 1,
            "scheduled": 4,
        },
    }
    assert document["pauses"][0]["scope"]["embassy"] == "be-tokyo"
    assert document["pauses"][0]["since"] == "2026-11-20T12:00:00Z"
    assert document["accounts"][0]["handle"] == "@be_paris@mastodon.example"


def test_status_of_an_empty_database_exits_0(database_url: str) -> None:
    open_database(database_url).close()  # made (empty) by `db upgrade`; status makes nothing
    result = run("status", "--database", database_url)
    assert result.exit_code == 0, result.output
    assert "nothing synced yet" in result.output
    document = json.loads(run("status", "--json", "--database", database_url).output)
    assert (document["campaigns"], document["total"], document["per_day"]) == ([], 0, [])


def test_an_unknown_campaign_is_a_usage_error(synced: Database, database_url: str) -> None:
    result = run("status", "--database", database_url, "--campaign", "nope")
    assert result.exit_code == EXIT_USAGE
    assert f"--campaign nope: no such campaign; the database holds {CAMPAIGN}" in result.output
    assert "Traceback" not in result.output


# --- report -------------------------------------------------------------------------------------


def test_report_lists_outcomes_in_order(synced: Database) -> None:
    data = reports.report(synced, now=LATER)
    assert [row.state for row in data.rows] == [
        DeliveryState.SENT,
        DeliveryState.SENT,
        DeliveryState.FAILED,
        DeliveryState.UNKNOWN,
        DeliveryState.NEEDS_REVIEW,
        DeliveryState.MISSED,
        DeliveryState.CANCELLED,
    ]
    sent = data.rows[0]
    assert (sent.key, sent.account, sent.platform, sent.embassy_id) == (
        f"{CAMPAIGN}/launch/be-tokyo/x/1",
        "@be_tokyo",
        "x",
        "be-tokyo",
    )
    assert sent.remote_url == "https://x.com/be_tokyo/status/1861234567890"
    assert sent.sent_at == OUTCOMES["launch/be-tokyo/x/1"]["sent_at"]
    assert sent.local_time == "2026-11-25T08:00"
    assert data.section(DeliveryState.CANCELLED)[0].error_message == "cancelled by ines: wrong date"


def test_report_csv_has_the_documented_columns(synced: Database, database_url: str) -> None:
    result = run("report", "--format", "csv", "--database", database_url)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == 7
    by_key = {row["delivery"].removeprefix(f"{CAMPAIGN}/"): row for row in rows}
    sent = by_key["launch/be-tokyo/x/1"]
    assert sent["remote_url"] == "https://x.com/be_tokyo/status/1861234567890"
    assert (sent["sent_at"], sent["account"], sent["timezone"]) == (
        "2026-11-24T23:00:04Z",
        "@be_tokyo",
        "Asia/Tokyo",
    )
    failed = by_key["launch/be-tokyo/mastodon/1"]
    assert (failed["state"], failed["error_class"], failed["attempts"]) == (
        "failed",
        "ContentRejected",
        "2",
    )
    assert by_key["launch/be-newyork/x/1"]["error_message"].startswith("too late")
    assert by_key["day2/be-newyork/mastodon/1"]["state"] == "cancelled"
    assert by_key["xss/be-paris/bluesky/1"]["text"].startswith(SCRIPT)
    assert "day2/be-paris/mastodon/1" not in by_key  # awaiting approval: status shows it


def test_report_json(synced: Database, database_url: str) -> None:
    result = run("report", "-f", "json", "--database", database_url, "--campaign", CAMPAIGN)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert list(document) == [
        "format",
        "database",
        "generated_at",
        "campaigns",
        "states",
        "deliveries",
    ]
    assert document["states"]["failed"] == 1 and document["states"]["sent"] == 2
    assert [d["state"] for d in document["deliveries"]][:3] == ["sent", "sent", "failed"]
    assert list(document["deliveries"][0]) == CSV_COLUMNS
    assert document["deliveries"][2]["attempts"] == 2
    assert document["deliveries"][0]["changed_after_sent"] is False


def test_report_html_is_self_contained_and_escaped(synced: Database) -> None:
    page = report_html(reports.report(synced, now=LATER), "db")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; " in page
    assert re.search(r"\b(src|srcset)=|<link|@import|url\(", page) is None
    assert "default-src 'none'" in page
    assert 'href="https://x.com/be_tokyo/status/1861234567890"' in page
    assert 'href="javascript' not in page and "<code>javascript:alert(1)</code>" in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith(("#", "https://x.com/")) for h in hrefs), hrefs
    anchors = {h[1:] for h in hrefs if h.startswith("#")}
    assert anchors and all(f'id="{anchor}"' in page for anchor in anchors)
    for title in ("Sent", "Failed", "Outcome unknown", "Missed", "Cancelled"):
        assert f"<h2>{title} <small>" in page
    assert "ContentRejected" in page and "cancelled by ines: wrong date" in page


def test_report_writes_its_file_atomically(
    synced: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out" / "report.csv"
    target.parent.mkdir()
    result = run("report", "-f", "csv", "-o", str(target), "--database", database_url)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)
    assert list(target.parent.iterdir()) == [target]
    monkeypatch.chdir(tmp_path)
    assert run("report", "-f", "html", "--database", database_url).exit_code == 0
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_needs_a_format(database_url: str) -> None:
    result = run("report", "--database", database_url)
    assert result.exit_code == EXIT_USAGE
    assert "--format" in result.output


def test_a_report_of_an_empty_database_is_empty(database_url: str) -> None:
    open_database(database_url).close()  # made (empty) by `db upgrade`; report makes nothing
    result = run("report", "-f", "csv", "--database", database_url)
    assert result.exit_code == 0, result.output
    assert result.stdout == ",".join(CSV_COLUMNS) + "\n"
    document = json.loads(run("report", "-f", "json", "--database", database_url).stdout)
    assert (document["campaigns"], document["deliveries"]) == ([], [])


def test_no_output_names_credentials(synced: Database, database_url: str) -> None:
    _add_brakes(synced)
    outputs = [
        run("status", "--database", database_url).output,
        run("status", "--json", "--database", database_url).output,
        *(run("report", "-f", f, "--database", database_url).output for f in ("csv", "json")),
        report_html(reports.report(synced, now=LATER), "db"),
    ]
    credentials = ["be-tokyo-x", "be-paris-mastodon", "be-tokyo-bluesky", "be-newyork-x"]
    for output in outputs:
        assert output and not [name for name in credentials if name in output]


def test_the_report_csv_columns_are_documented() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = doc[doc.index("## `campaign report`") :]
    missing = [column for column in CSV_COLUMNS if f"| `{column}` |" not in section]
    assert not missing


def test_a_long_database_path_does_not_break_the_message(tmp_path: Path) -> None:
    """The message was hard-wrapped at the terminal width when output is not a terminal, so
    the test above failed whenever pytest's temporary folder had a long name."""
    deep = tmp_path / ("a-folder-with-a-long-name-" * 8) / "campaign.db"

    open_database(str(deep)).close()
    result = run("status", "--database", str(deep))
    assert result.exit_code == 0, result.output
    assert f"{deep}: nothing synced yet. Run `campaign sync FILE` first." in result.output


# --- whose clock "sent" is on; retracted copies -------------------------------------------------

TOKYO_X = f"{CAMPAIGN}/launch/be-tokyo/x/1"
RETRACTED_AT = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)


def _set(database: Database, key: str, **values: Any) -> None:
    with database.transaction() as session:
        session.execute(update(Delivery).where(Delivery.key == key).values(**values))


def test_sent_is_the_platform_time_with_ours_beside_it(synced: Database, database_url: str) -> None:
    """The platform accepted the Tokyo post at 23:00:01 by its clock; our daemon recorded it at
    23:00:04. The Bluesky one has no platform time (found again by reconciliation): ours, said."""
    _set(synced, TOKYO_X, platform_sent_at=dt.datetime(2026, 11, 24, 23, 0, 1, tzinfo=dt.UTC))
    result = run("report", "-f", "csv", "--database", database_url)
    assert result.exit_code == 0, result.output
    rows = {row["delivery"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    tokyo, paris = rows[TOKYO_X], rows[f"{CAMPAIGN}/xss/be-paris/bluesky/1"]
    assert (tokyo["sent_at"], tokyo["sent_clock"], tokyo["our_sent_at"]) == (
        "2026-11-24T23:00:01Z",
        "platform",
        "2026-11-24T23:00:04Z",
    )
    assert (paris["sent_at"], paris["sent_clock"], paris["our_sent_at"]) == (
        "2026-11-27T08:00:02Z",
        "ours",
        "2026-11-27T08:00:02Z",
    )
    failed = rows[f"{CAMPAIGN}/launch/be-tokyo/mastodon/1"]
    assert (failed["sent_at"], failed["sent_clock"], failed["our_sent_at"]) == ("", "", "")
    page = report_html(reports.report(synced, now=LATER), "db")
    assert (
        "sent 2026-11-24 23:00:01 UTC (the platform's clock; our clock 2026-11-24 23:00:04 UTC)"
        in page
    )
    assert "sent 2026-11-27 08:00:02 UTC (our clock: the platform gave no time)" in page


def _retract_tokyo_x(database: Database) -> None:
    _set(database, TOKYO_X, state=str(DeliveryState.RETRACTED), state_since=RETRACTED_AT,
         retracted_at=RETRACTED_AT, retracted_by="marc",
         retraction_reason="wrong helpline <number>")  # fmt: skip


def test_the_report_shows_a_retracted_copy_as_retracted_without_a_link(
    synced: Database, database_url: str
) -> None:
    _retract_tokyo_x(synced)
    data = reports.report(synced, now=LATER)
    assert [row.key for row in data.section(DeliveryState.RETRACTED)] == [TOKYO_X]
    assert TOKYO_X not in [row.key for row in data.section(DeliveryState.SENT)]
    assert [row.state for row in data.rows][:3] == [
        DeliveryState.SENT,
        DeliveryState.RETRACTED,
        DeliveryState.FAILED,
    ]
    result = run("report", "-f", "csv", "--database", database_url)
    row = next(r for r in csv.DictReader(io.StringIO(result.stdout)) if r["delivery"] == TOKYO_X)
    assert (row["state"], row["remote_url"]) == (
        "retracted",
        "https://x.com/be_tokyo/status/1861234567890",  # kept, for the record
    )
    assert (row["retracted_at"], row["retracted_by"], row["retraction_reason"]) == (
        "2026-11-25T09:30:00Z",
        "marc",
        "wrong helpline <number>",
    )
    document = json.loads(run("report", "-f", "json", "--database", database_url).stdout)
    assert document["states"]["retracted"] == 1 and document["states"]["sent"] == 1
    page = report_html(data, "db")
    assert 'href="https://x.com/be_tokyo' not in page  # a dead URL is never a link
    assert "<s><code>https://x.com/be_tokyo/status/1861234567890</code></s>" in page
    assert "retracted 2026-11-25 09:30 UTC by marc" in page
    assert "wrong helpline &lt;number&gt;" in page
    assert "<h2>Retracted <small>1</small></h2>" in page
    assert '<a class="tile retracted" href="#retracted">' in page


def test_status_counts_retracted_copies_and_says_who_and_why(
    synced: Database, database_url: str
) -> None:
    _retract_tokyo_x(synced)
    data = reports.status(synced, now=LATER)
    assert (
        data.states.counts[DeliveryState.RETRACTED],
        data.states.counts[DeliveryState.SENT],
    ) == (1, 1)
    assert data.per_day[dt.date(2026, 11, 25)].counts[DeliveryState.RETRACTED] == 1
    text = render_status(data, "db", width=100, colour=False)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "Retracted (deleted from the platforms)" in text
    line = next(line for line in text.splitlines() if line.startswith("│ launch"))
    assert [cell.strip() for cell in line.strip("│").split("│")] == [
        "launch", "1", "wrong helpline <number>", "marc", "2026-11-25 09:30 UTC",
    ]  # fmt: skip
    header = next(line for line in text.splitlines() if line.lstrip().startswith("failed"))
    day1 = next(line for line in text.splitlines() if line.startswith("Wed 25 Nov · day 1"))
    # failed, missed, scheduled, retracted (no longer sent) and the total
    assert day1.removeprefix("Wed 25 Nov · day 1").split() == ["1", "1", "4", "1", "7"]
    retracted_end = header.index("retracted") + len("retracted")  # right-aligned counts
    assert day1[retracted_end - 1] == "1" and day1[header.index("sent") + 3] == " "
    document = json.loads(run("status", "--json", "--database", database_url).stdout)
    assert document["states"]["retracted"] == 1
    assert document["retractions"] == [
        {
            "campaign": CAMPAIGN,
            "post": "launch",
            "copies": 1,
            "retracted_by": "marc",
            "reason": "wrong helpline <number>",
            "retracted_at": "2026-11-25T09:30:00Z",
        }
    ]
