"""The dispatcher in this process, against the fakes: token checks, reconciliation of unknown
outcomes, the late policy and the backlog after downtime. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import embassy, post, write_campaign
from daemon_harness import HANG, Platforms
from sqlalchemy import select, update

from scheduler.daemon.clock import Clock, SteppedClock
from scheduler.daemon.dispatcher import Dispatcher
from scheduler.service.sync import sync_file
from scheduler.settings import DaemonSettings, Settings
from scheduler.store.database import Database
from scheduler.store.schema import Account, Alert, Delivery
from scheduler.store.states import DeliveryState

DUE = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris on day 1


@pytest.fixture
def platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Platforms]:
    with Platforms() as started:
        monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(tmp_path / "secrets" / "secrets.toml"))
        yield started
        for name, value in started.env.items():
            monkeypatch.setenv(name, value)


def _paris(tmp_path: Path, database: Database, platforms: Platforms, posts: list[Any],
           monkeypatch: pytest.MonkeyPatch, on: tuple[str, ...] = ("mastodon",),
           cities: tuple[str, ...] = ("be-paris",), **campaign: Any) -> None:  # fmt: skip
    embassies = [embassy(city, "Europe/Paris", ["en"], platforms=on) for city in cities]
    path = write_campaign(tmp_path, embassies=embassies, posts=posts, **campaign)
    sync_file(path, database, actor="ines", now=DUE - dt.timedelta(days=5))
    platforms.enrol(database)
    for name, value in platforms.env.items():
        monkeypatch.setenv(name, value)


def _dispatcher(database: Database, at: dt.datetime | SteppedClock, **daemon: Any) -> Dispatcher:
    """A dispatcher on a rehearsal clock from ``at``, or on a stepped clock the test moves."""
    settings = Settings(daemon=DaemonSettings(**{"backoff": "1s", **daemon}))
    clock = at if isinstance(at, SteppedClock) else Clock(start=at)
    return Dispatcher(database, settings, worker="w1", clock=clock)


SETTLED = dt.timedelta(minutes=2)
"""Long enough after a call for reconciliation to look for its post (twice the timeout)."""


def _rows(database: Database) -> list[Delivery]:
    with database.snapshot() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.key)))


def _run_until_idle(dispatcher: Dispatcher) -> None:
    while dispatcher.dispatch():
        assert dispatcher.drain(10)
    assert dispatcher.drain(10)


def test_a_revoked_token_suspends_its_account_before_its_post(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    platforms.mastodon.revoke(platforms.mastodon.token_of("be_paris"))
    dispatcher = _dispatcher(database, DUE - dt.timedelta(hours=3))
    try:
        assert dispatcher.housekeeping.check_tokens() == 1
    finally:
        dispatcher.close()
    with database.snapshot() as session:
        account = session.scalars(select(Account)).one()
        alerts = list(session.scalars(select(Alert.kind)))
    assert account.suspended_at is not None and "CredentialsInvalid" in (
        account.suspended_reason or ""
    )
    assert alerts == ["suspended"]


def _accounts(database: Database) -> list[Account]:
    with database.snapshot() as session:
        found = list(session.scalars(select(Account).order_by(Account.id)))
        session.expunge_all()
    return found


def test_token_checks_go_a_batch_a_round_and_skip_the_recently_checked(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch, on=("mastodon", "bluesky"))
    dispatcher = _dispatcher(database, DUE - dt.timedelta(hours=3), token_check_batch=1)
    try:
        rounds = [dispatcher.housekeeping.check_tokens() for _ in range(3)]
    finally:
        dispatcher.close()
    assert rounds == [1, 1, 0]


def test_a_sent_post_proves_the_token_and_a_near_post_is_not_delayed_by_a_check(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A success within daemon.token_check proves the token; an account whose post is due
    within three platform timeouts is left to its post. Neither is checked: the token revoked
    here suspends nothing."""
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    platforms.mastodon.revoke(platforms.mastodon.token_of("be_paris"))
    with database.transaction() as session:
        session.execute(update(Account).values(last_sent_at=DUE - dt.timedelta(hours=4)))
    proven = _dispatcher(database, DUE - dt.timedelta(hours=3))
    near = _dispatcher(database, DUE - dt.timedelta(seconds=30))
    try:
        with database.transaction() as session:
            session.execute(update(Account).values(last_sent_at=None))
        assert near.housekeeping.check_tokens() == 0
        with database.transaction() as session:
            session.execute(update(Account).values(last_sent_at=DUE - dt.timedelta(hours=4)))
        assert proven.housekeeping.check_tokens() == 0
    finally:
        proven.close()
        near.close()
    assert all(account.suspended_at is None for account in _accounts(database))


def test_a_token_check_skips_an_account_in_use_rather_than_wait_for_it(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    dispatcher = _dispatcher(database, DUE - dt.timedelta(hours=3))
    [account] = _accounts(database)
    holding, done = threading.Event(), threading.Event()

    def post_in_flight() -> None:
        with dispatcher.accounts.using(account):
            holding.set()
            done.wait(HANG)

    holder = threading.Thread(target=post_in_flight)
    holder.start()
    try:
        assert holding.wait(HANG)
        skipped = dispatcher.housekeeping.check_tokens()
        done.set()
        holder.join()
        checked = dispatcher.housekeeping.check_tokens()
    finally:
        done.set()
        dispatcher.close()
    assert (skipped, checked) == (0, 1)


def test_adapters_beyond_the_kept_number_are_dropped_and_made_again_without_a_login(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    cities = ("be-paris", "be-rome", "be-oslo")
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch, on=("bluesky",),
           cities=cities)  # fmt: skip
    dispatcher = _dispatcher(database, DUE - dt.timedelta(hours=3), adapters_kept=2)
    paris, rome, oslo = _accounts(database)
    try:
        for account in (paris, rome, oslo, paris):
            with dispatcher.accounts.using(account) as adapter:
                adapter.verify()
        kept = len(dispatcher.accounts)
    finally:
        dispatcher.close()
    assert kept == 2
    assert len(platforms.bluesky.logins) == 3, "Paris's session was kept on disk"


def test_an_unknown_outcome_found_on_the_account_becomes_sent(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    platforms.mastodon.commit_then_drop(path="/api/v1/statuses")
    clock = SteppedClock(DUE)
    dispatcher = _dispatcher(database, clock)
    try:
        _run_until_idle(dispatcher)
        assert [row.state for row in _rows(database)] == ["unknown"]
        assert dispatcher.housekeeping.reconcile() == 0  # too soon: it may still commit
        clock.advance(SETTLED)
        assert dispatcher.housekeeping.reconcile() == 1
    finally:
        dispatcher.close()
    row = _rows(database)[0]
    assert row.state == "sent" and row.remote_id == platforms.mastodon.posted[0].id
    assert len(platforms.mastodon.posted) == 1


def test_an_unknown_outcome_not_on_the_account_goes_out_again(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    platforms.mastodon.drop(path="/api/v1/statuses")  # closed before the server acted
    clock = SteppedClock(DUE)
    dispatcher = _dispatcher(database, clock)
    try:
        _run_until_idle(dispatcher)
        assert [row.state for row in _rows(database)] == ["unknown"]
        clock.advance(SETTLED)
        dispatcher.housekeeping.reconcile()
        assert [row.state for row in _rows(database)] == ["scheduled"]
        clock.advance(dt.timedelta(minutes=3))  # after the account's spacing
        _run_until_idle(dispatcher)
    finally:
        dispatcher.close()
    assert [row.state for row in _rows(database)] == ["sent"]
    assert len(platforms.mastodon.posted) == 1


def test_a_post_too_late_for_its_grace_is_missed_with_the_reason(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paris(tmp_path, database, platforms, [post("launch", late_grace="15m")], monkeypatch)
    dispatcher = _dispatcher(database, DUE + dt.timedelta(minutes=20))
    try:
        assert dispatcher.housekeeping.sweep_missed() == 1
    finally:
        dispatcher.close()
    row = _rows(database)[0]
    assert row.state == "missed"
    assert row.error_message == "not sent in time: 20 min late, beyond the grace of 15 min"
    assert platforms.mastodon.posted == []


def test_after_downtime_a_backlog_goes_out_spaced_not_as_a_burst(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = [
        post(f"p{n}", time="09:00", text={"en": f"Post {n} of {{embassy}}."}) for n in range(3)
    ]
    _paris(tmp_path, database, platforms, posts, monkeypatch,
           policies={"late": {"grace": "1h", "spacing": "10m"}})  # fmt: skip
    back = DUE + dt.timedelta(minutes=5)  # the daemon was down at 09:00
    for minutes in (0, 9, 11, 19, 22):  # clear of the 10-minute boundaries
        dispatcher = _dispatcher(database, back + dt.timedelta(minutes=minutes))
        try:
            _run_until_idle(dispatcher)
        finally:
            dispatcher.close()
        sent = sum(row.state == "sent" for row in _rows(database))
        assert sent == {0: 1, 9: 1, 11: 2, 19: 2, 22: 3}[minutes]


def test_media_bytes_come_from_the_store_not_the_folder(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaign_builders import image

    _paris(tmp_path, database, platforms, [post("launch", images=[image()])], monkeypatch)
    (tmp_path / "media" / "card.png").unlink()  # a daemon on another server has no copy
    dispatcher = _dispatcher(database, DUE)
    try:
        _run_until_idle(dispatcher)
    finally:
        dispatcher.close()
    assert [row.state for row in _rows(database)] == ["sent"]
    assert platforms.mastodon.posted[0].media[0].description == "An orange banner."


def test_an_account_rate_limited_for_all_daemons(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    reset = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15)
    platforms.mastodon.rate_limit(reset, path="/api/v1/statuses")
    dispatcher = _dispatcher(database, DUE)
    try:
        _run_until_idle(dispatcher)
    finally:
        dispatcher.close()
    with database.snapshot() as session:
        account = session.scalars(select(Account)).one()
        row = session.scalars(select(Delivery)).one()
    assert row.state == "retry_waiting" and row.not_before is not None
    assert account.rate_limited_until == row.not_before
    with database.transaction() as session:  # another daemon would find nothing to claim
        session.execute(update(Delivery).values(not_before=None))
    other = _dispatcher(database, DUE + dt.timedelta(minutes=1))
    try:
        assert other.dispatch() == 0
    finally:
        other.close()
    assert _rows(database)[0].state == DeliveryState.RETRY_WAITING


def test_a_person_settles_what_the_daemon_could_not(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from scheduler.cli import main

    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    key = "orange-2026/launch/be-paris/mastodon/1"
    with database.transaction() as session:
        session.execute(update(Delivery).values(state="needs_review"))
    env = {
        "CAMPAIGN_DATABASE": database.engine.url.render_as_string(False),
        "CAMPAIGN_USER": "ines",
    }
    runner = CliRunner()
    refused = runner.invoke(main, ["settle", key, "--retry"], env=env)
    assert refused.exit_code == 2 and "--retry applies to: failed, missed" in refused.output
    posted = runner.invoke(main, ["settle", key, "--posted", "https://m.example/@x/1"], env=env)
    assert posted.exit_code == 0, posted.output
    row = _rows(database)[0]
    assert (row.state, row.remote_url) == ("sent", "https://m.example/@x/1")
    again = runner.invoke(main, ["settle", key, "--give-up"], env=env)
    assert again.exit_code == 2 and "is sent" in again.output


def test_the_same_idempotency_key_is_sent_again_after_an_unknown_outcome(
    tmp_path: Path, database: Database, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.store.schema import Attempt

    _paris(tmp_path, database, platforms, [post("launch")], monkeypatch)
    platforms.mastodon.drop(path="/api/v1/statuses")
    clock = SteppedClock(DUE)
    dispatcher = _dispatcher(database, clock)
    try:
        _run_until_idle(dispatcher)
        clock.advance(SETTLED)
        dispatcher.housekeeping.reconcile()
        clock.advance(dt.timedelta(minutes=3))
        _run_until_idle(dispatcher)
    finally:
        dispatcher.close()
    with database.snapshot() as session:
        keys = list(session.scalars(select(Attempt.idempotency_key)))
    assert len(keys) == 2 and keys[0] == keys[1]
    assert platforms.mastodon.posted[0].idempotency_key == keys[0]
