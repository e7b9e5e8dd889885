"""Opening the store: locations, migrations, schema checks, and UTC instants on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from scheduler.errors import ConfigurationError, StoreError
from scheduler.store.database import (
    SCHEMA_REVISION,
    Database,
    alembic_config,
    current_revision,
    database_url,
    head_revision,
    open_database,
    upgrade,
)
from scheduler.store.schema import AuditEntry, Base


def test_the_revision_opened_without_alembic_is_alembics_head(database: Database) -> None:
    """A database stamped SCHEMA_REVISION is opened without loading alembic: a new migration
    must move it, or every command would take an older schema for the current one."""
    with database.engine.connect() as connection:
        scripts = ScriptDirectory.from_config(alembic_config(connection))
    assert scripts.get_current_head() == SCHEMA_REVISION == head_revision()


def test_a_new_database_is_created_at_the_current_schema(database: Database) -> None:
    assert current_revision(database) == head_revision()


def test_the_migrations_create_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_database_from_a_newer_program_is_refused(database_url: str) -> None:
    database = open_database(database_url)
    with database.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    database.close()
    newer = r"revision ffff, newer than this version .*upgrade the program"
    with pytest.raises(StoreError, match=newer):
        open_database(database_url)


def _database_at(url: str, revision: str) -> None:
    """A database as an older version of the program left it."""
    database = open_database(url, check_schema=False)
    with database.engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()
    database.close()


def test_a_database_behind_the_code_names_campaign_db_upgrade(database_url: str) -> None:
    _database_at(database_url, "0001")
    with pytest.raises(
        StoreError, match=rf"older than this program's {head_revision()}: .*db upgrade"
    ):
        open_database(database_url)


def test_db_upgrade_migrates_an_older_database_keeping_its_data(database_url: str) -> None:
    _database_at(database_url, "0001")
    database = open_database(database_url, check_schema=False)
    with database.transaction() as session:
        session.execute(
            text("INSERT INTO audit_log (at, actor, action, details) VALUES (:at, 'a', 'b', '{}')"),
            {"at": dt.datetime(2026, 11, 1, 12, 0)},
        )
    assert upgrade(database) == ("0001", head_revision())
    database.close()
    reopened = open_database(database_url)
    with reopened.transaction() as session:
        assert session.scalars(select(AuditEntry.actor)).all() == ["a"]
    with reopened.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    reopened.close()
    assert differences == []


def test_tables_without_a_revision_are_not_taken_over(database_url: str) -> None:
    database = open_database(database_url, check_schema=False)
    with database.transaction() as session:
        session.execute(text("CREATE TABLE someone_elses (id INTEGER)"))
    database.close()
    with pytest.raises(StoreError, match="not a campaign database"):
        open_database(database_url)


def test_instants_come_back_as_aware_utc(database: Database) -> None:
    tokyo = dt.datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    with database.transaction() as session:
        session.add(AuditEntry(at=tokyo, actor="test", action="check", details={}))
    with database.transaction() as session:
        stored = session.scalars(select(AuditEntry.at)).one()
    assert stored == tokyo
    assert stored.tzinfo == dt.UTC
    assert stored.hour == 1


def test_a_naive_instant_is_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.transaction() as session:
        session.add(AuditEntry(at=dt.datetime(2026, 11, 25), actor="t", action="a", details={}))
        session.flush()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    database = open_database(str(tmp_path / "c.db"))
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.close()


def test_location_from_option_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAMPAIGN_DATABASE", raising=False)
    assert database_url(None).database == str(tmp_path / "campaign.db")
    monkeypatch.setenv("CAMPAIGN_DATABASE", "shared.db")
    assert database_url(None).database == str(tmp_path / "shared.db")
    assert database_url("other.db").database == str(tmp_path / "other.db")
    postgres = database_url("postgresql://ops:s3cret@db.example/campaign")
    assert postgres.drivername == "postgresql+psycopg"


def test_the_printed_location_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ops:s3cret-pw@127.0.0.1:1/none"
    with pytest.raises(StoreError) as raised:
        open_database(url)
    assert "s3cret-pw" not in str(raised.value)
    assert "postgresql://ops@127.0.0.1:1/none" in str(raised.value)


def test_an_unsupported_database_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="mysql is not supported"):
        database_url("mysql://root@127.0.0.1/test")


def test_a_snapshot_sees_one_state_and_does_not_block_writers(database_url: str) -> None:
    reader, writer = open_database(database_url), open_database(database_url)
    count = select(func.count(AuditEntry.id))
    try:
        with reader.snapshot() as session:
            assert session.execute(count).scalar() == 0
            with writer.transaction() as other:  # on SQLite: would wait for the reader's lock
                other.add(AuditEntry(at=dt.datetime.now(dt.UTC), actor="t", action="a", details={}))
            assert session.execute(count).scalar() == 0  # still the state it started with
        with reader.snapshot() as session:
            assert session.execute(count).scalar() == 1
    finally:
        reader.close()
        writer.close()


def test_upgrade_to_0003_names_deliveries_that_share_a_post(
    tmp_path: Path, database_url: str
) -> None:
    """0003 makes (account, remote id) unique: two deliveries holding one post are named."""
    from campaign_builders import post, write_campaign

    from scheduler.service.sync import sync_file

    path = write_campaign(tmp_path, posts=[post("a", time="09:00"), post("b", time="10:00")])
    database = open_database(database_url)
    sync_file(path, database, actor="ines")
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0002")
        connection.commit()
    with database.transaction() as session:
        session.execute(
            text(
                "UPDATE deliveries SET remote_id = 'same' WHERE embassy_id = 'be-paris' "
                "AND platform = 'mastodon'"
            )
        )
    with pytest.raises(StoreError, match=r"a/be-paris/mastodon/1 \(same\).*settle all but one"):
        upgrade(database)
    assert current_revision(database) == "0002"
    database.close()


def test_upgrade_to_0004_moves_copies_retracted_before_it_to_retracted(
    tmp_path: Path, database_url: str
) -> None:
    """Before 0004 a retracted copy stayed `sent`, with only `retracted_at`: the upgrade moves it
    to `retracted`, naming who from the audit log; the others stay as they were. A downgrade
    gives an older version back the state it knows."""
    from campaign_builders import post, write_campaign

    from scheduler.service.sync import sync_file
    from scheduler.store.schema import Delivery

    path = write_campaign(tmp_path, posts=[post("a", time="09:00")])
    database = open_database(database_url)
    sync_file(path, database, actor="ines")
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0003")
        connection.commit()
    retracted = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    with database.transaction() as session:
        session.execute(
            text(
                "UPDATE deliveries SET state = 'sent', remote_id = key, sent_at = :sent,"
                " retracted_at = CASE WHEN platform = 'x' THEN :at END"
            ),
            {"sent": retracted - dt.timedelta(days=1), "at": retracted},
        )
        keys = session.scalars(text("SELECT key FROM deliveries WHERE platform = 'x'")).all()
        for actor, at in (("ines", retracted - dt.timedelta(hours=1)), ("marc", retracted)):
            session.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, subject, details)"
                    " VALUES (:at, :actor, 'retract', :key, '{}')"
                ),
                [{"at": at, "actor": actor, "key": key} for key in keys],
            )
    assert upgrade(database) == ("0003", head_revision())
    with database.snapshot() as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.key)))
    x = [row for row in rows if row.platform == "x"]
    others = [row for row in rows if row.platform != "x"]
    assert x and others
    assert {(r.state, r.state_since, r.retracted_by, r.retraction_reason) for r in x} == {
        ("retracted", retracted, "marc", "not recorded (retracted before the reason was kept)")
    }
    assert {(r.state, r.retracted_by, r.platform_sent_at) for r in others} == {("sent", None, None)}
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0003")
        connection.commit()
    with database.snapshot() as session:
        states = set(session.scalars(text("SELECT DISTINCT state FROM deliveries")))
    assert states == {"sent"}
    database.close()
