"""Claims and leases, on SQLite and PostgreSQL: what may be claimed, and what a lost claim does."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import embassy, post, write_campaign
from sqlalchemy import select, update

from scheduler.service.sync import sync_file
from scheduler.store.claims import Claim, begin_attempt, claim_next, finish, reap, release
from scheduler.store.database import Database, open_database
from scheduler.store.schema import Account, Attempt, Delivery, Pause
from scheduler.store.states import DeliveryState

SYNCED = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris, day 1
LEASE = dt.timedelta(minutes=2)
SPACING = dt.timedelta(minutes=2)


def _paris_only(tmp_path: Path, database: Database, posts: list[Any] | None = None) -> None:
    embassies = [embassy("be-paris", "Europe/Paris", ["fr", "en"], platforms=("mastodon",))]
    path = write_campaign(tmp_path, embassies=embassies, posts=posts or [post("launch")])
    sync_file(path, database, actor="ines", now=SYNCED)


def _claim(database: Database, now: dt.datetime = DUE, worker: str = "w1") -> Claim | None:
    with database.transaction() as session:
        return claim_next(session, worker=worker, now=now, lease=LEASE, spacing=SPACING)


def _state(database: Database, key_end: str) -> str:
    with database.transaction() as session:
        return session.scalars(select(Delivery.state).where(Delivery.key.endswith(key_end))).one()


def _pause(database: Database, **scope: str) -> None:
    with database.transaction() as session:
        session.add(Pause(reason="test", author="ines", created_at=SYNCED, **scope))


def test_nothing_is_claimed_before_it_is_due(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    assert _claim(database, DUE - dt.timedelta(seconds=1)) is None
    claim = _claim(database)
    assert claim is not None and claim.key == "orange-2026/launch/be-paris/mastodon/1"
    assert claim.lease_expires_at == DUE + LEASE
    assert _state(database, "be-paris/mastodon/1") == "claimed"
    assert _claim(database, worker="w2") is None  # claimed once only


@pytest.mark.parametrize(
    "scope",
    [{}, {"embassy_id": "be-paris"}, {"platform": "mastodon"}, {"post_id": "launch"},
     {"campaign_id": "orange-2026"}],
    ids=["everything", "embassy", "platform", "post", "campaign"],
)  # fmt: skip
def test_a_pause_stops_claims(tmp_path: Path, database: Database, scope: dict[str, str]) -> None:
    _paris_only(tmp_path, database)
    _pause(database, **scope)
    assert _claim(database) is None


def test_a_pause_elsewhere_does_not(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    _pause(database, embassy_id="be-tokyo")
    _pause(database, platform="x")
    assert _claim(database) is not None


def test_a_lifted_pause_no_longer_holds(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    _pause(database)
    with database.transaction() as session:
        session.execute(update(Pause).values(lifted_at=DUE, lifted_by="ines"))
    assert _claim(database) is not None


def test_a_pause_after_the_claim_stops_the_call(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    claim = _claim(database)
    assert claim is not None
    _pause(database, platform="mastodon")
    with database.transaction() as session:
        assert begin_attempt(session, claim, idempotency_key="k", now=DUE) is None


def test_one_account_posts_one_at_a_time_and_spaced(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database, [post("a", time="09:00"), post("b", time="09:00")])
    first = _claim(database)
    assert first is not None
    assert _claim(database) is None  # same account: one call at a time, and spacing
    with database.transaction() as session:
        assert begin_attempt(session, first, idempotency_key="k", now=DUE) is not None
        assert finish(session, first, DeliveryState.SENT, DUE, remote_id="1")
    assert _claim(database, DUE + SPACING - dt.timedelta(seconds=1)) is None
    second = _claim(database, DUE + SPACING)
    assert second is not None and second.key != first.key


def test_a_thread_part_waits_for_the_previous_one(tmp_path: Path, database: Database) -> None:
    thread = [{"text": {"en": f"Part {n} from {{embassy}}"}} for n in (1, 2)]
    _paris_only(tmp_path, database, [{"id": "thread", "day": 1, "thread": thread}])
    first = _claim(database)
    assert first is not None and first.key.endswith("/1")
    with database.transaction() as session:
        begin_attempt(session, first, idempotency_key="k", now=DUE)
        finish(session, first, DeliveryState.RETRY_WAITING, DUE)
    later = DUE + dt.timedelta(minutes=5)
    again = _claim(database, later)
    assert again is not None and again.key.endswith("/1")  # part 2 never jumps ahead
    with database.transaction() as session:
        begin_attempt(session, again, idempotency_key="k", now=later)
        finish(session, again, DeliveryState.SENT, later, remote_id="1")
    second = _claim(database, later + SPACING)
    assert second is not None and second.key.endswith("/2")


@pytest.mark.parametrize(
    "account", [{"suspended_at": SYNCED, "suspended_reason": "401"},
                {"rate_limited_until": DUE + dt.timedelta(minutes=1)}],
    ids=["suspended", "rate-limited"],
)  # fmt: skip
def test_an_account_that_cannot_post_is_skipped(
    tmp_path: Path, database: Database, account: dict[str, Any]
) -> None:
    _paris_only(tmp_path, database)
    with database.transaction() as session:
        session.execute(update(Account).values(**account))
    assert _claim(database) is None


def test_an_edit_after_the_claim_stops_the_call(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    claim = _claim(database)
    assert claim is not None
    edited = post(text={"en": "New words from {embassy}.", "fr": "Nouveaux mots."})
    write_campaign(tmp_path, embassies=[embassy("be-paris", "Europe/Paris", ["fr", "en"],
                   platforms=("mastodon",))], posts=[edited])  # fmt: skip
    sync_file(tmp_path / "campaign.yaml", database, actor="ines", now=DUE)
    with database.transaction() as session:
        assert begin_attempt(session, claim, idempotency_key="k", now=DUE) is None
    assert _state(database, "be-paris/mastodon/1") == "scheduled"  # the new version waits


def test_an_expired_lease_cannot_start_a_call(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    claim = _claim(database)
    assert claim is not None
    with database.transaction() as session:
        assert begin_attempt(session, claim, idempotency_key="k", now=DUE + LEASE) is None


def test_the_attempt_is_recorded_before_the_call(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    claim = _claim(database)
    assert claim is not None
    with database.transaction() as session:
        attempt_id = begin_attempt(session, claim, idempotency_key="key-1", now=DUE)
    with database.transaction() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        assert (attempt.number, attempt.idempotency_key, attempt.ended_at) == (1, "key-1", None)
    assert _state(database, "be-paris/mastodon/1") == "sending"


def test_reaping_expired_leases(tmp_path: Path, database: Database) -> None:
    embassies = [embassy("be-paris", "Europe/Paris", ["en"], platforms=("mastodon", "bluesky"))]
    write_campaign(tmp_path, embassies=embassies, posts=[post("launch")])
    sync_file(tmp_path / "campaign.yaml", database, actor="ines", now=SYNCED)
    calling = _claim(database, worker="dead")
    assert calling is not None
    with database.transaction() as session:
        begin_attempt(session, calling, idempotency_key="k", now=DUE)  # then the process died
    waiting = _claim(database, worker="dead")
    assert waiting is not None and waiting.account_id != calling.account_id
    with database.transaction() as session:
        assert reap(session, DUE + LEASE - dt.timedelta(seconds=1)) == (0, 0)
        assert reap(session, DUE + LEASE + dt.timedelta(seconds=1)) == (1, 1)
    assert _state(database, calling.key.split("/", 1)[1]) == "unknown"  # it may have gone out
    assert _state(database, waiting.key.split("/", 1)[1]) == "scheduled"  # it never called


def test_release_hands_back_unstarted_claims(tmp_path: Path, database: Database) -> None:
    _paris_only(tmp_path, database)
    assert _claim(database) is not None
    with database.transaction() as session:
        assert release(session, "w1", DUE) == 1
    assert _state(database, "be-paris/mastodon/1") == "scheduled"


def test_concurrent_workers_never_claim_the_same_delivery(
    tmp_path: Path, database_url: str
) -> None:
    """Eight workers, each with its own connection pool, race for 60 deliveries."""
    embassies = [
        embassy(f"be-e{n:02}", "Europe/Paris", ["en"], platforms=("x", "mastodon", "bluesky"))
        for n in range(20)
    ]
    path = write_campaign(tmp_path, embassies=embassies, posts=[post("launch")])
    setup = open_database(database_url)
    sync_file(path, setup, actor="ines", now=SYNCED)
    setup.close()
    claimed: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work(name: str) -> None:
        database = open_database(database_url)
        start.wait()
        try:
            while (claim := _claim(database, worker=name)) is not None:
                with lock:
                    claimed.append(claim.key)
        finally:
            database.close()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 60
    assert len(set(claimed)) == 60
