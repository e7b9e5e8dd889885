"""One store fixture, parametrized over a SQLite file and PostgreSQL.

Every test that takes ``database`` runs twice: on a fresh SQLite file, and on a fresh schema in a
PostgreSQL database made for this test session. Without a PostgreSQL server those runs skip,
saying why; with CAMPAIGN_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from scheduler.store.database import Database, open_database

POSTGRES_ADMIN_URL = os.environ.get(
    "CAMPAIGN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("CAMPAIGN_REQUIRE_POSTGRES") == "1"


def _libpq(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A database of its own for this test session; yields its SQLAlchemy URL."""
    try:
        admin = psycopg.connect(_libpq(POSTGRES_ADMIN_URL), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(f"CAMPAIGN_REQUIRE_POSTGRES=1 and {reason}")
        pytest.skip(reason)
    name = f"campaign_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_postgres_schema(url: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL (or path) to an empty database of each kind."""
    if request.param == "sqlite":
        return str(tmp_path / "campaign.db")
    url: str = request.getfixturevalue("postgres_server")
    fresh_postgres_schema(url)
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An open store at the current schema; checks that no connection is left checked out."""
    opened = open_database(database_url)
    yield opened
    checked_out = opened.engine.pool.checkedout()  # type: ignore[attr-defined]
    opened.close()
    assert checked_out == 0, f"{checked_out} connection(s) left checked out"
