"""A campaign whose posts went out and whose counts were collected, for the report's results
(tests/test_report_results.py) and the browser (tests/e2e/test_report_charts.py).

Three posts on the builders' seven accounts are synced; every delivery is marked sent with
direct SQL (as tests/test_status_report.py does), then counts are written through the
engagement store as three collections would (1 hour, 1 day and 7 days after each post), and a
last collection is recorded whose notes say X refused (402, 429) and Bluesky refused (401).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from campaign_builders import post, write_campaign
from sqlalchemy import select, update

from scheduler.service import sync
from scheduler.store.database import Database
from scheduler.store.documents import AccountNote, CollectionError, RunNotes
from scheduler.store.engagement import DAEMON, record_batch, save_notes, start_run
from scheduler.store.schema import Delivery
from scheduler.store.states import DeliveryState

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
AGES = (1.0, 24.0, 168.0)  # hours after sending: the daemon's default schedule
BASE = {"be-tokyo": 10, "be-newyork": 20, "be-paris": 30}
POSTS = {"launch": 1, "day2": 2, "day3": 3}
GROWTH = (1, 5, 8)
LAGGARD = "orange-2026/day2/be-paris/mastodon/1"  # favourites stay at 1
RETRACTED = "orange-2026/launch/be-tokyo/bluesky/1"
HOSTILE = "<script>alert('x')</script> & \"q\""


def counts(key: str, platform: str, embassy: str, post_id: str, age: int) -> dict[str, int]:
    """A delivery's counts at the ``age``-th collection: each platform's own metrics."""
    n = BASE[embassy] * POSTS[post_id] * GROWTH[age]
    if platform == "mastodon":
        return {"favourites": 1 if key == LAGGARD else n, "reblogs": n // 5, "replies": age}
    if platform == "bluesky":
        return {"likes": n, "reposts": n // 4, "replies": age, "quotes": 0}
    # X: no bookmarks from the New York account (absent, never 0)
    found = {"likes": n, "retweets": n // 3, "replies": age, "impressions": n * 100}
    return found if embassy == "be-newyork" else {**found, "bookmarks": age}


def mark_sent(database: Database) -> list[Delivery]:
    with database.transaction() as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.key)))
        for row in rows:
            session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(
                    state=str(DeliveryState.SENT),
                    remote_id=f"r{row.id}",
                    remote_url=f"https://social.example/{row.platform}/{row.id}",
                    sent_at=row.due_at,
                )
            )
    return rows


def _collect(database: Database, rows: list[Delivery]) -> None:
    """Three collections' counts, then the last collection's notes."""
    with database.transaction() as session:
        for age, hours in enumerate(AGES):
            for row in rows:
                values = counts(row.key, row.platform, row.embassy_id, row.post_id, age)
                now = row.due_at + hours * HOUR + dt.timedelta(minutes=3 * age)
                record_batch(session, run_id=None, now=now, counts={row.id: values})
        started = max(row.due_at for row in rows) + 170 * HOUR
        run_id = start_run(session, started, trigger=DAEMON)
        save_notes(session, run_id, _notes(), finished_at=started + HOUR)


def _notes() -> RunNotes:
    reset = dt.datetime(2026, 12, 4, 9, 15, tzinfo=dt.UTC)
    return RunNotes(
        accounts=[
            AccountNote(account_id=1, platform="mastodon", embassy_id="be-tokyo",
                        handle="@be_tokyo@mastodon.example", asked=3, fetched=3),
            AccountNote(account_id=2, platform="x", embassy_id="be-newyork", handle="@be_newyork",
                        asked=3, error=CollectionError(kind="402", message="X: CreditsDepleted")),
            AccountNote(account_id=3, platform="x", embassy_id="be-tokyo", handle="@be_tokyo",
                        asked=3, error=CollectionError(kind="429", message="X: Too Many Requests",
                                                       reset_at=reset)),
            AccountNote(account_id=4, platform="bluesky", embassy_id="be-paris",
                        handle=HOSTILE, asked=3,
                        error=CollectionError(kind="401", message="Bluesky: ExpiredToken")),
        ],
        x_reads=6,
        x_cost_per_read=0.005,
        x_cost=0.03,
    )  # fmt: skip


def count_everything(database: Database) -> None:
    """Every delivery of ``database`` marked sent, its counts collected three times, and the
    last collection's notes recorded."""
    _collect(database, mark_sent(database))


def collected_campaign(tmp_path: Path, database: Database) -> Database:
    """``database`` with the campaign synced, sent, counted, and one copy retracted since."""
    campaign = write_campaign(
        tmp_path, posts=[post("launch"), post("day2", day=2), post("day3", day=3)]
    )
    sync.sync_file(campaign, database, actor="ines", now=NOW)
    count_everything(database)
    with database.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.key == RETRACTED)
            .values(state=str(DeliveryState.RETRACTED))
        )
    return database
