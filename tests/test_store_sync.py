"""`campaign sync` semantics, on SQLite and PostgreSQL: add, change, remove, change after sent,
queued posts left alone, and a failed sync that leaves the database exactly as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import campaign_data, image, post, write_campaign, write_yaml
from sqlalchemy import select, update

from scheduler.errors import CampaignFileError, StoreError
from scheduler.service.sync import sync_file
from scheduler.store.database import Database
from scheduler.store.deliveries import move, move_each, move_returning
from scheduler.store.schema import Delivery, Media, Post
from scheduler.store.states import PENDING, DeliveryState
from scheduler.store.sync import ChangeKind

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
ACCOUNTS = 7  # the builders' three embassies have seven accounts between them


def _sync(path: Path, database: Database, **options: Any) -> Any:
    report, _ = sync_file(path, database, actor="ines", now=NOW, **options)
    return report


def _states(database: Database) -> dict[str, str]:
    with database.transaction() as session:
        return {row.key: row.state for row in session.scalars(select(Delivery))}


def _snapshot(database: Database) -> list[tuple[Any, ...]]:
    with database.transaction() as session:
        rows = session.scalars(select(Delivery).order_by(Delivery.key))
        deliveries = [(r.key, r.state, r.content_hash, r.revision, r.payload) for r in rows]
        posts = [(p.id, p.version, p.cancelled_at) for p in session.scalars(select(Post))]
    return [*deliveries, *posts]


def _set_state(database: Database, key_part: str, state: DeliveryState) -> None:
    with database.transaction() as session:
        session.execute(
            update(Delivery).where(Delivery.key.contains(key_part)).values(state=str(state))
        )


def test_new_posts_become_scheduled_deliveries(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    report = _sync(path, database)
    assert report.counts() == {ChangeKind.ADDED: 2 * ACCOUNTS}
    assert report.posts_added == ["launch", "day2"]
    states = _states(database)
    assert len(states) == 2 * ACCOUNTS
    assert set(states.values()) == {"scheduled"}
    assert "orange-2026/launch/be-tokyo/x/1" in states


def test_a_second_sync_of_the_same_file_changes_nothing(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path)
    _sync(path, database)
    before = _snapshot(database)
    report = _sync(path, database)
    assert report.changes == [] and report.unchanged == ACCOUNTS
    assert _snapshot(database) == before


def test_a_changed_post_updates_its_unsent_deliveries(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path)
    _sync(path, database)
    edited = post(text={"en": "{embassy} stands with survivors.", "fr": "{embassy} soutient."})
    write_campaign(tmp_path, posts=[edited])
    report = _sync(path, database)
    assert report.counts() == {ChangeKind.UPDATED: ACCOUNTS}
    assert report.posts_edited == ["launch"]
    with database.transaction() as session:
        row = session.scalars(select(Delivery).where(Delivery.key.endswith("be-newyork/x/1"))).one()
        stored_post = session.get(Post, ("orange-2026", "launch"))
        assert stored_post is not None
        assert stored_post.version == 2
    assert row.payload["text"].startswith("Consulate General of Belgium in New York stands with")
    assert (row.revision, row.post_version, row.state) == (2, 2, "scheduled")


def test_a_removed_post_is_cancelled(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    _sync(path, database)
    write_campaign(tmp_path, posts=[post("launch")])
    report = _sync(path, database)
    assert report.counts() == {ChangeKind.CANCELLED: ACCOUNTS}
    assert report.posts_removed == ["day2"]
    states = _states(database)
    assert {s for k, s in states.items() if "/day2/" in k} == {"cancelled"}
    assert {s for k, s in states.items() if "/launch/" in k} == {"scheduled"}


def test_a_cancelled_delivery_loses_a_daemons_earlier_claim(
    tmp_path: Path, database: Database
) -> None:
    path = write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    _sync(path, database)
    key = Delivery.key == "orange-2026/day2/be-tokyo/x/1"
    with database.transaction() as session:
        claimed = move(
            session,
            key,
            DeliveryState.CLAIMED,
            frozenset({"scheduled"}),
            NOW,  # type: ignore[arg-type]
            lease_owner="daemon-1",
        )
        revision = session.scalars(select(Delivery.revision).where(key)).one()
    assert claimed == 1
    write_campaign(tmp_path, posts=[post("launch")])
    _sync(path, database)
    # The daemon loaded day2 before the sync; its next guarded write must find nothing to move.
    with database.transaction() as session:
        started = move(
            session,
            key & (Delivery.lease_owner == "daemon-1") & (Delivery.revision == revision),
            DeliveryState.SENDING,
            frozenset({DeliveryState.CLAIMED}),
            NOW,
        )
    assert started == 0
    assert _states(database)["orange-2026/day2/be-tokyo/x/1"] == "cancelled"


def test_a_change_after_sending_is_reported_and_not_applied(
    tmp_path: Path, database: Database
) -> None:
    path = write_campaign(tmp_path)
    _sync(path, database)
    _set_state(database, "be-tokyo/x/1", DeliveryState.SENT)
    _set_state(database, "be-paris/bluesky/1", DeliveryState.SENDING)
    write_campaign(tmp_path, posts=[post(text={"en": "{embassy}: new words.", "fr": "Nouveau."})])
    report = _sync(path, database)
    assert report.counts() == {
        ChangeKind.CHANGED_AFTER_SENT: 1,
        ChangeKind.CHANGED_IN_FLIGHT: 1,
        ChangeKind.UPDATED: ACCOUNTS - 2,
    }
    with database.transaction() as session:
        sent = session.scalars(select(Delivery).where(Delivery.key.endswith("be-tokyo/x/1"))).one()
    assert sent.changed_after_sent and sent.state == "sent"
    assert "new words" not in sent.payload["text"] and sent.revision == 1


def test_removing_a_sent_post_reports_it_and_keeps_it_sent(
    tmp_path: Path, database: Database
) -> None:
    path = write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    _sync(path, database)
    _set_state(database, "day2/be-tokyo/x/1", DeliveryState.SENT)
    write_campaign(tmp_path, posts=[post("launch")])
    report = _sync(path, database)
    assert report.counts() == {ChangeKind.CANCELLED: ACCOUNTS - 1, ChangeKind.REMOVED_AFTER_SENT: 1}
    assert _states(database)["orange-2026/day2/be-tokyo/x/1"] == "sent"


def test_a_post_back_in_the_file_stays_cancelled(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    _sync(path, database)
    write_campaign(tmp_path, posts=[post("launch")])
    _sync(path, database)
    write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    report = _sync(path, database)
    assert report.counts() == {ChangeKind.STAYS_CANCELLED: ACCOUNTS}
    assert {s for k, s in _states(database).items() if "/day2/" in k} == {"cancelled"}


def test_dry_run_reports_the_diff_and_writes_nothing(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path)
    _sync(path, database)
    before = _snapshot(database)
    write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    report = _sync(path, database, dry_run=True)
    assert report.counts() == {ChangeKind.ADDED: ACCOUNTS}
    assert _snapshot(database) == before


def test_an_invalid_file_changes_nothing(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path)
    _sync(path, database)
    before = _snapshot(database)
    data = campaign_data(posts=[post("launch", day=99)])
    write_yaml(path, data)
    with pytest.raises(CampaignFileError):
        _sync(path, database)
    assert _snapshot(database) == before


def test_a_sync_that_fails_half_way_leaves_the_database_as_it_was(
    tmp_path: Path, database: Database
) -> None:
    path = write_campaign(tmp_path)
    _sync(path, database)
    before = _snapshot(database)
    # A post id taken by a queued post is found only after the campaign, embassies and accounts
    # were written in the transaction: all of that must roll back.
    with database.transaction() as session:
        session.add(
            Post(
                campaign_id="orange-2026",
                id="day2",
                origin="queue",
                version=1,
                definition={},
                definition_hash="x",
                author="marc",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    before = _snapshot(database)
    write_campaign(tmp_path, posts=[post("launch", day=3), post("day2", day=2)], name="Renamed")
    with pytest.raises(StoreError, match="already used by a post queued by marc"):
        _sync(path, database)
    assert _snapshot(database) == before


def test_queued_posts_are_left_alone(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path)
    _sync(path, database)
    with database.transaction() as session:
        session.add(
            Post(
                campaign_id="orange-2026",
                id="extra",
                origin="queue",
                version=1,
                definition={},
                definition_hash="x",
                author="marc",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    report = _sync(path, database)
    assert report.posts_removed == []
    with database.transaction() as session:
        extra = session.get(Post, ("orange-2026", "extra"))
        assert extra is not None and extra.cancelled_at is None


def test_images_are_stored_once_in_the_database(tmp_path: Path, database: Database) -> None:
    path = write_campaign(tmp_path, posts=[post(images=[image()]), post("b", images=[image()])])
    _sync(path, database)
    with database.transaction() as session:
        media = session.scalars(select(Media)).all()
        payload = session.scalars(select(Delivery.payload)).first()
    assert len(media) == 1
    assert media[0].data == (tmp_path / "media" / "card.png").read_bytes()
    assert payload is not None and payload["media"][0]["sha256"] == media[0].sha256


def test_times_are_stored_in_utc_with_the_local_wall_time(
    tmp_path: Path, database: Database
) -> None:
    path = write_campaign(tmp_path)  # day 1 at the first posting time, 09:00 local
    _sync(path, database)
    with database.transaction() as session:
        tokyo = session.scalars(select(Delivery).where(Delivery.key.endswith("be-tokyo/x/1"))).one()
    assert tokyo.due_at == dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC)
    assert (tokyo.local_time, tokyo.timezone) == ("2026-11-25T09:00", "Asia/Tokyo")


def test_a_batch_edit_moves_only_the_rows_still_pending(tmp_path: Path, database: Database) -> None:
    # A sync writes its edits as one batch; a row a daemon began sending after the sync read it
    # must be left exactly as the daemon left it, and the others must all take the edit.
    path = write_campaign(tmp_path, posts=[post("launch")])
    _sync(path, database)
    _set_state(database, "be-tokyo/x", DeliveryState.SENDING)
    with database.transaction() as session:
        rows = session.execute(select(Delivery.id, Delivery.key).order_by(Delivery.key)).all()
        sending = next(row.id for row in rows if "be-tokyo/x" in row.key)
        edits = [{"id": row.id, "error_message": "edited"} for row in rows]
        moved = move_each(session, edits, DeliveryState.SCHEDULED, PENDING, NOW)
        cancelled = move_returning(
            session, [row.id for row in rows], DeliveryState.CANCELLED, PENDING, NOW
        )
        after = {row.id: row for row in session.scalars(select(Delivery))}
    assert moved == cancelled == {row.id for row in rows} - {sending}
    assert after[sending].state == "sending" and after[sending].error_message is None
    assert all(after[i].error_message == "edited" for i in moved)
    assert all(after[i].state == "cancelled" for i in cancelled)
