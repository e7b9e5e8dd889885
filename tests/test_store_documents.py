"""The JSON documents the store keeps (scheduler/store/documents.py): each reads back exactly as
written, a document written before versions were stored reads as version 1, and a version from
a newer program is refused rather than misread. The store tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import image, post, write_campaign
from sqlalchemy import select, update

from scheduler.daemon.outgoing import outgoing_part
from scheduler.errors import SchemaMismatch
from scheduler.service.queue import queue_add, queue_edit
from scheduler.service.sync import sync_file
from scheduler.service.validation import valid_file
from scheduler.store.database import Database
from scheduler.store.documents import CampaignDefinition, DeliveryPayload, PostDefinition
from scheduler.store.schema import Campaign, Delivery, Post

SYNCED = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)

PAYLOAD_BEFORE_VERSIONS = {
    "account": "@be_tokyo",
    "credentials": "be-tokyo-x",
    "instance": None,
    "text": "Belgium stands with the campaign.",
    "media": [
        {
            "sha256": "ab" * 32,
            "file": "media/card.png",
            "mime": "image/png",
            "width": 16,
            "height": 9,
            "alt": "An orange banner.",
            "alt_language": "en",
        }
    ],
    "content_warning": None,
    "visibility": "public",
    "replies": "everyone",
    "length": 33,
    "limit": 280,
    "source": "posts.0.text.en",
}
POST_BEFORE_VERSIONS = {"id": "launch", "day": 1, "text": {"en": "{embassy} stands with us."}}


def _synced(tmp_path: Path, database: Database) -> Path:
    path = write_campaign(tmp_path, posts=[post(), post("day2", day=2, images=[image()])])
    sync_file(path, database, actor="ines", now=SYNCED)
    return path


def _post(database: Database, post_id: str) -> Post:
    with database.transaction() as session:
        found = session.scalars(select(Post).where(Post.id == post_id)).one()
        session.expunge(found)
        return found


# --- every stored document reads back as written ----------------------------------------------


def test_every_stored_document_reads_back_exactly_as_written(
    tmp_path: Path, database: Database
) -> None:
    _synced(tmp_path, database)
    with database.snapshot() as session:
        for campaign in session.scalars(select(Campaign)):
            assert CampaignDefinition.of(campaign).to_stored() == campaign.definition
        for stored in session.scalars(select(Post)):
            definition = PostDefinition.of(stored)
            assert definition.to_stored() == stored.definition
            assert definition.version == 1 and definition.digest == stored.definition_hash
        rows = list(session.scalars(select(Delivery)))
        assert any(row.payload["media"] for row in rows)
        for row in rows:
            assert DeliveryPayload.of(row).to_stored() == row.payload


def test_a_payload_written_out_for_sync_is_the_models_own() -> None:
    # Sync stores DeliveryPayload.stored_from_plan (no model per delivery, for speed): the
    # repository's campaign has threads, images, content warnings and Mastodon instances.
    checked = valid_file(Path(__file__).resolve().parent.parent / "campaigns.yaml")
    assert checked.plan is not None
    deliveries = checked.plan.deliveries
    assert any(d.media for d in deliveries) and any(d.content_warning for d in deliveries)
    assert any(d.instance for d in deliveries) and any(d.parts > 1 for d in deliveries)
    for planned in deliveries:
        written = DeliveryPayload.stored_from_plan(planned)
        assert written == DeliveryPayload.planned(planned).to_stored()


def test_stored_documents_carry_their_version(tmp_path: Path, database: Database) -> None:
    _synced(tmp_path, database)
    with database.snapshot() as session:
        assert session.scalars(select(Campaign.definition)).one()["version"] == 1
        assert {d["v"] for d in session.scalars(select(Post.definition))} == {1}
        assert {p["v"] for p in session.scalars(select(Delivery.payload))} == {1}


# --- documents written before versions were stored --------------------------------------------


def test_a_payload_without_a_version_reads_as_version_1() -> None:
    payload = DeliveryPayload.from_stored(PAYLOAD_BEFORE_VERSIONS, "delivery d")
    assert payload.version == 1
    assert payload.text == "Belgium stands with the campaign."
    assert payload.media[0].alt == "An orange banner." and payload.media[0].width == 16
    assert payload.to_stored() == {"v": 1, **PAYLOAD_BEFORE_VERSIONS}


def test_a_post_without_a_version_reads_as_version_1_with_the_same_fingerprint() -> None:
    definition = PostDefinition.from_stored(POST_BEFORE_VERSIONS, "post p")
    assert definition.version == 1 and definition.fields == POST_BEFORE_VERSIONS
    assert definition.digest == PostDefinition(POST_BEFORE_VERSIONS).digest
    assert definition.post.text == {"en": "{embassy} stands with us."}


def test_a_campaign_definition_without_a_version_reads_as_version_1(
    tmp_path: Path, database: Database
) -> None:
    _synced(tmp_path, database)
    with database.snapshot() as session:
        stored = dict(session.scalars(select(Campaign.definition)).one())
    del stored["version"]
    definition = CampaignDefinition.from_stored(stored, "campaign c")
    assert definition.version == 1
    assert definition.policies.late.spacing == dt.timedelta(minutes=2)


def test_posts_stored_before_versions_are_not_edited_by_the_next_sync(
    tmp_path: Path, database: Database
) -> None:
    """No migration: an old row (no version in its definition) keeps its post version, so its
    approval still holds, and a queued one can still be edited."""
    path = _synced(tmp_path, database)
    queue_add(database, {"id": "extra", "text": {"en": "{embassy} says no."}},
              actor="marc", folder=tmp_path, now=NOW)  # fmt: skip
    with database.transaction() as session:
        for stored in session.scalars(select(Post)):
            old_shape = {key: value for key, value in stored.definition.items() if key != "v"}
            session.execute(update(Post).where(Post.id == stored.id).values(definition=old_shape))
    report, _ = sync_file(path, database, actor="ines", now=SYNCED)
    assert report.posts_edited == [] and not report.changes
    assert _post(database, "launch").version == 1
    change = queue_edit(database, "extra", {"text": {"en": "{embassy} says no, again."}},
                        actor="marc", folder=tmp_path, now=NOW)  # fmt: skip
    assert change.version == 2
    assert _post(database, "extra").definition["v"] == 1


# --- versions from a newer program are refused ------------------------------------------------


def test_a_payload_of_a_newer_version_is_refused() -> None:
    with pytest.raises(SchemaMismatch, match=r"delivery d: stored in format 2, .*newer version"):
        DeliveryPayload.from_stored({**PAYLOAD_BEFORE_VERSIONS, "v": 2}, "delivery d")


@pytest.mark.parametrize("version", [0, "1", None, True])
def test_a_payload_whose_version_is_no_version_is_refused(version: Any) -> None:
    with pytest.raises(SchemaMismatch, match=r"delivery d: .* is not a format version"):
        DeliveryPayload.from_stored({**PAYLOAD_BEFORE_VERSIONS, "v": version}, "delivery d")


def test_a_post_of_an_unknown_version_is_refused() -> None:
    with pytest.raises(SchemaMismatch, match="post p: stored in format 2"):
        PostDefinition.from_stored({**POST_BEFORE_VERSIONS, "v": 2}, "post p")


def test_a_campaign_definition_of_an_unknown_version_is_refused(
    tmp_path: Path, database: Database
) -> None:
    _synced(tmp_path, database)
    with database.transaction() as session:
        campaign = session.scalars(select(Campaign)).one()
        campaign.definition = {**campaign.definition, "version": 2}
        session.flush()
        with pytest.raises(SchemaMismatch, match="campaign orange-2026: stored in format 2"):
            CampaignDefinition.of(campaign)


def test_a_post_that_does_not_fit_its_format_is_refused() -> None:
    damaged = PostDefinition.from_stored({**POST_BEFORE_VERSIONS, "day": "soon"}, "post p")
    with pytest.raises(SchemaMismatch, match=r"post p: .*does not fit its format: day"):
        assert damaged.post


def test_a_payload_that_does_not_fit_its_format_is_refused() -> None:
    damaged = {key: value for key, value in PAYLOAD_BEFORE_VERSIONS.items() if key != "text"}
    with pytest.raises(SchemaMismatch, match=r"delivery d: .*does not fit its format: text"):
        DeliveryPayload.from_stored(damaged, "delivery d")


def test_the_daemon_refuses_to_send_a_payload_from_a_newer_program(
    tmp_path: Path, database: Database
) -> None:
    _synced(tmp_path, database)
    with database.transaction() as session:
        row = session.scalars(select(Delivery).order_by(Delivery.key)).first()
        assert row is not None
        row.payload = {**row.payload, "v": 2}
        session.flush()
        with pytest.raises(SchemaMismatch, match=f"delivery {row.key}: stored in format 2"):
            outgoing_part(session, row)
