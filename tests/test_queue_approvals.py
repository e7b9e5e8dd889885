"""Queueing posts from the CLI, placing them in free slots across time zones, and approvals.

Every test runs on SQLite and on PostgreSQL (the ``database`` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import post, write_campaign
from click.testing import CliRunner
from sqlalchemy import select, update

from scheduler.cli import main
from scheduler.errors import CampaignFileError, StoreError, UsageError
from scheduler.service.queue import approve_post, cancel_post, queue_add, queue_edit
from scheduler.service.sync import sync_file
from scheduler.store.database import Database
from scheduler.store.schema import AuditEntry, Delivery
from scheduler.store.states import DeliveryState
from scheduler.store.sync import ChangeKind

SYNCED = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
# 10:00 UTC on day 1: 19:00 in Tokyo, 05:00 in New York, 11:00 in Paris.
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
TWO_PERSON = {"approval": {"required": True, "two_person_rule": True}}


def _campaign(tmp_path: Path, database: Database, **fields: Any) -> Path:
    path = write_campaign(tmp_path, **fields)
    sync_file(path, database, actor="ines", now=SYNCED)
    return path


def _queue(database: Database, folder: Path, post_id: str = "extra", **fields: Any) -> Any:
    definition = {"id": post_id, "text": {"en": "{embassy} says no to online abuse."}, **fields}
    return queue_add(database, definition, actor="marc", folder=folder, now=NOW)


def _deliveries(database: Database, post_id: str) -> dict[str, Delivery]:
    with database.transaction() as session:
        rows = session.scalars(select(Delivery).where(Delivery.post_id == post_id))
        return {f"{row.embassy_id}/{row.platform}": row for row in rows}


def _local(database: Database, post_id: str) -> dict[str, tuple[str, dt.datetime]]:
    return {
        key.split("/")[0]: (row.local_time, row.due_at)
        for key, row in _deliveries(database, post_id).items()
    }


def test_a_post_without_a_time_takes_each_embassys_next_free_slot(
    tmp_path: Path, database: Database
) -> None:
    _campaign(tmp_path, database)  # 'launch' holds every embassy's 09:00 slot on day 1
    change = _queue(database, tmp_path)
    assert _local(database, "extra") == {
        "be-tokyo": ("2026-11-26T09:00", dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC)),
        "be-newyork": ("2026-11-25T18:30", dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC)),
        "be-paris": ("2026-11-25T18:30", dt.datetime(2026, 11, 25, 17, 30, tzinfo=dt.UTC)),
    }
    assert change.placement == {
        "be-tokyo": "2026-11-26T09:00",
        "be-newyork": "2026-11-25T18:30",
        "be-paris": "2026-11-25T18:30",
    }


def test_the_next_queued_post_takes_the_following_slot(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    _queue(database, tmp_path, "first")
    _queue(database, tmp_path, "second", text={"en": "{embassy}: a second word."})
    assert {embassy: local for embassy, (local, _) in _local(database, "second").items()} == {
        "be-tokyo": "2026-11-26T18:30",
        "be-newyork": "2026-11-26T09:00",
        "be-paris": "2026-11-26T09:00",
    }


def test_a_slot_only_minutes_away_is_not_free(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database, posts=[post("launch", day=2)])
    # 07:57 UTC is 08:57 in Paris: its 09:00 slot is too close to review and approve.
    definition = {
        "id": "extra",
        "text": {"en": "Hi {embassy}"},
        "targets": {"embassies": ["be-paris"]},
    }
    soon = dt.datetime(2026, 11, 25, 7, 57, tzinfo=dt.UTC)
    queue_add(database, definition, actor="marc", folder=tmp_path, now=soon)
    assert _local(database, "extra")["be-paris"][0] == "2026-11-25T18:30"


def test_a_cancelled_delivery_frees_its_slot(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database, posts=[post("launch", day=2)])
    cancel_post(database, "launch", actor="ines", reason="moved", now=NOW)
    early = dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC)
    definition = {
        "id": "extra",
        "text": {"en": "Hi {embassy}"},
        "targets": {"embassies": ["be-paris"]},
    }
    queue_add(database, definition, actor="marc", folder=tmp_path, now=early)
    assert _local(database, "extra")["be-paris"][0] == "2026-11-25T09:00"


def test_no_free_slot_left_says_so(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    after_the_last_slot = dt.datetime(2026, 12, 11, 0, 0, tzinfo=dt.UTC)
    definition = {"id": "late", "text": {"en": "{embassy}"}}
    with pytest.raises(UsageError, match=r"no free posting slot left for be-\w+ before .*--at"):
        queue_add(database, definition, actor="marc", folder=tmp_path, now=after_the_last_slot)


def test_a_local_time_is_local_at_each_embassy(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    _queue(database, tmp_path, date="2026-12-01", time="10:00")
    local = _local(database, "extra")
    assert {time for time, _ in local.values()} == {"2026-12-01T10:00"}
    assert local["be-tokyo"][1] == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    assert local["be-newyork"][1] == dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


def test_an_instant_is_the_same_moment_everywhere(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    _queue(database, tmp_path, at="2026-12-01T12:00:00+01:00")
    assert {due for _, due in _local(database, "extra").values()} == {
        dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)
    }


def test_a_queued_post_gets_the_same_checks_as_the_file(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    with pytest.raises(CampaignFileError) as raised:
        _queue(database, tmp_path, text={"en": "x" * 400})
    messages = [str(problem) for problem in raised.value.problems]
    assert any("posts[0].text.en" in m and "expected at most 280" in m for m in messages)
    with pytest.raises(CampaignFileError) as raised:
        _queue(database, tmp_path, targets={"embassies": ["be-nowhere"]})
    assert "be-nowhere" in str(raised.value.problems[0])
    assert _deliveries(database, "extra") == {}


def test_a_secret_typed_into_any_field_of_a_queued_post_is_refused(
    tmp_path: Path, database: Database
) -> None:
    """Every field a person typed counts as written, down to an image's alt text."""
    _campaign(tmp_path, database)
    token = "ghp_" + "a1" * 12
    card = {"file": "media/card.png", "alt": {"en": token}}
    with pytest.raises(CampaignFileError) as raised:
        _queue(database, tmp_path, images=[card])
    codes = {(problem.code, problem.path) for problem in raised.value.problems}
    assert ("secret-in-file", ("posts", 0, "images", 0, "alt", "en")) in codes


def test_images_of_a_queued_post_must_exist(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    image = {"file": "media/missing.png", "alt": {"en": "A card."}}
    with pytest.raises(CampaignFileError, match="1 error"):
        _queue(database, tmp_path, images=[image])


def test_sync_leaves_queued_posts_alone(tmp_path: Path, database: Database) -> None:
    path = _campaign(tmp_path, database)
    _queue(database, tmp_path)
    before = _local(database, "extra")
    report, _ = sync_file(path, database, actor="ines", now=NOW)
    assert report.changes == []
    assert _local(database, "extra") == before


def test_approval_required_keeps_posts_waiting(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database, policies=TWO_PERSON)
    _queue(database, tmp_path)
    states = {row.state for row in _deliveries(database, "extra").values()}
    assert states == {DeliveryState.AWAITING_APPROVAL}


def test_the_two_person_rule_refuses_the_author(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database, policies=TWO_PERSON)
    _queue(database, tmp_path)
    with pytest.raises(UsageError, match=r"written by marc; .*two-person rule"):
        approve_post(database, "extra", approver="marc", now=NOW)
    campaign, version, released, _late = approve_post(database, "extra", approver="ines", now=NOW)
    assert (campaign, version, released) == ("orange-2026", 1, 7)
    states = {row.state for row in _deliveries(database, "extra").values()}
    assert states == {DeliveryState.SCHEDULED}
    with database.transaction() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["queue add", "approve"]


def test_without_the_rule_the_author_may_approve(tmp_path: Path, database: Database) -> None:
    _campaign(
        tmp_path, database, policies={"approval": {"required": True, "two_person_rule": False}}
    )
    _queue(database, tmp_path)
    assert approve_post(database, "extra", approver="marc", now=NOW)[2] == 7
    with pytest.raises(StoreError, match="already approved"):
        approve_post(database, "extra", approver="ines", now=NOW)


def test_editing_takes_the_approval_away(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database, policies=TWO_PERSON)
    _queue(database, tmp_path)
    approve_post(database, "extra", approver="ines", now=NOW)
    change = queue_edit(
        database,
        "extra",
        {"text": {"en": "{embassy}: digital violence is violence."}},
        actor="marc",
        folder=tmp_path,
        now=NOW,
    )
    assert change.version == 2
    rows = _deliveries(database, "extra")
    assert {row.state for row in rows.values()} == {DeliveryState.AWAITING_APPROVAL}
    assert rows["be-tokyo/x"].payload["text"].startswith("Embassy of Belgium in Tokyo: digital")
    # The edit kept the slots chosen when the post was queued.
    assert rows["be-tokyo/x"].local_time == "2026-11-26T09:00"


def test_editing_an_approved_file_post_on_sync_takes_the_approval_away(
    tmp_path: Path, database: Database
) -> None:
    path = _campaign(tmp_path, database, policies=TWO_PERSON)
    approve_post(database, "launch", approver="marc", now=NOW)
    assert {r.state for r in _deliveries(database, "launch").values()} == {"scheduled"}
    write_campaign(tmp_path, posts=[post(text={"en": "{embassy}: new."})], policies=TWO_PERSON)
    sync_file(path, database, actor="ines", now=NOW)
    assert {r.state for r in _deliveries(database, "launch").values()} == {"awaiting_approval"}


def test_cancel_stops_every_copy_not_yet_sent(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    with database.transaction() as session:
        session.execute(
            update(Delivery).where(Delivery.key.endswith("be-tokyo/x/1")).values(state="sent")
        )
    change = cancel_post(database, "launch", actor="ines", reason="legal review", now=NOW)
    assert change.report.counts() == {ChangeKind.CANCELLED: 6, ChangeKind.REMOVED_AFTER_SENT: 1}
    states = {key: row.state for key, row in _deliveries(database, "launch").items()}
    assert states.pop("be-tokyo/x") == "sent"
    assert set(states.values()) == {"cancelled"}


def test_a_file_post_is_edited_in_the_file_not_the_queue(
    tmp_path: Path, database: Database
) -> None:
    _campaign(tmp_path, database)
    with pytest.raises(UsageError, match="edit it there, then sync"):
        queue_edit(database, "launch", {"text": {"en": "x"}}, actor="m", folder=tmp_path)


def test_the_team_workflow_from_the_command_line(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sync, queue into the next slot, approve, cancel another; on SQLite and PostgreSQL."""
    path = write_campaign(tmp_path, posts=[post("launch", day=16), post("day15", day=15)],
                          policies=TWO_PERSON)  # fmt: skip
    runner = CliRunner()
    env = {"CAMPAIGN_DATABASE": database_url}

    def run(*args: str) -> Any:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        return result

    assert run("sync", str(path), "--as", "ines").exit_code == 0
    monkeypatch.chdir(tmp_path)  # queued images are relative to the current folder
    queued = run("queue", "add", "--id", "extra", "--text", "en={embassy} stands with survivors.",
                 "--embassy", "be-paris", "--as", "marc")  # fmt: skip
    assert queued.exit_code == 0, queued.output
    assert "be-paris: next free slot" in queued.output
    refused = run("approve", "extra", "--as", "marc")
    assert refused.exit_code == 2 and "two-person rule" in refused.output
    assert run("approve", "extra", "--as", "ines").exit_code == 0
    assert run("queue", "cancel", "day15", "--reason", "replaced", "--as", "ines").exit_code == 0
    listing = run("queue", "list", "--all", "--json")
    posts = {row["id"]: row for row in json.loads(listing.output)}
    assert posts["extra"]["states"] == {"scheduled": 2}
    assert posts["day15"]["states"] == {"cancelled": 7} and posts["day15"]["cancelled"]
    assert posts["launch"]["states"] == {"awaiting_approval": 7}


def test_a_queued_post_repeating_an_x_text_is_refused(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    _queue(database, tmp_path, "first")
    with pytest.raises(CampaignFileError) as raised:
        _queue(database, tmp_path, "second")  # the same words, on the same X accounts
    messages = [str(problem) for problem in raised.value.problems]
    assert any("repeated-x-text" in p.code for p in raised.value.problems)
    assert any("already posts this text in first" in m for m in messages)
    assert _deliveries(database, "second") == {}
