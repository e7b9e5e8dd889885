"""Collecting engagement (scheduler/service/engagement.py, `campaign engagement`): posts sent for
real through the dispatcher to the fakes, then their counts read back through the adapters the
daemon builds, counted from the fakes' side. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import post
from click.testing import CliRunner
from daemon_harness import wait_for
from dispatch_world import DUE, World, clock, fakes, world
from fakes.server import FakeServer
from store_dump import dump

from scheduler.cli import main
from scheduler.daemon.accounts import Accounts
from scheduler.daemon.clock import Clock
from scheduler.daemon.engagement import collect_scheduled
from scheduler.daemon.runner import Daemon
from scheduler.service.engagement import collect
from scheduler.settings import DaemonSettings, EngagementSettings, PlatformSettings, Settings
from scheduler.store.documents import AccountNote
from scheduler.store.engagement import (
    RunRecord,
    accounts_by_id,
    last_run,
    latest_counts,
    sent_deliveries,
    series,
)

__all__ = ["clock", "fakes", "world"]  # fixtures, used by name

CITIES = ("be-paris", "be-rome")
READS = {"x": ("GET", "^/2/tweets$"), "mastodon": ("GET", "^/api/v1/statuses"),
         "bluesky": ("GET", "getPosts$")}  # fmt: skip
ENGAGEMENT_TABLES = {"engagement_runs", "engagement_snapshots", "engagement_checks"}
LATER = DUE + dt.timedelta(hours=2)


def _settings(world: World, **engagement: Any) -> Settings:
    fast = PlatformSettings(timeout=2.0)
    appview = PlatformSettings(timeout=2.0, appview=world.platforms.bluesky.url)
    return Settings(
        platforms={"x": fast, "mastodon": fast, "bluesky": appview},  # type: ignore[dict-item]
        engagement=EngagementSettings(**engagement),
    )


def _send(world: World) -> None:
    """Two posts on each platform for each embassy: twelve sent deliveries, six accounts."""
    world.sync([post("d01-open", time="09:00"), post("d02-more", time="09:00")],
               platforms=("x", "mastodon", "bluesky"), cities=CITIES)  # fmt: skip
    world.clock.advance_to(DUE)
    world.send()
    world.later()
    assert world.states() == ["sent"] * 12


def _reads(fake: FakeServer, platform: str) -> int:
    method, path = READS[platform]
    return sum(1 for r in fake.requests if r.method == method and re.search(path, r.path))


def _all_reads(world: World) -> dict[str, int]:
    return {name: _reads(getattr(world.platforms, name), name) for name in READS}


def _ids(world: World, platform: str) -> list[str]:
    return [row.remote_id or "" for row in world.rows() if row.platform == platform]


def _dispatcher_tables(world: World) -> dict[str, Any]:
    return {k: v for k, v in dump(world.database).items() if k not in ENGAGEMENT_TABLES}


def test_every_sent_post_counts_are_kept_one_call_per_account(world: World) -> None:
    _send(world)
    x_id, m_id, b_uri = _ids(world, "x")[0], _ids(world, "mastodon")[0], _ids(world, "bluesky")[0]
    world.platforms.x.set_counts(x_id, like_count=7, retweet_count=2)
    world.platforms.mastodon.set_counts(m_id, favourites_count=4, reblogs_count=1)
    world.platforms.bluesky.set_counts(b_uri, likeCount=9, quoteCount=None)
    before = _dispatcher_tables(world)
    told: list[tuple[str, bool]] = []
    run = collect(world.database, _settings(world), now=LATER,
                  progress=lambda note, done: told.append((note.platform, done)))  # fmt: skip
    # One batch per account; on X twice: the token may not read non_public_metrics (X answers
    # 200 without the posts, billing none of them), so the batch is asked again without them.
    assert _all_reads(world) == {"x": 4, "mastodon": 2, "bluesky": 2}
    assert run.complete and run.fetched == 12 and run.run_id is not None
    assert [done for _, done in told] == [True] * 6
    assert _dispatcher_tables(world) == before  # only the engagement tables were written
    by_remote = {row.remote_id: row.id for row in world.rows()}
    with world.database.snapshot() as session:
        latest = latest_counts(session)
        stored = last_run(session)
    assert latest[by_remote[x_id]]["likes"] == 7 and latest[by_remote[x_id]]["retweets"] == 2
    assert latest[by_remote[m_id]] == {"favourites": 4, "reblogs": 1, "replies": 0}
    assert latest[by_remote[b_uri]]["likes"] == 9
    assert "quotes" not in latest[by_remote[b_uri]]  # not given: absent, never 0
    assert stored is not None and stored.finished_at == LATER and stored.trigger == "command"
    assert [note.fetched for note in stored.notes.accounts] == [2] * 6
    assert stored.notes.x_reads == 4 and stored.notes.x_cost == pytest.approx(0.02)


def test_a_run_again_within_fresh_asks_nothing_and_later_adds_a_snapshot(world: World) -> None:
    _send(world)
    settings = _settings(world, fresh="30m")
    collect(world.database, settings, now=LATER)
    first = _all_reads(world)
    again = collect(world.database, settings, now=LATER + dt.timedelta(minutes=29))
    assert _all_reads(world) == first and again.fetched == 0 and again.estimate.posts == {}
    x_id = _ids(world, "x")[0]
    world.platforms.x.set_counts(x_id, like_count=30)
    collect(world.database, settings, now=LATER + dt.timedelta(minutes=31), platforms={"x"})
    assert _all_reads(world) == {**first, "x": first["x"] + 4}
    delivery = next(row.id for row in world.rows() if row.remote_id == x_id)
    with world.database.snapshot() as session:
        likes = series(session, delivery)["likes"]
    assert [value for _, value in likes] == [0, 30]


def test_an_interrupted_run_keeps_what_it_fetched_and_the_next_run_resumes(world: World) -> None:
    _send(world)
    settings = _settings(world)

    def stop_after_first(note: AccountNote, done: bool) -> None:
        raise KeyboardInterrupt  # Ctrl-C once the first account's counts are written

    with pytest.raises(KeyboardInterrupt):
        collect(world.database, settings, now=LATER, progress=stop_after_first)
    with world.database.snapshot() as session:
        kept = latest_counts(session)
        stopped = last_run(session)
        left = sent_deliveries(session, not_checked_since=LATER)
    assert len(kept) == 2 and len(left) == 10
    assert stopped is not None and stopped.finished_at is None
    assert [note.fetched for note in stopped.notes.accounts] == [2]
    assert _all_reads(world) == {"x": 2, "mastodon": 0, "bluesky": 0}  # X's account came first
    rest = collect(world.database, settings, now=LATER + dt.timedelta(minutes=1))
    assert rest.fetched == 10
    assert _all_reads(world) == {"x": 4, "mastodon": 2, "bluesky": 2}  # the five left, once each


def test_a_platform_failing_mid_way_keeps_the_others_and_what_came_before(world: World) -> None:
    _send(world)
    world.platforms.mastodon.fail(503, method="GET", path=READS["mastodon"][1])  # first account
    run = collect(world.database, _settings(world), now=LATER)
    [failed] = run.refused
    assert failed.platform == "mastodon" and failed.error is not None
    assert failed.error.kind == "other" and failed.fetched == 0
    assert run.fetched == 10 and not run.complete


def test_refusals_are_noted_per_account_and_the_others_counts_kept(world: World) -> None:
    _send(world)
    reset = LATER + dt.timedelta(minutes=15)
    world.platforms.mastodon.fail(401, method="GET", path=READS["mastodon"][1])
    world.platforms.x.fail(402, method="GET", path=READS["x"][1])
    world.platforms.bluesky.rate_limit(reset, method="GET", path=READS["bluesky"][1])
    run = collect(world.database, _settings(world), now=LATER)
    notes = {(n.platform, n.embassy_id): n for n in run.notes.accounts}
    first = {platform: notes[(platform, "be-paris")] for platform in READS}
    assert first["mastodon"].error is not None and first["mastodon"].error.kind == "401"
    assert first["x"].error is not None and first["x"].error.kind == "402"
    assert first["bluesky"].error is not None and first["bluesky"].error.kind == "429"
    assert first["bluesky"].error.reset_at == reset
    # X's credits are the app's: the second X account is not asked (no second 402 to pay for)
    assert notes[("x", "be-rome")].skipped and "out of credits" in notes[("x", "be-rome")].skipped
    assert _reads(world.platforms.x, "x") == 1
    assert notes[("mastodon", "be-rome")].fetched == 2
    assert notes[("bluesky", "be-rome")].fetched == 2
    assert run.fetched == 4 and len(run.refused) == 4
    with world.database.snapshot() as session:
        stored = last_run(session)
    assert stored is not None and stored.notes == run.notes
    # Honoured by the next run: the rate-limited account is not asked before its reset
    paris = notes[("bluesky", "be-paris")].account_id
    asked = _reads(world.platforms.bluesky, "bluesky")
    soon = collect(world.database, _settings(world), now=LATER + dt.timedelta(minutes=5),
                   platforms={"bluesky"})  # fmt: skip
    [waiting] = soon.refused
    assert (
        waiting.account_id == paris and waiting.skipped and "rate-limited until" in waiting.skipped
    )
    assert _reads(world.platforms.bluesky, "bluesky") == asked
    after = collect(world.database, _settings(world), now=reset + dt.timedelta(seconds=1),
                    platforms={"bluesky"})  # fmt: skip
    assert after.complete and after.fetched == 2


def test_x_over_the_cap_is_skipped_with_a_note_and_the_others_fetched(world: World) -> None:
    _send(world)
    run = collect(world.database, _settings(world, x_cost_per_read=0.5, x_max_cost=1.0),
                  now=LATER)  # fmt: skip
    assert run.estimate.x_reads == 4 and run.estimate.x_cost == pytest.approx(2.0)
    assert run.estimate.x_over_cap
    assert _reads(world.platforms.x, "x") == 0
    skipped = [n for n in run.notes.accounts if n.platform == "x"]
    assert all(n.skipped and "over the cap" in n.skipped for n in skipped)
    assert run.fetched == 8
    raised = collect(world.database, _settings(world, x_cost_per_read=0.5), now=LATER,
                     max_cost=2.0)  # fmt: skip
    assert raised.fetched == 4 and raised.complete and _reads(world.platforms.x, "x") == 4


def test_an_estimate_reads_nothing_and_writes_nothing(world: World) -> None:
    _send(world)
    before = dump(world.database)
    run = collect(world.database, _settings(world), now=LATER, estimate_only=True)
    assert run.run_id is None
    assert run.estimate.posts == {"bluesky": 4, "mastodon": 4, "x": 4}
    assert run.estimate.accounts == 6
    assert _all_reads(world) == {"x": 0, "mastodon": 0, "bluesky": 0}
    assert dump(world.database) == before


def test_a_post_deleted_on_its_platform_is_counted_gone(world: World) -> None:
    _send(world)
    deleted = _ids(world, "mastodon")[0]
    with world.platforms.mastodon.lock:
        world.platforms.mastodon.statuses.pop(deleted)
    run = collect(world.database, _settings(world), now=LATER, platforms={"mastodon"})
    assert run.fetched == 3 and sum(n.gone for n in run.notes.accounts) == 1
    again = collect(world.database, _settings(world), now=LATER + dt.timedelta(minutes=5))
    assert "mastodon" not in again.estimate.posts  # a gone post is not asked for within fresh


# --- the command ------------------------------------------------------------------------------


def _config(world: World, tmp_path: Path, *, cap: float = 1.0) -> Path:
    path = tmp_path / "campaign.toml"
    path.write_text(
        f'[platforms.bluesky]\nappview = "{world.platforms.bluesky.url}"\ntimeout = 2.0\n'
        f"[engagement]\nx_max_cost = {cap}\n",
        encoding="utf-8",
    )
    return path


def _run(world: World, tmp_path: Path, *args: str, cap: float = 1.0) -> Any:
    url = world.database.engine.url.render_as_string(hide_password=False)
    config = _config(world, tmp_path, cap=cap)
    return CliRunner().invoke(
        main, ["engagement", "--database", url, "--config", str(config), *args]
    )


def test_the_command_prints_the_estimate_progress_and_a_summary(
    world: World, tmp_path: Path
) -> None:
    _send(world)
    estimated = _run(world, tmp_path, "--estimate")
    assert estimated.exit_code == 0, estimated.output
    assert "12 sent posts on 6 accounts (bluesky 4, mastodon 4, x 4)" in estimated.output
    assert "X: 4 posts to read at $0.005 each: $0.02 at most, cap $1.00" in estimated.output
    assert _all_reads(world) == {"x": 0, "mastodon": 0, "bluesky": 0}
    done = _run(world, tmp_path, "--platform", "mastodon", "--platform", "bluesky")
    assert done.exit_code == 0, done.output
    assert "be-paris mastodon" in done.output and ": 2 of 2 fetched" in done.output
    assert "Fetched the counts of 8 posts." in done.output
    assert _reads(world.platforms.x, "x") == 0
    fresh = _run(world, tmp_path)  # X is left
    assert fresh.exit_code == 0 and "4 sent posts on 2 accounts (x 4)" in fresh.output


def test_the_command_exits_1_naming_a_refused_account(world: World, tmp_path: Path) -> None:
    _send(world)
    world.platforms.mastodon.fail(401, method="GET", path=READS["mastodon"][1])
    result = _run(world, tmp_path, "--max-cost", "0")
    assert result.exit_code == 1, result.output
    assert "stopped (401)" in result.output
    assert "skipped: X skipped" in result.output and "over the cap of $0.00" in result.output
    assert "Fetched the counts of 6 posts; 3 accounts not collected (see above)." in result.output
    secrets = [
        value
        for name, value in world.platforms.env.items()
        if name.endswith(("ACCESS_TOKEN", "ACCESS_TOKEN_SECRET", "APP_PASSWORD", "CONSUMER_SECRET"))
    ]
    assert secrets and not [secret for secret in secrets if secret in result.output]


# --- the daemon's schedule --------------------------------------------------------------------


@pytest.fixture
def daemon_accounts(world: World) -> Iterator[Callable[[Settings], Accounts]]:
    """Makes the adapters as the daemon makes them (on the world's clock); closes them."""
    made: list[Accounts] = []

    def make(settings: Settings) -> Accounts:
        made.append(Accounts(settings, dry_run=False, clock=world.clock))
        return made[-1]

    yield make
    for accounts in made:
        accounts.close()


def test_the_daemon_collects_at_each_point_of_the_schedule(
    world: World, daemon_accounts: Callable[[Settings], Accounts]
) -> None:
    _send(world)
    settings = _settings(world, daemon=True, schedule=["1h", "1d"])
    accounts = daemon_accounts(settings)
    assert collect_scheduled(world.database, settings, accounts, world.clock) is None
    assert _all_reads(world) == {"x": 0, "mastodon": 0, "bluesky": 0}  # under an hour: none
    world.clock.advance(dt.timedelta(hours=1))
    run = collect_scheduled(world.database, settings, accounts, world.clock)
    assert run is not None and run.fetched == 12 and run.complete
    reads = _all_reads(world)
    world.clock.advance(dt.timedelta(hours=2))
    assert collect_scheduled(world.database, settings, accounts, world.clock) is None
    assert _all_reads(world) == reads  # the 1 h point is done; the 1 d one not reached
    world.clock.advance(dt.timedelta(days=1))
    again = collect_scheduled(world.database, settings, accounts, world.clock)
    assert again is not None and again.fetched == 12
    with world.database.snapshot() as session:
        stored = last_run(session)
    assert stored is not None and stored.trigger == "daemon"


def test_the_daemon_skips_an_account_in_use_and_never_waits_for_it(
    world: World, daemon_accounts: Callable[[Settings], Accounts]
) -> None:
    _send(world)
    settings = _settings(world, daemon=True, schedule=["1h"])
    accounts = daemon_accounts(settings)
    world.clock.advance(dt.timedelta(hours=1))
    with world.database.snapshot() as session:
        busy = accounts_by_id(
            session, [sent_deliveries(session, platforms={"mastodon"})[0].account_id]
        )
    [account] = busy.values()
    with accounts.using(account):  # a post of this account is under way
        run = collect_scheduled(world.database, settings, accounts, world.clock)
    assert run is not None and run.fetched == 10
    [skipped] = run.refused
    assert skipped.account_id == account.id and skipped.skipped
    assert "posting" in skipped.skipped
    world.clock.advance(dt.timedelta(minutes=5))
    rest = collect_scheduled(world.database, settings, accounts, world.clock)
    assert rest is not None and rest.fetched == 2  # the next round gets it


def test_no_schedule_no_collection(
    world: World, daemon_accounts: Callable[[Settings], Accounts]
) -> None:
    _send(world)
    world.clock.advance(dt.timedelta(days=2))
    settings = _settings(world, daemon=True, schedule=[])
    assert (
        collect_scheduled(world.database, settings, world.dispatcher.accounts, world.clock) is None
    )


def test_a_running_daemon_collects_on_its_schedule(world: World) -> None:
    _send(world)
    settings = _settings(world, daemon=True, schedule=["1h"])
    settings = settings.model_copy(
        update={"daemon": DaemonSettings(worker_name="engagement", poll="1s")}
    )
    # A rehearsal clock an hour after the posts, an hour a second: a round every 0.08 s
    daemon = Daemon(settings, world.database, clock=Clock(start=LATER, speed=3600))
    thread = threading.Thread(target=daemon.run, name="daemon")
    thread.start()
    try:
        stored = wait_for(lambda: _finished_daemon_run(world), what="a daemon collection")
    finally:
        daemon.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert [note.fetched for note in stored.notes.accounts] == [2] * 6
    with world.database.snapshot() as session:
        assert len(latest_counts(session)) == 12


def _finished_daemon_run(world: World) -> RunRecord | None:
    with world.database.snapshot() as session:
        found = last_run(session)
    return found if found is not None and found.finished_at is not None else None
