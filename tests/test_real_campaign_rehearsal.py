"""Issue 5's finish line: `campaign run` sends the real campaign against the fakes, its 16 days
gone through on a stepped clock. Every delivery ends sent, or reported with why.

The clock jumps from one wakeup of the daemon to the next once it is idle, and the fakes share
its time, so every platform call takes no campaign time: the result is the same on a fast
machine and a loaded one, and it is exact. Every delivery goes out at its due instant, or, when
its account posted less than the campaign's spacing (2 minutes) before, when the spacing ends;
the parts of a thread go out together, back to back, and are not spaced. None is missed. The figures
(how many went out, how late) are printed for the closing notes.

Runs on the default store, a SQLite file; tests/test_daemon_e2e.py runs two daemons on
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from pathlib import Path

import pytest
from daemon_harness import DaemonProcess, Platforms, SteppedTime, all_in, write_config
from sqlalchemy import select

from scheduler.service.queue import approve_post, list_posts
from scheduler.service.sync import sync_file
from scheduler.store.database import open_database
from scheduler.store.schema import Delivery

pytestmark = pytest.mark.slow
REAL_CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns.yaml"
START = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
"""Before the first embassy's (Suva, UTC+13) first morning."""
SPACING = dt.timedelta(minutes=2)
"""campaigns.yaml: policies.late.spacing."""


def test_the_real_campaign_goes_out_in_a_rehearsal(tmp_path: Path) -> None:
    url = str(tmp_path / "campaign.db")
    database = open_database(url)
    time = SteppedTime(tmp_path / "clock", START)
    sync_file(REAL_CAMPAIGN, database, actor="ines", now=START)
    for row in list_posts(database, queued_only=False):
        approve_post(database, row["id"], approver="marc", now=START)  # not the author
    with Platforms() as platforms:
        platforms.follow(time.now)
        platforms.enrol(database)
        config = write_config(
            tmp_path / "campaign.toml",
            daemon={"poll": "1m", "lease": "30s", "max_in_flight": 8, "worker_name": "rehearsal"},
        )
        env = {**platforms.env, "CAMPAIGN_DATABASE": url,
               "CAMPAIGN_SECRETS_FILE": str(tmp_path / "secrets" / "secrets.toml")}  # fmt: skip
        args = ["--config", str(config), *time.args]
        with DaemonProcess(env, args, tmp_path / "daemon.log") as daemon:
            final = time.until(daemon, all_in(database, {"sent", "missed", "failed"}))
            assert daemon.stop() == 0, daemon.output()
        with database.snapshot() as session:
            rows = list(session.scalars(select(Delivery)))
        by_platform = platforms.posted_by_platform()
    database.close()

    counts = Counter(final.values())
    late = {row.key: row.sent_at - row.due_at for row in rows if row.sent_at}
    minutes = [span.total_seconds() / 60 for span in late.values()]
    print(
        f"\nreal campaign rehearsal on a stepped clock: {len(rows)} deliveries, {dict(counts)}; "
        f"minutes late (campaign time): median {statistics.median(minutes):.1f}, "
        f"max {max(minutes):.1f}, on the instant {sum(1 for m in minutes if m == 0)}"
    )
    assert len(rows) == 867
    assert counts == Counter({"sent": 867}), counts  # none missed, none failed
    assert sum(len(texts) for texts in by_platform.values()) == counts["sent"]
    for platform, texts in by_platform.items():
        assert [t for t, n in Counter(texts).items() if n > 1] == [], f"a duplicate on {platform}"
    assert all(dt.timedelta(0) <= span for span in late.values()), "a post went out early"
    assert {row.key: row.sent_at for row in rows} == _on_time(rows)


def _on_time(rows: list[Delivery]) -> dict[str, dt.datetime]:
    """When each delivery goes out if no call takes campaign time: a post, or a thread's first
    part, at its due instant or when its account's spacing after the previous post ends,
    whichever is later; a thread's later parts right after their parent (back to back, not
    spaced), the account's next post spaced from the thread's end."""
    sent_at: dict[str, dt.datetime] = {}
    turn: dict[int, dt.datetime] = {}
    posts: dict[tuple[int, str], list[Delivery]] = {}
    for row in rows:
        posts.setdefault((row.account_id, row.key.rsplit("/", 1)[0]), []).append(row)
    for (account, _), parts in sorted(
        posts.items(), key=lambda item: (min(row.due_at for row in item[1]), item[0][1])
    ):
        first = min(row.due_at for row in parts)
        at = max(first, turn.get(account, first))
        for row in parts:
            sent_at[row.key] = at
        turn[account] = at + SPACING
    return sent_at
