"""`campaign db` and `campaign sync` through click's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from campaign_builders import post, write_campaign
from click.testing import CliRunner, Result
from sqlalchemy import text

from scheduler.cli import main
from scheduler.store.database import alembic_config, head_revision, open_database


def _run(database_url: str, *args: str) -> Result:
    env = {"CAMPAIGN_DATABASE": database_url, "CAMPAIGN_USER": "ines"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_db_upgrade_creates_then_says_there_is_nothing_to_do(database_url: str) -> None:
    first = _run(database_url, "db", "upgrade")
    assert first.exit_code == 0
    assert f"upgraded from empty to schema revision {head_revision()}" in first.output
    again = _run(database_url, "db", "upgrade")
    assert f"already at schema revision {head_revision()}" in again.output
    revision = _run(database_url, "db", "revision")
    assert f"at {head_revision()}; this program expects {head_revision()}" in revision.output


def test_an_outdated_database_exits_1_naming_db_upgrade(tmp_path: Path, database_url: str) -> None:
    database = open_database(database_url, check_schema=False)
    with database.engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.commit()
    database.close()
    result = _run(database_url, "sync", str(write_campaign(tmp_path)))
    assert result.exit_code == 1
    assert "run `campaign db upgrade`" in result.output
    assert "Traceback" not in result.output
    upgraded = _run(database_url, "db", "upgrade")
    assert f"upgraded from 0001 to schema revision {head_revision()}" in upgraded.output
    assert _run(database_url, "sync", str(write_campaign(tmp_path))).exit_code == 0


def test_sync_prints_one_line_per_post_and_a_summary(tmp_path: Path, database_url: str) -> None:
    path = write_campaign(tmp_path, posts=[post("launch"), post("day2", day=2)])
    result = _run(database_url, "sync", str(path))
    assert result.exit_code == 0, result.output
    assert "added: post launch: 7 deliveries" in result.output
    assert "orange-2026: changed: 14 added; 0 unchanged; posts: 2 new" in result.output


def test_sync_dry_run_json_lists_the_changes_and_writes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    path = write_campaign(tmp_path)
    result = _run(database_url, "sync", str(path), "--dry-run", "--json")
    document: dict[str, Any] = json.loads(result.output)
    assert document["dry_run"] is True
    assert document["counts"] == {"added": 7}
    assert document["changes"][0]["delivery"].startswith("orange-2026/launch/")
    database = open_database(database_url)
    with database.transaction() as session:
        assert session.execute(text("SELECT COUNT(*) FROM deliveries")).scalar() == 0
    database.close()


def test_sync_of_a_broken_file_exits_1_with_located_problems(
    tmp_path: Path, database_url: str
) -> None:
    path = write_campaign(tmp_path, posts=[post("launch", day=40)])
    result = _run(database_url, "sync", str(path))
    assert result.exit_code == 1
    assert f"{path}:" in result.output and "posts[0].day" in result.output


def test_the_settings_file_names_the_database_when_nothing_else_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "daemon.db"
    config = tmp_path / "campaign.toml"
    config.write_text(f'database = "{database}"\n', encoding="utf-8")
    monkeypatch.delenv("CAMPAIGN_DATABASE", raising=False)
    monkeypatch.chdir(tmp_path)
    env = {"CAMPAIGN_CONFIG": str(config), "CAMPAIGN_USER": "ines"}
    result = CliRunner().invoke(main, ["sync", str(write_campaign(tmp_path))], env=env)
    assert result.exit_code == 0, result.output
    assert database.exists() and not (tmp_path / "campaign.db").exists()
