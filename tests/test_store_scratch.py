"""The scratch copy behind `campaign run --dry-run`: every row copied, the source untouched."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from campaign_builders import image, post, write_campaign
from sqlalchemy import make_url, select
from store_dump import dump

from scheduler.errors import DatabaseUnavailable, StoreError
from scheduler.service.control import pause
from scheduler.service.sync import sync_file
from scheduler.service.users import Role, add_user, log_in
from scheduler.store.database import (
    Database,
    alembic_config,
    current_revision,
    head_revision,
    open_database,
)
from scheduler.store.pauses import Scope
from scheduler.store.schema import (
    Alert,
    Approval,
    Attempt,
    Delivery,
    EngagementCheck,
    EngagementRun,
    EngagementSnapshot,
    Worker,
)
from scheduler.store.scratch import copy_to_sqlite, open_source

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def _fill(tmp_path: Path, database: Database) -> None:
    """A row in every table: a synced campaign with an image, and a daemon's traces."""
    posts = [post("launch", images=[image()]), post("d2")]
    path = write_campaign(tmp_path / "campaign", posts=posts)
    sync_file(path, database, actor="ines", now=NOW)
    pause(database, Scope(platform="x"), reason="X is down", actor="ines", now=NOW)
    add_user(database, "ines", Role.ADMIN, "a long password", actor="ines", now=NOW)
    log_in(database, "ines", "a long password", now=NOW)
    with database.transaction() as session:
        delivery = session.scalars(select(Delivery).order_by(Delivery.id)).first()
        assert delivery is not None
        session.add_all(
            [
                Approval(campaign_id=delivery.campaign_id, post_id="d2", version=1,
                         approver="marc", at=NOW),
                Attempt(delivery_id=delivery.id, number=1, worker="w1", idempotency_key="k1",
                        started_at=NOW, ended_at=NOW, outcome="sent", remote_id="1"),
                Alert(created_at=NOW, kind="missed", message="late", sent_at=NOW),
                Worker(name="w1", host="h", pid=1, started_at=NOW, seen_at=NOW),
            ]
        )  # fmt: skip
        run = EngagementRun(started_at=NOW, trigger="command", notes={"v": 1})
        session.add(run)
        session.flush()
        session.add_all(
            [
                EngagementSnapshot(delivery_id=delivery.id, fetched_at=NOW, metric="likes",
                                   value=3, run_id=run.id),
                EngagementCheck(delivery_id=delivery.id, checked_at=NOW, gone=False, run_id=run.id),
            ]
        )  # fmt: skip


@pytest.fixture
def source(tmp_path: Path, database_url: str) -> Iterator[Database]:
    with closing(open_database(database_url)) as filled:
        _fill(tmp_path, filled)
    with closing(open_source(database_url)) as opened:
        yield opened


def test_every_row_of_every_table_is_copied(tmp_path: Path, source: Database) -> None:
    before = dump(source)
    assert all(before.values()), "the source has a row in every table"
    copy = copy_to_sqlite(source, tmp_path / "scratch" / "dry-run.db", batch=2)
    try:
        # The dashboard's users and sessions stay behind: no password hash in a scratch folder.
        assert dump(copy) == {**before, "users": [], "web_sessions": []}
        assert current_revision(copy) == head_revision()
        assert copy.dialect == "sqlite"
    finally:
        copy.close()
    assert dump(source) == before


def test_the_source_file_is_not_changed(tmp_path: Path) -> None:
    target = tmp_path / "campaign.db"
    with closing(open_database(str(target))) as filled:
        _fill(tmp_path, filled)
    # Closed: the last connection has checkpointed the WAL into the file, which is now all.
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with closing(open_source(str(target))) as source:
        copy_to_sqlite(source, tmp_path / "dry-run.db").close()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest
    assert not Path(f"{target}-wal").exists()


def test_the_source_refuses_writes(tmp_path: Path, source: Database) -> None:
    refused = pytest.raises(DatabaseUnavailable, match=r"(?i)read.only|readonly")
    with refused, source.transaction() as session:
        session.add(Worker(name="w2", host="h", pid=2, started_at=NOW, seen_at=NOW))


def test_a_missing_sqlite_file_is_refused_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "campaign.db"
    with pytest.raises(StoreError, match=rf"no database at {missing}: nothing to copy"):
        open_source(str(missing))
    assert not missing.parent.exists()


def test_an_empty_database_is_refused_not_migrated(database_url: str) -> None:
    with closing(open_database(database_url, check_schema=False)) as blank:
        assert current_revision(blank) is None  # and on SQLite, an empty file now exists
    with pytest.raises(StoreError, match="no schema revision: it is not a campaign database"):
        open_source(database_url)
    with closing(open_database(database_url, check_schema=False)) as blank:
        assert current_revision(blank) is None


def test_the_copy_goes_to_a_new_file_only(tmp_path: Path, source: Database) -> None:
    taken = tmp_path / "dry-run.db"
    taken.write_bytes(b"")
    with pytest.raises(StoreError, match="already exists: a scratch copy goes to a new file"):
        copy_to_sqlite(source, taken)


def test_a_missing_postgresql_database_is_refused(postgres_server: str) -> None:
    missing = make_url(postgres_server).set(database="campaign_no_such_database")
    with pytest.raises(StoreError, match=r"no such database: .*campaign_no_such_database"):
        open_source(missing.render_as_string(hide_password=False))


def test_an_older_database_is_refused_not_migrated(database_url: str) -> None:
    older = open_database(database_url, check_schema=False)
    with closing(older), older.engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.commit()
    with pytest.raises(StoreError, match=r"at schema revision 0001, not .*campaign db upgrade"):
        open_source(database_url)
    with closing(open_database(database_url, check_schema=False)) as unchanged:
        assert current_revision(unchanged) == "0001"
