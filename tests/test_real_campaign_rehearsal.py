"""Issue 5's finish line: `campaign run` sends the real campaign against the fakes, its 16 days
compressed into minutes by the rehearsal clock. Every delivery ends sent, or reported with why.

Runs on the default store, a SQLite file; tests/test_daemon_e2e.py runs two daemons on
PostgreSQL. The figures (how many went out, how late) are printed for the closing notes.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from pathlib import Path

import pytest
from daemon_harness import DaemonProcess, Platforms, all_in, wait_for, write_config
from fakes import FakeMastodon
from sqlalchemy import select

from scheduler.service import approve_post, list_posts, sync_file
from scheduler.store.database import open_database
from scheduler.store.schema import Delivery

pytestmark = pytest.mark.slow
REAL_CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns.yaml"
SPEED = 7200  # two campaign hours a real second: the 16 days in about three minutes
START = "2026-11-24T10:00Z"  # before the first embassy's (Suva, UTC+13) first morning


def test_the_real_campaign_goes_out_in_a_rehearsal(tmp_path: Path) -> None:
    url = str(tmp_path / "campaign.db")
    database = open_database(url)
    sync_file(REAL_CAMPAIGN, database, actor="ines")
    for row in list_posts(database, queued_only=False):
        approve_post(database, row["id"], approver="marc")  # two-person rule: not the author
    # Media ready at once: the adapter's real-time polling for it would cost campaign hours at
    # this speed, which says nothing about the daemon (tests/test_adapters_mastodon.py covers it).
    with Platforms(mastodon=FakeMastodon(processing_polls=0)) as platforms:
        platforms.enrol(database)
        config = write_config(
            tmp_path / "campaign.toml",
            daemon={"poll": "1m", "lease": "30s", "max_in_flight": 8, "worker_name": "rehearsal"},
        )
        env = {**platforms.env, "CAMPAIGN_DATABASE": url,
               "CAMPAIGN_SECRETS_FILE": str(tmp_path / "secrets" / "secrets.toml")}  # fmt: skip
        args = ["--config", str(config), "--rehearse-from", START, "--speed", str(SPEED)]
        with DaemonProcess(env, args, tmp_path / "daemon.log") as daemon:
            final = wait_for(
                all_in(database, {"sent", "missed", "failed"}),
                timeout=420,
                what="the whole campaign",
                every=1.0,  # leave the CPU to the daemon and the fakes
            )
            assert daemon.stop() == 0, daemon.output()
        with database.snapshot() as session:
            rows = list(session.scalars(select(Delivery)))
        by_platform = platforms.posted_by_platform()
    database.close()

    counts = Counter(final.values())
    late = [(row.sent_at - row.due_at).total_seconds() / 60 for row in rows if row.sent_at]
    print(
        f"\nreal campaign rehearsal at {SPEED}x: {len(rows)} deliveries, {dict(counts)}; "
        f"minutes late (campaign time): median {statistics.median(late):.1f}, "
        f"max {max(late):.1f}"
    )
    assert len(rows) == 867
    for row in rows:
        assert row.state == "sent" or row.error_message, f"{row.key}: {row.state} with no reason"
        assert row.sent_at is None or row.sent_at >= row.due_at, f"{row.key} went out early"
    assert counts["sent"] >= 0.95 * len(rows), counts
    assert sum(len(texts) for texts in by_platform.values()) == counts["sent"]
    for platform, texts in by_platform.items():
        assert [t for t, n in Counter(texts).items() if n > 1] == [], f"a duplicate on {platform}"
    assert all(dt.timedelta(0) <= row.sent_at - row.due_at for row in rows if row.sent_at)
